package io.vsocksim.vhost;

import static io.vsocksim.uapi.VirtioRing.VIRTIO_F_NOTIFY_ON_EMPTY;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_EVENT_IDX;
import static io.vsocksim.uapi.VirtioRing.VRING_AVAIL_F_NO_INTERRUPT;
import static io.vsocksim.uapi.VirtioRing.VRING_USED_F_NO_NOTIFY;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Scripted kick / interrupt sequences; each expectation is worked out from vring_need_event(event,
 * new, old) = (u16)(new - event - 1) < (u16)(new - old), or from the two advisory flags.
 */
class NotificationSuppressionTest {
    private final Iov iov = new Iov();

    private int usedEvent(RingTestContext c) {
        return c.mem.getU16(c.addrs.availGpa() + 4 + 2L * c.addrs.num());
    }

    private int availEvent(RingTestContext c) {
        return c.mem.getU16(c.addrs.usedGpa() + 4 + 8L * c.addrs.num());
    }

    @Test
    void shouldKickAndInterruptOnlyWhenEventIndexIsCrossed() {
        RingTestContext c = new RingTestContext(8, 1L << VIRTIO_RING_F_EVENT_IDX);
        // avail_event = 0: publishing 0 -> 1 crosses it.
        c.addOutIn(0, 4, 4, "A");
        assertThat(c.driver.kick()).isTrue();
        assertThat(c.notifies).isEqualTo(1);
        // old = 1, new = 2, avail_event still 0: (2-0-1) = 1 < 1 is false.
        c.addOutIn(1, 4, 4, "B");
        c.driver.kick();
        assertThat(c.notifies).isEqualTo(1);

        c.device.disableNotify();
        int a = c.device.getVqDesc(iov);
        int b = c.device.getVqDesc(iov);
        c.device.addUsed(a, 1);
        assertThat(c.device.signal()).as("no previous signal: always").isTrue();
        c.device.addUsed(b, 2);
        // used_event = 0, old = 1, new = 2: (2-0-1) = 1 < 1 is false.
        assertThat(usedEvent(c)).isZero();
        assertThat(c.device.signal()).isFalse();
        assertThat(c.device.enableNotify()).isFalse();
        assertThat(availEvent(c)).isEqualTo(2);
        assertThat(c.calls).isEqualTo(1);

        assertThat(c.driver.getBuf()).isEqualTo("A");
        assertThat(c.driver.getBuf()).isEqualTo("B");
        assertThat(usedEvent(c)).isEqualTo(2);

        // avail_event = 2, old = 2, new = 3: (3-2-1) = 0 < 1 -> kick.
        c.addOutIn(2, 4, 4, "C");
        c.driver.kick();
        assertThat(c.notifies).isEqualTo(2);
        c.device.disableNotify();
        c.device.addUsed(c.device.getVqDesc(iov), 3);
        // used_event = 2, old = 2, new = 3 -> interrupt.
        assertThat(c.device.signal()).isTrue();
        assertThat(c.driver.getBuf()).isEqualTo("C");

        // Driver disables callbacks: used_event = 0; device returns D: (4-0-1) = 3 < 1 false.
        c.driver.disableCb();
        assertThat(usedEvent(c)).isZero();
        c.addOutIn(3, 4, 4, "D");
        c.driver.kick(); // avail_event is still 2 (not rewritten while disabled): (4-2-1) = 1 < 1 false
        assertThat(c.notifies).isEqualTo(2);
        c.device.addUsed(c.device.getVqDesc(iov), 4);
        assertThat(c.device.signal()).isFalse();
        assertThat(c.calls).isEqualTo(2);
        // Re-enabling finds the pending buffer and tells the caller to drain again.
        assertThat(c.driver.enableCb()).isFalse();
        assertThat(usedEvent(c)).isEqualTo(3);
        assertThat(c.driver.getBuf()).isEqualTo("D");
        assertThat(c.driver.enableCb()).isTrue();
    }

    @Test
    void shouldReportNewBuffersWhenTheyArriveBeforeNotificationsAreReenabled() {
        RingTestContext c = new RingTestContext(8, 1L << VIRTIO_RING_F_EVENT_IDX);
        c.device.disableNotify();
        assertThat(c.device.getVqDesc(iov)).isEqualTo(8);
        c.addOutIn(0, 4, 4, "late");
        assertThat(c.device.enableNotify()).isTrue();
        assertThat(c.device.enableNotify()).as("already enabled").isFalse();
    }

    @Test
    void shouldUseFlagsWhenEventIndexIsNotNegotiated() {
        RingTestContext c = new RingTestContext(8, 0);
        c.addOutIn(0, 4, 4, "A");
        assertThat(c.driver.kick()).isTrue();
        assertThat(c.notifies).isEqualTo(1);
        c.device.disableNotify();
        assertThat(c.mem.getU16(c.addrs.usedGpa()) & VRING_USED_F_NO_NOTIFY).isNotZero();
        c.addOutIn(1, 4, 4, "B");
        c.driver.kick();
        assertThat(c.notifies).as("NO_NOTIFY set").isEqualTo(1);

        int a = c.device.getVqDesc(iov);
        int b = c.device.getVqDesc(iov);
        c.device.addUsed(a, 0);
        assertThat(c.device.signal()).isTrue();
        c.device.addUsed(b, 0);
        assertThat(c.device.signal()).as("no batching without event idx").isTrue();

        c.driver.disableCb();
        assertThat(c.mem.getU16(c.addrs.availGpa()) & VRING_AVAIL_F_NO_INTERRUPT).isNotZero();
        assertThat(c.device.enableNotify()).isFalse();
        assertThat(c.mem.getU16(c.addrs.usedGpa()) & VRING_USED_F_NO_NOTIFY).isZero();
        c.addOutIn(2, 4, 4, "C");
        c.driver.kick();
        assertThat(c.notifies).isEqualTo(2);
        c.device.disableNotify();
        c.device.addUsed(c.device.getVqDesc(iov), 0);
        assertThat(c.device.signal()).as("NO_INTERRUPT set").isFalse();
        assertThat(c.calls).isEqualTo(2);
        assertThat(c.device.interrupts()).isEqualTo(2);
    }

    @Test
    void shouldSignalWhenAvailRingIsEmptyAndNotifyOnEmptyIsNegotiated() {
        RingTestContext c = new RingTestContext(8, 1L << VIRTIO_F_NOTIFY_ON_EMPTY);
        c.driver.disableCb();
        c.addOutIn(0, 4, 4, "A");
        c.addOutIn(1, 4, 4, "B");
        c.device.disableNotify();
        c.device.addUsed(c.device.getVqDesc(iov), 0);
        assertThat(c.device.signal()).as("one left, NO_INTERRUPT").isFalse();
        c.device.addUsed(c.device.getVqDesc(iov), 0);
        assertThat(c.device.signal()).as("ring drained").isTrue();
    }

    @Test
    void shouldSignalWhenUsedIndexWrapsPastLastSignalledValue() {
        RingTestContext c = new RingTestContext(8, 1L << VIRTIO_RING_F_EVENT_IDX);
        c.device.disableNotify();
        c.addOutIn(0, 4, 4, "first");
        c.device.addUsed(c.device.getVqDesc(iov), 0);
        assertThat(c.device.signal()).isTrue(); // signalled_used = 1
        c.driver.getBuf();
        c.driver.disableCb(); // used_event = 0
        for (int i = 0; i < 65536; i++) {
            c.addOutIn(0, 4, 4, "x");
            c.device.addUsed(c.device.getVqDesc(iov), 0);
            c.driver.getBuf();
        }
        // used idx is back at 1 == signalled_used: the old value was invalidated, so signal even though
        // vring_need_event(0, 1, 1) is false.
        assertThat(c.device.lastUsedIdx()).isEqualTo(1);
        assertThat(c.device.signal()).isTrue();
        assertThat(c.calls).isEqualTo(2);
    }

    @Test
    void shouldNeverSignalWhenNoCallEventfdIsSet() {
        RingTestContext c = new RingTestContext(8, 0);
        VhostVirtqueue silent = new VhostVirtqueue(c.mem, 0, null);
        silent.setNum(8);
        silent.setAddr(c.addrs.descGpa(), c.addrs.availGpa(), c.addrs.usedGpa());
        silent.setBackend(true);
        assertThat(silent.signal()).isFalse();
        assertThat(silent.vhostNotify()).isTrue();
    }
}
