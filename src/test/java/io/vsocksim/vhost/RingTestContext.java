package io.vsocksim.vhost;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.virtio.VirtqueueSplit;
import io.vsocksim.virtio.VringAddrs;

/** A real driver and a real device on one ring in one guest memory; notifications are only counted. */
final class RingTestContext {
    static final long RING = 0x1000;
    static final long BUF = 0x40_0000;

    final GuestMemory mem = new GuestMemory("guest", 16L << 20);
    final VringAddrs addrs;
    final VirtqueueSplit driver;
    final VhostVirtqueue device;
    int notifies;
    int calls;
    int callbacks;
    private long nextTable = 0x80_0000;
    int tablesFreed;

    RingTestContext(int num, long features) {
        this(num, features, false);
    }

    RingTestContext(int num, long features, boolean indirect) {
        addrs = VringAddrs.legacy(RING, num, 4096);
        VirtqueueSplit.IndirectAllocator alloc = !indirect ? null : new VirtqueueSplit.IndirectAllocator() {
            @Override
            public long alloc(int bytes) {
                long gpa = nextTable;
                nextTable += (bytes + 15) & ~15;
                return gpa;
            }

            @Override
            public void free(long gpa, int bytes) {
                tablesFreed++;
            }
        };
        driver = new VirtqueueSplit(mem, addrs, features, vq -> callbacks++, vq -> {
            notifies++;
            return true;
        }, alloc);
        device = new VhostVirtqueue(mem, features, () -> calls++);
        check(device.setNum(num));
        check(device.setAddr(addrs.descGpa(), addrs.availGpa(), addrs.usedGpa()));
        check(device.setBackend(true));
    }

    private static void check(int r) {
        if (r != 0) {
            throw new AssertionError("setup failed: " + r);
        }
    }

    /** Driver posts one readable and one writable buffer at {@code slot}'s buffer area. */
    int addOutIn(int slot, int outLen, int inLen, Object token) {
        long base = BUF + 0x2000L * slot;
        return driver.addSgs(new long[] {base}, new int[] {outLen}, 1, new long[] {base + 0x1000}, new int[] {inLen}, 1,
                token);
    }

    static long outGpa(int slot) {
        return BUF + 0x2000L * slot;
    }

    static long inGpa(int slot) {
        return BUF + 0x2000L * slot + 0x1000;
    }
}
