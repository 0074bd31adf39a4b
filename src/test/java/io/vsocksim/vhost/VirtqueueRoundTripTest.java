package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.ENOSPC;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_EVENT_IDX;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_INDIRECT_DESC;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Driver and device on the same ring, exchanging real chains through guest memory. */
class VirtqueueRoundTripTest {
    private final Iov iov = new Iov();

    @Test
    void shouldDeliverDeviceWrittenBytesAndLengthWhenChainRoundTrips() {
        RingTestContext c = new RingTestContext(8, 1L << VIRTIO_RING_F_EVENT_IDX);
        byte[] req = "request".getBytes(StandardCharsets.US_ASCII);
        c.mem.write(RingTestContext.outGpa(0), req, 0, req.length);
        Object token = new Object();
        assertThat(c.addOutIn(0, req.length, 64, token)).isZero();
        assertThat(c.driver.kick()).isTrue();
        assertThat(c.notifies).isEqualTo(1);

        c.device.disableNotify();
        int head = c.device.getVqDesc(iov);
        assertThat(head).isZero();
        assertThat(iov.out()).isEqualTo(1);
        assertThat(iov.in()).isEqualTo(1);
        ByteBuffer got = ByteBuffer.allocate(64);
        assertThat(iov.copyFromOut(c.mem, 0, got)).isEqualTo(req.length);
        assertThat(new String(got.array(), 0, got.position(), StandardCharsets.US_ASCII)).isEqualTo("request");
        int n = iov.copyToIn(c.mem, 0, ByteBuffer.wrap("response!".getBytes(StandardCharsets.US_ASCII)));
        c.device.addUsed(head, n);
        assertThat(c.device.signal()).isTrue();

        assertThat(c.driver.getBuf()).isSameAs(token);
        assertThat(c.driver.lastLen()).isEqualTo(9);
        byte[] back = new byte[9];
        c.mem.read(RingTestContext.inGpa(0), back, 0, 9);
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo("response!");
        assertThat(c.driver.getBuf()).isNull();
        assertThat(c.driver.numFree()).isEqualTo(8);
    }

    @Test
    void shouldRecycleFreeDescriptorsWhenBuffersReturnOutOfOrder() {
        RingTestContext c = new RingTestContext(8, 0);
        Object[] tokens = new Object[4];
        for (int i = 0; i < 4; i++) {
            tokens[i] = "t" + i;
            assertThat(c.addOutIn(i, 16, 16, tokens[i])).isZero(); // 2 descriptors each
        }
        assertThat(c.driver.numFree()).isZero();
        assertThat(c.addOutIn(5, 16, 16, "overflow")).isEqualTo(-ENOSPC);
        assertThat(c.notifies).as("ENOSPC with readable parts prods the device").isEqualTo(1);

        c.device.disableNotify();
        int[] heads = new int[4];
        for (int i = 0; i < 4; i++) {
            heads[i] = c.device.getVqDesc(iov);
        }
        assertThat(c.device.getVqDesc(iov)).isEqualTo(8);
        // Return in reverse order, as a batch.
        c.device.addUsedN(new int[] {heads[3], heads[1], heads[2], heads[0]}, new int[] {3, 1, 2, 0}, 4);
        assertThat(c.driver.getBuf()).isEqualTo("t3");
        assertThat(c.driver.lastLen()).isEqualTo(3);
        assertThat(c.driver.getBuf()).isEqualTo("t1");
        assertThat(c.driver.getBuf()).isEqualTo("t2");
        assertThat(c.driver.getBuf()).isEqualTo("t0");
        assertThat(c.driver.numFree()).isEqualTo(8);
        for (int i = 0; i < 4; i++) {
            assertThat(c.addOutIn(i, 8, 8, "again" + i)).isZero();
        }
        for (int i = 0; i < 4; i++) {
            assertThat(c.device.getVqDesc(iov)).isBetween(0, 7);
            assertThat(iov.out()).isEqualTo(1);
            assertThat(iov.in()).isEqualTo(1);
        }
        assertThat(c.device.errors()).isZero();
    }

    @Test
    void shouldNotProdDeviceWhenFullBufferIsWriteOnly() {
        RingTestContext c = new RingTestContext(1, 0);
        assertThat(c.driver.addSgs(new long[0], new int[0], 0, new long[] {0x40_0000}, new int[] {8}, 1, "a")).isZero();
        assertThat(c.driver.addSgs(new long[0], new int[0], 0, new long[] {0x40_0000}, new int[] {8}, 1, "b"))
                .isEqualTo(-ENOSPC);
        assertThat(c.notifies).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 256})
    void shouldKeepBothSidesInStepWhenIndicesWrapPast65535(int num) {
        RingTestContext c = new RingTestContext(num, 1L << VIRTIO_RING_F_EVENT_IDX);
        Integer[] tokens = new Integer[num];
        for (int i = 0; i < num; i++) {
            tokens[i] = i;
        }
        int rounds = 70_000;
        int sent = 0;
        int received = 0;
        c.device.disableNotify();
        while (received < rounds) {
            int batch = Math.min(num / 2, rounds - sent); // two descriptors per chain
            for (int b = 0; b < batch; b++) {
                assertThat(c.addOutIn(sent % num, 4, 4, tokens[sent % num])).isZero();
                sent++;
            }
            c.driver.kick();
            int head;
            while ((head = c.device.getVqDesc(iov)) != num) {
                assertThat(head).isBetween(0, num - 1);
                c.device.addUsed(head, 4);
            }
            c.device.signal();
            Object t;
            while ((t = c.driver.getBuf()) != null) {
                assertThat(t).isEqualTo(received % num);
                received++;
            }
        }
        assertThat(sent).isEqualTo(rounds);
        assertThat(c.driver.availIdxShadow()).isEqualTo(rounds & 0xFFFF);
        assertThat(c.device.lastAvailIdx()).isEqualTo(rounds & 0xFFFF);
        assertThat(c.device.lastUsedIdx()).isEqualTo(rounds & 0xFFFF);
        assertThat(c.driver.lastUsedIdx()).isEqualTo(rounds & 0xFFFF);
        assertThat(c.device.errors()).isZero();
        assertThat(c.driver.isBroken()).isFalse();
        assertThat(c.driver.numFree()).isEqualTo(num);
        assertThat(c.driver.buffersUsed()).isEqualTo(rounds);
    }

    @Test
    void shouldForceKickWhen65535BuffersWereAddedWithoutKick() {
        RingTestContext c = new RingTestContext(8, 0);
        for (int i = 0; i < 65535; i++) {
            assertThat(c.addOutIn(0, 4, 4, "x")).isZero();
            // The device polls the ring on its own, then re-enables notifications; the driver never kicks.
            c.device.disableNotify();
            int head = c.device.getVqDesc(iov);
            c.device.addUsed(head, 0);
            c.device.enableNotify();
            assertThat(c.driver.getBuf()).isEqualTo("x");
            if (i < 65534) {
                assertThat(c.driver.kicks()).isZero();
            }
        }
        assertThat(c.driver.kicks()).isEqualTo(1);
    }

    @Test
    void shouldUseOneRingDescriptorWhenIndirectIsNegotiated() {
        long features = (1L << VIRTIO_RING_F_INDIRECT_DESC) | (1L << VIRTIO_RING_F_EVENT_IDX);
        RingTestContext c = new RingTestContext(4, features, true);
        long b = RingTestContext.BUF;
        assertThat(c.driver.addSgs(new long[] {b, b + 44}, new int[] {44, 100}, 2, new long[] {b + 4096},
                new int[] {60}, 1, "ind")).isZero();
        assertThat(c.driver.numFree()).isEqualTo(3);
        // A single sg never goes indirect.
        assertThat(c.driver.addSgs(new long[] {b}, new int[] {44}, 1, new long[0], new int[0], 0, "direct")).isZero();
        assertThat(c.driver.numFree()).isEqualTo(2);

        c.device.disableNotify();
        int head = c.device.getVqDesc(iov);
        assertThat(iov.out()).isEqualTo(2);
        assertThat(iov.in()).isEqualTo(1);
        assertThat(iov.outBytes()).isEqualTo(144);
        c.device.addUsed(head, 60);
        assertThat(c.driver.getBuf()).isEqualTo("ind");
        assertThat(c.tablesFreed).isEqualTo(1);
        assertThat(c.driver.numFree()).isEqualTo(3);
    }

    @Test
    void shouldReturnEveryUnusedBufferWhenDetachingAfterReset() {
        RingTestContext c = new RingTestContext(8, 0);
        c.addOutIn(0, 4, 4, "a");
        c.addOutIn(1, 4, 4, "b");
        c.addOutIn(2, 4, 4, "c");
        assertThat(c.driver.detachUnusedBuf()).isEqualTo("a");
        assertThat(c.driver.detachUnusedBuf()).isEqualTo("b");
        assertThat(c.driver.detachUnusedBuf()).isEqualTo("c");
        assertThat(c.driver.detachUnusedBuf()).isNull();
        assertThat(c.driver.availIdxShadow()).isZero();
        assertThat(c.driver.numFree()).isEqualTo(8);
    }
}
