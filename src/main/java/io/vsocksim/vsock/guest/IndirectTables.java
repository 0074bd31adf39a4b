package io.vsocksim.vsock.guest;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.virtio.VirtqueueSplit;
import io.vsocksim.vsock.virtio.SkbPool;

/**
 * Indirect descriptor tables for the TX vq, carved from guest pages allocated on first use: one slot
 * per ring descriptor, each big enough for a header plus {@code MAX_SKB_FRAGS} fragments.
 *
 * <p>SIM: the kernel kmallocs each table ({@code alloc_indirect_split}); a fixed slot pool keeps the
 * TX path allocation-free and the pages visible to the leak check. Guarded by the TX lock.
 */
final class IndirectTables implements VirtqueueSplit.IndirectAllocator {
    private static final int SLOT = (SkbPool.MAX_SKB_FRAGS + 1) * VirtioRing.DESC_SIZE;
    private static final int PER_PAGE = GuestMemory.PAGE_SIZE / SLOT;

    private final PageAllocator pages;
    private final long[] pageHandles;
    private final int[] free;
    private int nfree;
    private boolean populated;

    IndirectTables(PageAllocator pages, int slots) {
        this.pages = pages;
        this.pageHandles = new long[(slots + PER_PAGE - 1) / PER_PAGE];
        this.free = new int[pageHandles.length * PER_PAGE];
        // Taken up front, with the rings, so the driver's page footprint does not change with traffic.
        populate();
    }

    private boolean populate() {
        for (int p = 0; p < pageHandles.length; p++) {
            long h = pages.allocPages(0);
            if (h < 0) {
                release();
                return false;
            }
            pageHandles[p] = h;
        }
        nfree = 0;
        for (int s = free.length - 1; s >= 0; s--) {
            free[nfree++] = s;
        }
        populated = true;
        return true;
    }

    @Override
    public long alloc(int bytes) {
        if (bytes > SLOT || (!populated && !populate()) || nfree == 0) {
            return -1L;
        }
        int s = free[--nfree];
        return pages.gpa(pageHandles[s / PER_PAGE]) + (long) (s % PER_PAGE) * SLOT;
    }

    @Override
    public void free(long gpa, int bytes) {
        for (int p = 0; p < pageHandles.length; p++) {
            long base = pages.gpa(pageHandles[p]);
            if (gpa >= base && gpa < base + GuestMemory.PAGE_SIZE) {
                free[nfree++] = p * PER_PAGE + (int) ((gpa - base) / SLOT);
                return;
            }
        }
        throw new IllegalStateException("not an indirect table: gpa=0x" + Long.toHexString(gpa));
    }

    /** Returns every page (after the vq is gone). */
    void release() {
        for (int p = 0; p < pageHandles.length; p++) {
            if (pageHandles[p] > 0) {
                pages.freePages(pageHandles[p]);
                pageHandles[p] = 0;
            }
        }
        populated = false;
        nfree = 0;
    }
}
