package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.ENOMEM;

import io.vsocksim.Linux;
import java.util.Arrays;

/**
 * A machine's slab caches: the kmalloc size classes and the named caches subsystems create, over its
 * {@link PageAllocator} ({@link PageAllocator#slab()} returns the one instance).
 *
 * <p>{@link #kmalloc} serves sizes up to {@value #KMALLOC_MAX_CACHE_SIZE} bytes from the size class
 * {@link #kmallocSizeRoundup} picks (kmalloc-8 to kmalloc-8192, as on x86-64 with 4 KiB pages) and
 * larger ones straight from the page allocator, a block of {@code get_order(size)} pages
 * ({@code kmalloc_large}). {@link #kfree} tells the two kinds of handle apart. Caches are made on
 * first use, so a machine that never allocates an object of a size has no slab of it.
 *
 * <p>SIM: the kernel sizes slabs for the CPUs present; the simulator sizes them for
 * {@value #NR_CPUS} CPUs on every machine, so page counts do not depend on the computer the
 * simulator runs on.
 */
@Linux(file = "mm/slab_common.c", fn = "create_kmalloc_caches")
public final class Kmalloc {
    /** {@code KMALLOC_MAX_CACHE_SIZE} on x86-64 with SLUB: two pages. */
    public static final int KMALLOC_MAX_CACHE_SIZE = 2 * GuestMemory.PAGE_SIZE;
    /** CPUs the slab geometry is computed for (see the class note). */
    public static final int NR_CPUS = 2;
    private static final int[] KMALLOC_SIZES = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
    private static final int MAX_CACHES = 64;

    private final PageAllocator pages;
    private final KmemCache[] kmalloc = new KmemCache[KMALLOC_SIZES.length];
    private final Object lock = new Object();
    /** Every cache by id (the id is in its handles); written under lock, read without. */
    private volatile KmemCache[] caches = new KmemCache[0];

    Kmalloc(PageAllocator pages) {
        this.pages = pages;
    }

    /** {@code kmalloc_size_roundup()}: the bytes a {@code kmalloc(size)} really gets. */
    @Linux(file = "mm/slab_common.c", fn = "kmalloc_size_roundup")
    public static int kmallocSizeRoundup(int size) {
        for (int b : KMALLOC_SIZES) {
            if (size <= b) {
                return b;
            }
        }
        return GuestMemory.PAGE_SIZE << PageAllocator.getOrder(size);
    }

    /**
     * {@code kmem_cache_create()}: a cache of {@code size}-byte objects named {@code name}, or the one
     * made earlier under that name.
     */
    @Linux(file = "mm/slab_common.c", fn = "__kmem_cache_create_args")
    public KmemCache kmemCacheCreate(String name, int size) {
        synchronized (lock) {
            for (KmemCache c : caches) {
                if (c.name().equals(name)) {
                    if (c.size() != size) {
                        throw new IllegalArgumentException("cache " + name + " exists with size " + c.size());
                    }
                    return c;
                }
            }
            if (caches.length == MAX_CACHES) {
                throw new IllegalStateException("too many slab caches on " + pages.memory().name());
            }
            KmemCache c = new KmemCache(pages, name, size, caches.length, NR_CPUS);
            KmemCache[] grown = Arrays.copyOf(caches, caches.length + 1);
            grown[caches.length] = c;
            caches = grown;
            return c;
        }
    }

    /**
     * {@code kmalloc()}: {@code size} bytes (at most {@code PAGE_SIZE << MAX_ORDER}); their content is
     * whatever memory held.
     *
     * @return a handle ({@code > 0}), or {@code -ENOMEM}
     */
    @Linux(file = "mm/slub.c", fn = "__kmalloc_noprof")
    public long kmalloc(int size) {
        if (size > KMALLOC_MAX_CACHE_SIZE) {
            return kmallocLarge(size);
        }
        return kmallocCache(size).alloc();
    }

    /** {@code kmalloc_large()}: a page block for a size above the largest kmalloc cache. */
    @Linux(file = "mm/slub.c", fn = "___kmalloc_large_node")
    private long kmallocLarge(int size) {
        int order = PageAllocator.getOrder(size);
        if (order > PageAllocator.MAX_ORDER) {
            return -ENOMEM;
        }
        return pages.allocPages(order);
    }

    /** The kmalloc cache that serves {@code size} bytes ({@code kmalloc_slab()}). */
    @Linux(file = "mm/slab.h", fn = "kmalloc_slab")
    public KmemCache kmallocCache(int size) {
        if (size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) {
            throw new IllegalArgumentException("no kmalloc cache for " + size + " bytes");
        }
        int i = 0;
        while (KMALLOC_SIZES[i] < size) {
            i++;
        }
        KmemCache c = kmalloc[i];
        if (c == null) {
            c = kmemCacheCreate("kmalloc-" + KMALLOC_SIZES[i], KMALLOC_SIZES[i]);
            kmalloc[i] = c; // benign race: kmemCacheCreate returns the same cache to every thread
        }
        return c;
    }

    /** {@code kfree()}: returns an object or a large kmalloc's page block. */
    @Linux(file = "mm/slub.c", fn = "kfree")
    public void kfree(long handle) {
        kfree(handle, true);
    }

    /**
     * {@link #kfree}, telling whether an object's return may wake callers waiting for memory
     * ({@code false} for an allocation rolled back: see {@link KmemCache#free(long, boolean)}).
     */
    public void kfree(long handle, boolean wakeWaiters) {
        if (KmemCache.isObject(handle)) {
            cacheOf(handle).free(handle, wakeWaiters);
        } else {
            pages.freePages(handle);
        }
    }

    /** Guest-physical address of an object's or a large kmalloc's first byte. */
    public long gpa(long handle) {
        return KmemCache.isObject(handle) ? cacheOf(handle).gpa(handle) : pages.gpa(handle);
    }

    /** Objects allocated from every cache and not yet freed (large kmallocs are counted as pages). */
    public long objectsInUse() {
        long n = 0;
        for (KmemCache c : caches) {
            n += c.objectsInUse();
        }
        return n;
    }

    /** Pages held by slabs ({@code NR_SLAB_UNRECLAIMABLE_B} in pages): in use or kept empty. */
    @Linux(file = "mm/slub.c", fn = "account_slab")
    public long slabPages() {
        long n = 0;
        for (KmemCache c : caches) {
            n += c.slabPages();
        }
        return n;
    }

    /** Gives every cache's empty slabs back ({@code kmem_cache_shrink} on each); returns the pages freed. */
    public long shrinkAll() {
        long n = 0;
        for (KmemCache c : caches) {
            n += c.shrink();
        }
        return n;
    }

    /** The caches made so far. */
    public KmemCache[] caches() {
        return caches.clone();
    }

    private KmemCache cacheOf(long handle) {
        KmemCache[] cs = caches;
        int id = KmemCache.cacheId(handle);
        if (id >= cs.length) {
            throw new IllegalArgumentException("kfree: no slab cache " + id + " on " + pages.memory().name()
                    + ": handle=0x" + Long.toHexString(handle));
        }
        return cs[id];
    }
}
