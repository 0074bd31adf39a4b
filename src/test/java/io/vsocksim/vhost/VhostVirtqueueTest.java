package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.E2BIG;
import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOBUFS;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_INDIRECT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_NEXT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.vsocksim.mm.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Device side against hostile rings written straight into guest memory. */
class VhostVirtqueueTest {
    private static final int N = 8;
    private static final long BUF = 0x10_0000;
    private static final long TABLE = 0x20_0000;

    private final GuestMemory mem = new GuestMemory("guest", 8L << 20);
    private final MockSplitQueue ring = new MockSplitQueue(mem, 0x1000, N);
    private final VhostVirtqueue vq = ring.device(0);
    private final Iov iov = new Iov();

    /** Asserts the fetch fails with {@code errno}/{@code reason} and leaves last_avail_idx where it was. */
    private void assertRejected(int errno, VringError reason) {
        int before = vq.lastAvailIdx();
        long errors = vq.errors();
        assertThat(vq.getVqDesc(iov)).isEqualTo(-errno);
        assertThat(vq.lastError()).isEqualTo(reason);
        assertThat(VringError.errno(reason)).isEqualTo(errno);
        assertThat(vq.errors()).isEqualTo(errors + 1);
        assertThat(vq.lastAvailIdx()).isEqualTo(before);
        // The kernel does not move on: the same chain fails again on the next kick.
        assertThat(vq.getVqDesc(iov)).isEqualTo(-errno);
        assertThat(vq.errors(reason)).isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldReturnNumWhenRingIsEmpty() {
        assertThat(vq.getVqDesc(iov)).isEqualTo(N);
        assertThat(vq.errors()).isZero();
    }

    @Test
    void shouldFetchReadableThenWritableEntriesWhenChainIsWellFormed() {
        ring.desc(3, BUF, 44, VRING_DESC_F_NEXT, 5);
        ring.desc(5, BUF + 100, 0, VRING_DESC_F_NEXT, 6); // empty buffer: no iovec
        ring.desc(6, BUF + 200, 64, VRING_DESC_F_WRITE, 0);
        ring.publish(3);
        assertThat(vq.getVqDesc(iov)).isEqualTo(3);
        assertThat(iov.out()).isEqualTo(1);
        assertThat(iov.in()).isEqualTo(1);
        assertThat(iov.gpa(0)).isEqualTo(BUF);
        assertThat(iov.len(1)).isEqualTo(64);
        assertThat(vq.lastAvailIdx()).isEqualTo(1);
    }

    @Test
    void shouldRejectHeadWhenIndexIsOutOfRange() {
        ring.publish(N);
        assertRejected(EINVAL, VringError.HEAD_OUT_OF_RANGE);
    }

    @Test
    void shouldRejectChainWhenNextIsOutOfRange() {
        ring.desc(0, BUF, 16, VRING_DESC_F_NEXT, N);
        ring.publish(0);
        assertRejected(EINVAL, VringError.DESC_OUT_OF_RANGE);
    }

    @Test
    void shouldRejectChainWhenItLoops() {
        ring.desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
        ring.desc(1, BUF, 16, VRING_DESC_F_NEXT, 0);
        ring.publish(0);
        assertRejected(EINVAL, VringError.DESC_LOOP);
    }

    @Test
    void shouldRejectChainWhenLongerThanQueue() {
        for (int i = 0; i < N; i++) {
            ring.desc(i, BUF + 16L * i, 16, VRING_DESC_F_NEXT, (i + 1) % N); // N links, back to 0
        }
        ring.publish(2);
        assertRejected(EINVAL, VringError.DESC_LOOP);
    }

    @Test
    void shouldRejectBufferWhenOutsideGuestMemory() {
        ring.desc(0, mem.size() - 8, 16, 0, 0);
        ring.publish(0);
        assertRejected(EFAULT, VringError.TRANSLATION_FAULT);
    }

    @Test
    void shouldRejectBufferWhenAddressIsHugeU64() {
        ring.desc(0, -16L, 8, VRING_DESC_F_WRITE, 0);
        ring.publish(0);
        assertRejected(EFAULT, VringError.TRANSLATION_FAULT);
    }

    @Test
    void shouldRejectReadableDescriptorWhenItFollowsWritableOne() {
        ring.desc(0, BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
        ring.desc(1, BUF + 16, 16, 0, 0);
        ring.publish(0);
        assertRejected(EINVAL, VringError.OUT_AFTER_IN);
    }

    @Test
    void shouldRejectChainWhenIovArrayOverflows() {
        Iov small = new Iov(2);
        ring.desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
        ring.desc(1, BUF + 16, 16, VRING_DESC_F_NEXT, 2);
        ring.desc(2, BUF + 32, 16, VRING_DESC_F_WRITE, 0);
        ring.publish(0);
        assertThat(vq.getVqDesc(small)).isEqualTo(-ENOBUFS);
        assertThat(vq.lastError()).isEqualTo(VringError.IOV_OVERFLOW);
        assertThat(vq.lastAvailIdx()).isZero();
    }

    @Test
    void shouldRejectAvailIndexJumpWithoutCachingItThenRecoverWhenDriverFixesIt() {
        ring.desc(0, BUF, 16, 0, 0);
        ring.setAvailIdx(N + 1);
        assertRejected(EINVAL, VringError.INVALID_AVAIL_IDX);
        assertThat(vq.availIdx()).as("6.12.117 does not cache the bad index").isZero();
        ring.mem.putU16(ring.addrs.availGpa() + 4, 0); // ring[0] = 0
        ring.setAvailIdx(1);
        assertThat(vq.getVqDesc(iov)).isZero();
        assertThat(vq.lastAvailIdx()).isEqualTo(1);
    }

    @Test
    void shouldAcceptAvailIndexJumpWhenExactlyQueueSize() {
        for (int i = 0; i < N; i++) {
            ring.desc(i, BUF + 16L * i, 16, 0, 0);
            ring.publish(i);
        }
        for (int i = 0; i < N; i++) {
            assertThat(vq.getVqDesc(iov)).isEqualTo(i);
        }
        assertThat(vq.getVqDesc(iov)).isEqualTo(N);
        assertThat(vq.errors()).isZero();
    }

    @Test
    void shouldFetchSameChainWhenDriverRepairsMalformedDescriptor() {
        ring.desc(4, BUF, 16, VRING_DESC_F_NEXT, 99);
        ring.publish(4);
        assertRejected(EINVAL, VringError.DESC_OUT_OF_RANGE);
        ring.desc(4, BUF, 16, 0, 0);
        assertThat(vq.getVqDesc(iov)).isEqualTo(4);
    }

    // ---- indirect ----------------------------------------------------------------------------------

    private void publishIndirect(long table, int len, int flags) {
        ring.desc(0, table, len, VRING_DESC_F_INDIRECT | flags, 1);
        ring.publish(0);
    }

    @Test
    void shouldFetchIndirectTableThenContinueInRingWhenIndirectHasNext() {
        MockSplitQueue.rawDesc(mem, TABLE, BUF, 44, VRING_DESC_F_NEXT, 1);
        MockSplitQueue.rawDesc(mem, TABLE + 16, BUF + 44, 100, VRING_DESC_F_NEXT, 2);
        MockSplitQueue.rawDesc(mem, TABLE + 32, BUF + 200, 50, VRING_DESC_F_WRITE, 0);
        ring.desc(1, BUF + 400, 10, VRING_DESC_F_WRITE, 0);
        publishIndirect(TABLE, 48, VRING_DESC_F_NEXT);
        assertThat(vq.getVqDesc(iov)).isZero();
        assertThat(iov.out()).isEqualTo(2);
        assertThat(iov.in()).isEqualTo(2);
        assertThat(iov.outBytes()).isEqualTo(144);
        assertThat(iov.inBytes()).isEqualTo(60);
    }

    @Test
    void shouldReadIndirectEntriesInTableOrderWhenNextFieldsPointElsewhere() {
        // get_indirect copies entries through a sequential iterator; next is not followed.
        MockSplitQueue.rawDesc(mem, TABLE, BUF, 10, VRING_DESC_F_NEXT, 2);
        MockSplitQueue.rawDesc(mem, TABLE + 16, BUF + 10, 20, VRING_DESC_F_NEXT, 0);
        MockSplitQueue.rawDesc(mem, TABLE + 32, BUF + 30, 30, 0, 1);
        publishIndirect(TABLE, 48, 0);
        assertThat(vq.getVqDesc(iov)).isZero();
        assertThat(iov.out()).isEqualTo(3);
        assertThat(iov.len(0)).isEqualTo(10);
        assertThat(iov.len(1)).isEqualTo(20);
        assertThat(iov.len(2)).isEqualTo(30);
    }

    @Test
    void shouldRejectIndirectWhenLengthIsNotMultipleOf16() {
        publishIndirect(TABLE, 40, 0);
        assertRejected(EINVAL, VringError.INDIRECT_BAD_LEN);
    }

    @Test
    void shouldRejectIndirectWhenTableHasMoreThan65536Entries() {
        publishIndirect(TABLE, 16 * 65537, 0);
        assertRejected(E2BIG, VringError.INDIRECT_TOO_BIG);
    }

    @Test
    void shouldRejectIndirectWhenTableIsOutsideGuestMemory() {
        publishIndirect(mem.size() - 16, 32, 0);
        assertRejected(EFAULT, VringError.TRANSLATION_FAULT);
    }

    @Test
    void shouldRejectIndirectWhenNested() {
        MockSplitQueue.rawDesc(mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 1);
        MockSplitQueue.rawDesc(mem, TABLE + 16, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
        publishIndirect(TABLE, 32, 0);
        assertRejected(EINVAL, VringError.INDIRECT_NESTED);
    }

    @Test
    void shouldRejectIndirectWhenEveryEntryContinues() {
        MockSplitQueue.rawDesc(mem, TABLE, BUF, 16, VRING_DESC_F_NEXT, 1);
        MockSplitQueue.rawDesc(mem, TABLE + 16, BUF, 16, VRING_DESC_F_NEXT, 0);
        publishIndirect(TABLE, 32, 0);
        assertRejected(EINVAL, VringError.INDIRECT_LOOP);
    }

    @Test
    void shouldRejectIndirectWhenEmpty() {
        publishIndirect(TABLE, 0, 0);
        assertRejected(EINVAL, VringError.INDIRECT_LOOP);
    }

    @Test
    void shouldRejectIndirectWhenReadableEntryFollowsWritableOne() {
        MockSplitQueue.rawDesc(mem, TABLE, BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
        MockSplitQueue.rawDesc(mem, TABLE + 16, BUF, 16, 0, 0);
        publishIndirect(TABLE, 32, 0);
        assertRejected(EINVAL, VringError.INDIRECT_OUT_AFTER_IN);
    }

    @Test
    void shouldRejectIndirectWhenEntryIsOutsideGuestMemory() {
        MockSplitQueue.rawDesc(mem, TABLE, mem.size(), 1, 0, 0);
        publishIndirect(TABLE, 16, 0);
        assertRejected(EFAULT, VringError.TRANSLATION_FAULT);
    }

    @Test
    void shouldRejectIndirectWhenItNeedsMoreThanUioMaxIov() {
        int entries = Iov.UIO_MAXIOV + 1;
        for (int i = 0; i < entries; i++) {
            MockSplitQueue.rawDesc(mem, TABLE + 16L * i, BUF + i, 1, i + 1 < entries ? VRING_DESC_F_NEXT : 0, i + 1);
        }
        publishIndirect(TABLE, 16 * entries, 0);
        assertRejected(ENOBUFS, VringError.IOV_OVERFLOW);
    }

    @Test
    void shouldAcceptIndirectTableWhenUnaligned() {
        MockSplitQueue.rawDesc(mem, TABLE, 0, 0, 0, 0); // touch
        ByteBuffer d = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        d.putLong(BUF).putInt(7).putShort((short) 0).putShort((short) 0).flip();
        mem.write(TABLE + 3, d);
        publishIndirect(TABLE + 3, 16, 0);
        assertThat(vq.getVqDesc(iov)).isZero();
        assertThat(iov.len(0)).isEqualTo(7);
    }

    // ---- robustness ---------------------------------------------------------------------------------

    @Test
    void shouldNeverThrowWhenRingHoldsRandomBytes() {
        Random rnd = new Random(0x5EED);
        byte[] junk = new byte[4096];
        EnumSet<VringError> seen = EnumSet.noneOf(VringError.class);
        for (int round = 0; round < 2000; round++) {
            rnd.nextBytes(junk);
            mem.write(ring.addrs.descGpa(), junk, 0, 16 * N);
            for (int slot = 0; slot < N; slot++) {
                // Mostly valid heads, so the walk gets past the head check.
                mem.putU16(ring.addrs.availGpa() + 4 + 2L * slot, rnd.nextInt(N + 1));
            }
            for (int i = 0; i < N; i++) {
                if (rnd.nextBoolean()) { // sometimes a plausible buffer
                    mem.putU64(ring.addrs.descGpa() + 16L * i, BUF + rnd.nextInt(1 << 20));
                    mem.putU32(ring.addrs.descGpa() + 16L * i + 8, rnd.nextInt(1 << 22));
                }
            }
            if (rnd.nextBoolean()) {
                mem.write(TABLE, junk, 0, junk.length);
            }
            ring.setAvailIdx(vq.lastAvailIdx() + rnd.nextInt(N + 3));
            assertThatCode(() -> {
                int r = vq.getVqDesc(iov);
                assertThat(r).satisfiesAnyOf(
                        x -> assertThat(x).isBetween(0, N),
                        x -> assertThat(x).isIn(-EINVAL, -EFAULT, -ENOBUFS, -E2BIG));
            }).doesNotThrowAnyException();
            if (vq.lastError() != null) {
                seen.add(vq.lastError());
            }
        }
        assertThat(seen).contains(VringError.HEAD_OUT_OF_RANGE, VringError.TRANSLATION_FAULT, VringError.DESC_OUT_OF_RANGE);
    }

    // ---- configuration -----------------------------------------------------------------------------

    @Test
    void shouldValidateSizeWhenSettingNum() {
        VhostVirtqueue q = new VhostVirtqueue(mem, 0, null);
        assertThat(q.setNum(0)).isEqualTo(-EINVAL);
        assertThat(q.setNum(3)).isEqualTo(-EINVAL);
        assertThat(q.setNum(65536)).isEqualTo(-EINVAL);
        assertThat(q.setNum(32768)).isZero();
        assertThat(q.setNum(256)).isZero();
        assertThat(vq.setNum(16)).as("backend attached").isEqualTo(-EBUSY);
        assertThat(vq.setVringBase(3)).isEqualTo(-EBUSY);
    }

    @Test
    void shouldValidateRingAreasWhenSettingAddresses() {
        VhostVirtqueue q = new VhostVirtqueue(mem, 0, null);
        assertThat(q.metaPrefetch()).isFalse();
        assertThat(q.setBackend(true)).isEqualTo(-EFAULT);
        assertThat(q.setAddr(0x1000, 0x2000, 0x3000)).as("num not set").isEqualTo(-EINVAL);
        assertThat(q.setNum(256)).isZero();
        assertThat(q.setAddr(0x1000, 0x2001, 0x3000)).isEqualTo(-EINVAL);
        assertThat(q.setAddr(0x1000, 0x2000, 0x3002)).isEqualTo(-EINVAL);
        assertThat(q.setAddr(0x1008, 0x2000, 0x3000)).isEqualTo(-EINVAL);
        assertThat(q.setAddr(mem.size() - 2048, 0x2000, 0x3000)).isEqualTo(-EFAULT);
        assertThat(q.setAddr(0x1000, 0x2000, mem.size() - 16)).isEqualTo(-EFAULT);
        assertThat(q.setAddr(0x1000, 0x2000, 0x3000)).isZero();
        assertThat(q.metaPrefetch()).isTrue();
        assertThat(q.setBackend(true)).isZero();
    }

    @Test
    void shouldStartFromBaseWhenVringBaseIsSet() {
        VhostVirtqueue q = new VhostVirtqueue(mem, 0, null);
        q.setNum(N);
        q.setAddr(ring.addrs.descGpa(), ring.addrs.availGpa(), ring.addrs.usedGpa());
        assertThat(q.setVringBase(0x10000)).isEqualTo(-EINVAL);
        assertThat(q.setVringBase(65535)).isZero();
        q.setBackend(true);
        q.disableNotify();
        ring.desc(2, BUF, 4, 0, 0);
        ring.mem.putU16(ring.addrs.availGpa() + 4 + 2 * (65535 & (N - 1)), 2);
        ring.setAvailIdx(0);
        assertThat(q.getVqDesc(iov)).isEqualTo(2);
        assertThat(q.lastAvailIdx()).isZero();
        q.discardVqDesc(1);
        assertThat(q.lastAvailIdx()).isEqualTo(65535);
    }

    @Test
    void shouldCopyAcrossEntriesWhenUsingIovHelpers() {
        byte[] hello = "header+payload".getBytes(StandardCharsets.US_ASCII);
        mem.write(BUF, hello, 0, 6);
        mem.write(BUF + 1000, hello, 6, hello.length - 6);
        ring.desc(0, BUF, 6, VRING_DESC_F_NEXT, 1);
        ring.desc(1, BUF + 1000, hello.length - 6, VRING_DESC_F_NEXT, 2);
        ring.desc(2, BUF + 2000, 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
        ring.desc(3, BUF + 3000, 10, VRING_DESC_F_WRITE, 0);
        ring.publish(0);
        assertThat(vq.getVqDesc(iov)).isZero();
        ByteBuffer dst = ByteBuffer.allocate(64);
        assertThat(iov.copyFromOut(mem, 4, dst)).isEqualTo(hello.length - 4);
        assertThat(new String(dst.array(), 0, dst.position(), StandardCharsets.US_ASCII)).isEqualTo("er+payload");
        ByteBuffer src = ByteBuffer.wrap("0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII));
        assertThat(iov.copyToIn(mem, 2, src)).isEqualTo(12);
        byte[] got = new byte[10];
        mem.read(BUF + 3000, got, 0, 10);
        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("23456789AB");
        assertThat(src.remaining()).isEqualTo(4);
    }

    @Test
    void shouldExceedWeightWhenEitherBudgetIsReached() {
        assertThat(VhostVirtqueue.exceedsWeight(255, 0x7FFFF, 256, 0x80000)).isFalse();
        assertThat(VhostVirtqueue.exceedsWeight(256, 0, 256, 0x80000)).isTrue();
        assertThat(VhostVirtqueue.exceedsWeight(1, 0x80000, 256, 0x80000)).isTrue();
        assertThat(VhostVirtqueue.exceedsWeight(1, 1L << 40, 256, 0)).as("no byte weight").isFalse();
    }
}
