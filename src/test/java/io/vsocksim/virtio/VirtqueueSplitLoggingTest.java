package io.vsocksim.virtio;

import static ch.qos.logback.classic.Level.DEBUG;
import static io.vsocksim.kernel.LoggerNames.VIRTIO_RING;
import static io.vsocksim.testing.LogCapture.line;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The driver side logs the moment a device breaks its queue ({@code BAD_RING}), once, with the queue's
 * name and the reason {@link VirtqueueSplit#brokenReason()} keeps; a second bad id logs nothing more.
 */
class VirtqueueSplitLoggingTest {
    private static final int N = 8;
    private static final long BUF = 0x10_0000;

    @RegisterExtension
    final LogCapture log = new LogCapture();
    private final GuestMemory mem = new GuestMemory("guest", 4L << 20);
    private final VringAddrs addrs = VringAddrs.legacy(0x1000, N, 4096);
    private final VirtqueueSplit vq = new VirtqueueSplit("guest3 rx", mem, addrs, 0, q -> { }, q -> true, null);

    private void deviceReturns(long id) {
        int idx = mem.getU16(addrs.usedGpa() + 2);
        long e = addrs.usedGpa() + 4 + 8L * (idx & (N - 1));
        mem.putU32(e, id);
        mem.putU32(e + 4, 0);
        mem.putU16Release(addrs.usedGpa() + 2, (idx + 1) & 0xFFFF);
    }

    @Test
    void shouldLogOnceWithTheQueueNameWhenTheDeviceReturnsAnIdOutOfRange() {
        log.capture(DEBUG, VIRTIO_RING);
        assertThat(vq.addSgs(new long[] {BUF}, new int[] {8}, 1, null, null, 0, "a")).isZero();
        deviceReturns(N);
        assertThat(vq.getBuf()).isNull();
        deviceReturns(N + 1);
        assertThat(vq.getBuf()).isNull();

        assertThat(vq.brokenReason()).isEqualTo(VirtqueueSplit.BadRing.USED_ID_OUT_OF_RANGE);
        assertThat(log.lines()).containsExactly(
                line(DEBUG, VIRTIO_RING, "guest3 rx: queue broken at last_used_idx 0: USED_ID_OUT_OF_RANGE"));
    }
}
