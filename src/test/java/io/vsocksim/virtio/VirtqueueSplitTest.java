package io.vsocksim.virtio;

import static io.vsocksim.uapi.Errno.EIO;
import static io.vsocksim.uapi.VirtioRing.VRING_AVAIL_F_NO_INTERRUPT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_NEXT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.mm.GuestMemory;
import org.junit.jupiter.api.Test;

/** Driver side against a hostile device that writes the used ring directly. */
class VirtqueueSplitTest {
    private static final int N = 8;
    private static final long BUF = 0x10_0000;

    private final GuestMemory mem = new GuestMemory("guest", 4L << 20);
    private final VringAddrs addrs = VringAddrs.legacy(0x1000, N, 4096);
    private int callbacks;
    private boolean notifyOk = true;
    private final VirtqueueSplit vq = new VirtqueueSplit(mem, addrs, 0, q -> callbacks++, q -> notifyOk, null);

    private void deviceReturns(long id, long len) {
        int idx = mem.getU16(addrs.usedGpa() + 2);
        long e = addrs.usedGpa() + 4 + 8L * (idx & (N - 1));
        mem.putU32(e, id);
        mem.putU32(e + 4, len);
        mem.putU16Release(addrs.usedGpa() + 2, (idx + 1) & 0xFFFF);
    }

    private int addTwo(Object token) {
        return vq.addSgs(new long[] {BUF}, new int[] {8}, 1, new long[] {BUF + 8}, new int[] {8}, 1, token);
    }

    private void assertBroken(VirtqueueSplit.BadRing reason) {
        assertThat(vq.isBroken()).isTrue();
        assertThat(vq.brokenReason()).isEqualTo(reason);
        assertThat(vq.getBuf()).isNull();
        assertThat(addTwo("later")).isEqualTo(-EIO);
        assertThat(vq.enableCb()).as("broken: nothing pending").isTrue();
        assertThat(vq.kick()).isFalse();
    }

    @Test
    void shouldBreakQueueWhenUsedIdIsOutOfRange() {
        addTwo("a");
        deviceReturns(N, 0);
        assertThat(vq.getBuf()).isNull();
        assertBroken(VirtqueueSplit.BadRing.USED_ID_OUT_OF_RANGE);
    }

    @Test
    void shouldBreakQueueWhenUsedIdIsHugeU32() {
        addTwo("a");
        deviceReturns(0xFFFF_FFFFL, 0);
        assertThat(vq.getBuf()).isNull();
        assertBroken(VirtqueueSplit.BadRing.USED_ID_OUT_OF_RANGE);
    }

    @Test
    void shouldBreakQueueWhenUsedIdIsInsideAChain() {
        addTwo("a"); // descriptors 0 -> 1
        deviceReturns(1, 0);
        assertThat(vq.getBuf()).isNull();
        assertBroken(VirtqueueSplit.BadRing.USED_ID_NOT_A_HEAD);
    }

    @Test
    void shouldBreakQueueWhenUsedIdWasAlreadyReturned() {
        addTwo("a");
        deviceReturns(0, 16);
        assertThat(vq.getBuf()).isEqualTo("a");
        assertThat(vq.lastLen()).isEqualTo(16);
        deviceReturns(0, 16);
        assertThat(vq.getBuf()).isNull();
        assertBroken(VirtqueueSplit.BadRing.USED_ID_NOT_A_HEAD);
    }

    @Test
    void shouldHandOverUsedLengthUncheckedWhenDeviceClaimsTooMuch() {
        addTwo("a");
        deviceReturns(0, 0xFFFF_FFF0L);
        assertThat(vq.getBuf()).isEqualTo("a");
        assertThat(Integer.toUnsignedLong(vq.lastLen())).isEqualTo(0xFFFF_FFF0L);
        assertThat(vq.isBroken()).isFalse();
    }

    @Test
    void shouldBreakQueueWhenNotifyFails() {
        notifyOk = false;
        addTwo("a");
        assertThat(vq.kick()).isFalse();
        assertBroken(VirtqueueSplit.BadRing.NOTIFY_FAILED);
    }

    @Test
    void shouldStopWalkingWhenDeviceCorruptsNextFlags() {
        addTwo("a");
        for (int i = 0; i < N; i++) {
            mem.putU16(addrs.descGpa() + 16L * i + 12, VRING_DESC_F_NEXT);
        }
        deviceReturns(0, 0);
        assertThat(vq.getBuf()).isNull();
        assertThat(vq.brokenReason()).isEqualTo(VirtqueueSplit.BadRing.CHAIN_CORRUPT);
    }

    @Test
    void shouldRunCallbackOnlyWhenInterruptFindsWork() {
        assertThat(vq.vringInterrupt()).isFalse();
        addTwo("a");
        deviceReturns(0, 0);
        assertThat(vq.vringInterrupt()).isTrue();
        assertThat(callbacks).isEqualTo(1);
        assertThat(vq.interrupts()).isEqualTo(2);
    }

    @Test
    void shouldSuppressInterruptsFromStartWhenThereIsNoCallback() {
        GuestMemory m = new GuestMemory("g", 1L << 20);
        new VirtqueueSplit(m, addrs, 0, null, q -> true, null);
        assertThat(m.getU16(addrs.availGpa()) & VRING_AVAIL_F_NO_INTERRUPT).isNotZero();
    }

    @Test
    void shouldRejectBadGeometryWhenConstructed() {
        assertThatThrownBy(() -> new VirtqueueSplit(mem, new VringAddrs(0x1000, 0x2000, 0x3000, 6), 0, null, q -> true,
                null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VirtqueueSplit(mem, new VringAddrs(0x1008, 0x2000, 0x3000, 8), 0, null, q -> true,
                null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VirtqueueSplit(mem, new VringAddrs(0x1000, 0x2000, mem.size() - 8, 8), 0, null,
                q -> true, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VirtqueueSplit(mem, addrs, 0, null, q -> true, null).addSgs(new long[0],
                new int[0], 0, new long[0], new int[0], 0, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldLayOutChainReadableFirstWhenAdding() {
        assertThat(vq.addSgs(new long[] {BUF, BUF + 100}, new int[] {44, 10}, 2, new long[] {BUF + 200},
                new int[] {30}, 1, "t")).isZero();
        assertThat(mem.getU16(addrs.descGpa() + 12)).isEqualTo(VRING_DESC_F_NEXT);
        assertThat(mem.getU16(addrs.descGpa() + 14)).isEqualTo(1);
        assertThat(mem.getU16(addrs.descGpa() + 16 + 12)).isEqualTo(VRING_DESC_F_NEXT);
        assertThat(mem.getU16(addrs.descGpa() + 32 + 12)).as("WRITE, no NEXT").isEqualTo(2);
        assertThat(mem.getU32(addrs.descGpa() + 32 + 8)).isEqualTo(30);
        assertThat(mem.getU16(addrs.availGpa() + 2)).isEqualTo(1);
        assertThat(mem.getU16(addrs.availGpa() + 4)).isZero();
        assertThat(vq.numFree()).isEqualTo(N - 3);
        assertThat(vq.buffersAdded()).isEqualTo(1);
    }
}
