package io.vsocksim.vhost;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.virtio.VringAddrs;

/**
 * A hostile or sloppy driver: writes raw descriptors and avail entries straight into guest memory
 * (rust-vmm's MockSplitQueue), so tests can build rings no real driver would.
 */
final class MockSplitQueue {
    final GuestMemory mem;
    final VringAddrs addrs;
    final int num;
    private int availIdx;

    MockSplitQueue(GuestMemory mem, long base, int num) {
        this.mem = mem;
        this.num = num;
        this.addrs = VringAddrs.legacy(base, num, 4096);
        mem.fill(base, VirtioRing.vringSize(num, 4096), (byte) 0);
    }

    static void rawDesc(GuestMemory mem, long gpa, long addr, int len, int flags, int next) {
        mem.putU64(gpa, addr);
        mem.putU32(gpa + 8, Integer.toUnsignedLong(len));
        mem.putU16(gpa + 12, flags);
        mem.putU16(gpa + 14, next);
    }

    void desc(int i, long addr, int len, int flags, int next) {
        rawDesc(mem, addrs.descGpa() + 16L * i, addr, len, flags, next);
    }

    /** Puts {@code head} in the next avail slot and publishes the index. */
    void publish(int head) {
        mem.putU16(addrs.availGpa() + 4 + 2L * (availIdx & (num - 1)), head);
        setAvailIdx(availIdx + 1);
    }

    void setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        mem.putU16Release(addrs.availGpa() + 2, availIdx);
    }

    int usedIdx() {
        return mem.getU16(addrs.usedGpa() + 2);
    }

    long usedId(int slot) {
        return mem.getU32(addrs.usedGpa() + 4 + 8L * slot);
    }

    long usedLen(int slot) {
        return mem.getU32(addrs.usedGpa() + 4 + 8L * slot + 4);
    }

    /** A device configured on this ring, backend attached, notifications disabled (handler state). */
    VhostVirtqueue device(long features) {
        VhostVirtqueue vq = new VhostVirtqueue(mem, features, null);
        check(vq.setNum(num));
        check(vq.setAddr(addrs.descGpa(), addrs.availGpa(), addrs.usedGpa()));
        check(vq.setBackend(true));
        vq.disableNotify();
        return vq;
    }

    private static void check(int r) {
        if (r != 0) {
            throw new AssertionError("setup failed: " + r);
        }
    }
}
