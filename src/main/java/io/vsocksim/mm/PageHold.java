package io.vsocksim.mm;

import java.util.Arrays;

/**
 * Free pages taken from an allocator and held until {@link #close()}, as memory pressure from the rest
 * of a system would take them: the fault injection's "memory taken" (user-facing as
 * {@code io.vsocksim.user.Faults.MemoryPressure}, and in the chaos runs). SIM: not a kernel object.
 */
public final class PageHold implements AutoCloseable {
    private final PageAllocator allocator;
    private long[] handles = new long[64];
    private int taken;
    private long[] objects = new long[0];
    private int objectsTaken;

    /**
     * Takes up to {@code pages} order-0 pages ({@code Long.MAX_VALUE}: every free one). When that
     * leaves no page free, it also takes every free object of the slab caches, which other tenants'
     * small allocations would use up first: memory that is all taken fails a {@code kmalloc} too.
     *
     * @throws IllegalArgumentException if {@code pages} is negative
     */
    public PageHold(PageAllocator allocator, long pages) {
        if (pages < 0) {
            throw new IllegalArgumentException("pages must not be negative: pages=" + pages);
        }
        this.allocator = allocator;
        for (long h; taken < pages && (h = allocator.allocPages(0)) > 0; ) {
            if (taken == handles.length) {
                handles = Arrays.copyOf(handles, taken * 2);
            }
            handles[taken++] = h;
        }
        if (taken < pages) {
            for (KmemCache c : allocator.slab().caches()) {
                for (long h; (h = c.alloc()) > 0; ) {
                    if (objectsTaken == objects.length) {
                        objects = Arrays.copyOf(objects, Math.max(64, objectsTaken * 2));
                    }
                    objects[objectsTaken++] = h;
                }
            }
        }
    }

    /** Slab objects held (taken when every free page was). */
    public synchronized long objects() {
        return objectsTaken;
    }

    /** Pages held (fewer than asked if the allocator had fewer free). */
    public synchronized long pages() {
        return taken;
    }

    /** Gives every page back; later calls do nothing. */
    @Override
    public synchronized void close() {
        for (int i = 0; i < taken; i++) {
            allocator.freePages(handles[i]);
        }
        taken = 0;
        handles = new long[0];
        Kmalloc slab = allocator.slab();
        for (int i = 0; i < objectsTaken; i++) {
            slab.kfree(objects[i]);
        }
        objectsTaken = 0;
        objects = new long[0];
    }

    @Override
    public String toString() {
        return "PageHold{" + allocator + ", taken=" + pages() + ", objects=" + objects() + "}";
    }
}
