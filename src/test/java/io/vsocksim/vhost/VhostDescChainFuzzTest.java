package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.E2BIG;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOBUFS;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.virtio.VringAddrs;

/**
 * Fuzz target: vhost reading a guest's split ring (vhost.c: vhost_get_vq_desc, get_indirect,
 * translate_desc). A hostile guest owns every byte of its descriptor table, its avail ring and any
 * indirect table; whatever they hold, fetching chains must stay inside guest memory, return a head in
 * range or one of the kernel's errors with its reason recorded, and never throw.
 *
 * <p>Inputs choose the queue size, the features, each descriptor (address inside the buffer area, at
 * the end of memory, anywhere, or in the indirect-table area; any length, flags and next), the
 * indirect-table bytes, avail.idx and the avail entries. The corpus in
 * {@code src/test/resources/io/vsocksim/vhost/VhostDescChainFuzzTestInputs} runs in every build;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/reliability.md).
 */
class VhostDescChainFuzzTest {
    /** 1 MiB of guest memory, shared by every input (each input rewrites what it uses). */
    private static final GuestMemory MEM = new GuestMemory("fuzz-guest", 1L << 20);
    private static final long RING = 0x1000;
    private static final long INDIRECT = 0x20_000;
    private static final int INDIRECT_BYTES = 64 * VirtioRing.DESC_SIZE;
    private static final long BUF = 0x40_000;

    @FuzzTest(maxDuration = "2m")
    void fetchingChainsStaysInsideGuestMemoryAndNeverThrows(FuzzedDataProvider in) {
        int num = 1 << in.consumeInt(0, 8);
        long features = (in.consumeBoolean() ? 1L << VirtioRing.VIRTIO_RING_F_INDIRECT_DESC : 0)
                | (in.consumeBoolean() ? 1L << VirtioRing.VIRTIO_RING_F_EVENT_IDX : 0);
        VringAddrs addrs = VringAddrs.legacy(RING, num, 4096);
        MEM.fill(RING, VringAddrs.legacySize(num, 4096), (byte) 0);
        for (int i = 0; i < num; i++) {
            long d = addrs.descGpa() + (long) VirtioRing.DESC_SIZE * i;
            MEM.putU64(d + VirtioRing.DESC_ADDR, address(in));
            MEM.putU32(d + VirtioRing.DESC_LEN, Integer.toUnsignedLong(in.consumeBoolean() ? in.consumeInt(0, 8192) : in.consumeInt()));
            MEM.putU16(d + VirtioRing.DESC_FLAGS, in.consumeInt(0, 7));
            MEM.putU16(d + VirtioRing.DESC_NEXT, in.consumeBoolean() ? (i + 1) % num : in.consumeInt(0, 0xFFFF));
        }
        byte[] table = in.consumeBytes(INDIRECT_BYTES);
        MEM.fill(INDIRECT, INDIRECT_BYTES, (byte) 0);
        MEM.write(INDIRECT, table, 0, table.length);
        int availIdx = in.consumeBoolean() ? in.consumeInt(0, num) : in.consumeInt(0, 0xFFFF);
        MEM.putU16(addrs.availGpa() + 2, availIdx);
        for (int i = 0; i < num; i++) {
            MEM.putU16(addrs.availGpa() + 4 + 2L * i, in.consumeBoolean() ? in.consumeInt(0, num - 1) : in.consumeInt(0, 0xFFFF));
        }

        VhostVirtqueue vq = new VhostVirtqueue(MEM, features, () -> { });
        assertThat(vq.setNum(num)).isZero();
        assertThat(vq.setAddr(addrs.descGpa(), addrs.availGpa(), addrs.usedGpa())).isZero();
        assertThat(vq.setBackend(true)).isZero();
        vq.disableNotify();
        Iov iov = new Iov();
        for (int round = 0; round <= num + 1; round++) {
            int head = vq.getVqDesc(iov);
            if (head == num) {
                break; // empty
            }
            if (head < 0) {
                assertThat(-head).isIn(EINVAL, EFAULT, ENOBUFS, E2BIG);
                assertThat(vq.lastError()).as("the reason of %d", head).isNotNull();
                break; // the queue is stuck until the guest resets it (vq_err)
            }
            assertThat(head).isBetween(0, num - 1);
            assertThat(iov.count()).isEqualTo(iov.out() + iov.in()).isLessThanOrEqualTo(Iov.UIO_MAXIOV);
            for (int i = 0; i < iov.count(); i++) {
                long gpa = iov.gpa(i);
                long len = Integer.toUnsignedLong(iov.len(i));
                assertThat(gpa).as("iov %d start", i).isBetween(0L, MEM.size());
                assertThat(gpa + len).as("iov %d end", i).isLessThanOrEqualTo(MEM.size());
            }
            vq.addUsed(head, 0);
        }
    }

    /** A descriptor address: in the buffer area, at the very end of memory, anywhere, or an indirect table. */
    private static long address(FuzzedDataProvider in) {
        switch (in.consumeInt(0, 3)) {
            case 0:
                return BUF + in.consumeInt(0, 0xB_FFFF);
            case 1:
                return MEM.size() - in.consumeInt(0, 4096);
            case 2:
                return in.consumeLong();
            default:
                return INDIRECT + (long) VirtioRing.DESC_SIZE * in.consumeInt(0, 63);
        }
    }
}
