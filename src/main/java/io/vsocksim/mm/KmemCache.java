package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.ENOMEM;

import io.vsocksim.Linux;
import java.util.Arrays;

/**
 * One object cache of the SLUB allocator ({@code struct kmem_cache}): objects of one size carved out
 * of slabs, blocks of {@code 2^order} pages taken from the machine's {@link PageAllocator}.
 *
 * <p><b>Geometry.</b> The slab order is SLUB's {@code calculate_order}: the smallest order up to
 * {@code slub_max_order} (3) that holds at least {@code 4 * (fls(nr_cpus) + 1)} objects (fewer if
 * the order-3 slab holds fewer) and wastes at most 1/16 of the slab, relaxing the waste bound to 1/8,
 * then 1/4. When a block of that order is not free, a slab of the smallest order that holds one
 * object is taken instead ({@code allocate_slab}'s fallback to {@code s->min}). For the caches skb
 * heads use, with two CPUs: {@code skbuff_small_head} (640 B) order 1, 12 objects; kmalloc-1024
 * order 2, 16; kmalloc-2048 order 3, 16; kmalloc-4096 order 3, 8; kmalloc-8192 order 3, 4.
 *
 * <p><b>Lists.</b> A slab with a free object sits on the partial list; a full slab is on no list (as
 * in SLUB without debugging). Allocation takes the first partial slab's most recently freed object
 * (a LIFO freelist, objects of a new slab in address order). A free that makes a full slab partial
 * puts it at the tail; a free that empties a slab keeps it while the cache has fewer than
 * {@code min_partial} partial slabs and gives its pages back otherwise ({@code __slab_free}).
 * SIM: no per-CPU slabs or per-CPU partial lists and one lock per cache instead of the lockless
 * fast path; the objects handed out and the pages used at rest are SLUB's, give or take the
 * per-CPU slabs' share.
 *
 * <p><b>Handles.</b> An object is named by a {@code long}, never an object:
 * <pre>
 *   63  62  61    56 55        40 39              16 15          0
 *  +---+---+--------+------------+------------------+-------------+
 *  | 0 | 1 | cache  | slab stamp |   slab index     | object      |
 *  +---+---+--------+------------+------------------+-------------+
 * </pre>
 * Bit 62 tells an object from a page block ({@link PageAllocator} handles keep it clear). The stamp
 * changes each time a slab slot is reused, so a stale handle is reported instead of freeing someone
 * else's object; a double free is reported too (SLUB reports both only with debugging on).
 *
 * <p><b>Poisoning.</b> When the allocator poisons free pages, a freed object is filled with
 * {@link PageAllocator#PAGE_POISON} and an allocation checks the pattern, as {@code slub_debug=P}
 * does (with its own byte): a write after free fails the allocation that finds it.
 *
 * <p>Thread-safe; allocation and free create no objects in steady state (a new slab's bookkeeping
 * is made once per slab slot and reused).
 */
@Linux(file = "mm/slub.c", fn = "kmem_cache_alloc_noprof")
public final class KmemCache {
    static final long OBJECT_TAG = 1L << 62;
    private static final int CACHE_SHIFT = 56;
    private static final int STAMP_SHIFT = 40;
    private static final int SLAB_SHIFT = 16;
    private static final long STAMP_MASK = 0xffff;
    private static final long SLAB_MASK = (1L << 24) - 1;
    private static final long OBJECT_MASK = 0xffff;
    /** {@code slub_max_order}: {@code PAGE_ALLOC_COSTLY_ORDER}. */
    static final int SLUB_MAX_ORDER = 3;
    /** {@code MIN_PARTIAL}, {@code MAX_PARTIAL}. */
    private static final int MIN_PARTIAL = 5;
    private static final int MAX_PARTIAL = 10;
    private static final long POISON_WORD = 0xaaaa_aaaa_aaaa_aaaaL;

    /** One slab: a page block and the objects carved out of it ({@code struct slab}). */
    private static final class Slab {
        long pages;
        int index;
        int stamp;
        int objects;
        int inuse;
        /** LIFO freelist of object indices: {@code free[0..nrFree)}. */
        int[] free;
        int nrFree;
        /** Allocated objects, one bit each: catches double and stray frees. */
        long[] allocated;
        boolean onPartial;
        Slab next;
        Slab prev;
    }

    private final PageAllocator pages;
    private final String name;
    private final int size;
    private final int id;
    private final int order;
    private final int minOrder;
    private final int minPartial;
    private final boolean poison;
    private final Object lock = new Object();
    // Guarded by lock.
    private Slab[] slabs = new Slab[8];
    private int nrSlabSlots;
    private int[] spareSlots = new int[8];
    private int nrSpareSlots;
    private Slab partialHead;
    private Slab partialTail;
    private int nrPartial;
    private long objectsInUse;
    private long slabPages;
    private long slabCount;

    /**
     * A cache of {@code size}-byte objects: the slab order from {@code calculate_order}, and
     * {@code min_partial} as {@code ilog2(size) / 2} kept between {@code MIN_PARTIAL} and
     * {@code MAX_PARTIAL}.
     */
    @Linux(file = "mm/slub.c", fn = "do_kmem_cache_create")
    KmemCache(PageAllocator pages, String name, int size, int id, int nrCpus) {
        if (size <= 0 || size > GuestMemory.PAGE_SIZE << SLUB_MAX_ORDER) {
            throw new IllegalArgumentException("object size outside 1.." + (GuestMemory.PAGE_SIZE << SLUB_MAX_ORDER)
                    + ": " + size);
        }
        this.pages = pages;
        this.name = name;
        this.size = size;
        this.id = id;
        this.order = calculateOrder(size, nrCpus);
        this.minOrder = PageAllocator.getOrder(size);
        this.minPartial = Math.min(MAX_PARTIAL, Math.max(MIN_PARTIAL, ilog2(size) / 2));
        this.poison = pages.poisonsOnFree();
    }

    /** The cache's name, as {@code /proc/slabinfo} shows it. */
    public String name() {
        return name;
    }

    /** Object size in bytes ({@code s->size}; objects are laid out back to back). */
    public int size() {
        return size;
    }

    /** Order of a slab ({@code oo_order(s->oo)}). */
    public int order() {
        return order;
    }

    /** Objects per slab of the cache's order ({@code oo_objects(s->oo)}). */
    public int objectsPerSlab() {
        return (GuestMemory.PAGE_SIZE << order) / size;
    }

    /** {@code s->min_partial}: empty slabs the cache keeps before it gives pages back. */
    public int minPartial() {
        return minPartial;
    }

    /** Objects allocated and not yet freed. */
    public long objectsInUse() {
        synchronized (lock) {
            return objectsInUse;
        }
    }

    /** Pages the cache's slabs hold (in use or kept empty). */
    public long slabPages() {
        synchronized (lock) {
            return slabPages;
        }
    }

    /** Slabs the cache holds. */
    public long slabs() {
        synchronized (lock) {
            return slabCount;
        }
    }

    /**
     * {@code kmem_cache_alloc()}: one object. Its bytes are whatever the memory held (no
     * {@code __GFP_ZERO}).
     *
     * @return a handle ({@code > 0}), or {@code -ENOMEM} when no object is free and no page block for a
     *         new slab is
     */
    @Linux(file = "mm/slub.c", fn = "___slab_alloc")
    public long alloc() {
        long h;
        while ((h = allocFromPartial()) == 0) {
            // No partial slab: a new one (other threads may take its objects first; then try again).
            if (!newSlab()) {
                return -ENOMEM;
            }
        }
        if (poison) {
            checkPoison(h);
        }
        return h;
    }

    private long allocFromPartial() {
        synchronized (lock) {
            Slab s = partialHead;
            if (s == null) {
                return 0;
            }
            int obj = s.free[--s.nrFree];
            s.allocated[obj >>> 6] |= 1L << obj;
            s.inuse++;
            objectsInUse++;
            if (s.nrFree == 0) {
                removePartial(s);
            }
            return handle(s, obj);
        }
    }

    /** {@code allocate_slab()}: a slab of the cache's order, else of the smallest order that holds one object. */
    @Linux(file = "mm/slub.c", fn = "allocate_slab")
    private boolean newSlab() {
        long block = pages.allocPages(order);
        if (block < 0 && minOrder < order) {
            block = pages.allocPages(minOrder);
        }
        if (block < 0) {
            return false;
        }
        int objects = (GuestMemory.PAGE_SIZE << PageAllocator.order(block)) / size;
        synchronized (lock) {
            Slab s = takeSlot();
            s.pages = block;
            s.objects = objects;
            s.inuse = 0;
            if (s.free == null || s.free.length < objects) {
                s.free = new int[objects];
                s.allocated = new long[(objects + 63) >>> 6];
            } else {
                Arrays.fill(s.allocated, 0);
            }
            // Objects leave a new slab in address order: the freelist is popped from its end.
            for (int i = 0; i < objects; i++) {
                s.free[i] = objects - 1 - i;
            }
            s.nrFree = objects;
            addPartialTail(s);
            slabPages += 1L << PageAllocator.order(block);
            slabCount++;
            return true;
        }
    }

    /**
     * {@code kmem_cache_free()}: returns an object. An emptied slab goes back to the page allocator
     * once the cache keeps {@code min_partial} partial slabs.
     *
     * @throws IllegalArgumentException for a handle of another cache or a malformed one
     * @throws IllegalStateException    for a double free or a stale handle
     */
    public void free(long handle) {
        free(handle, true);
    }

    /**
     * {@link #free(long)}; with {@code wakeWaiters} false, an object that goes back without freeing a
     * page does not run the page allocator's reclaim waiters. A caller that rolls back an allocation
     * it just made passes false: nothing came back that was not free a moment before, and a waiter
     * woken by its own roll-back would retry, fail and wake itself again without end.
     */
    @Linux(file = "mm/slub.c", fn = "__slab_free")
    public void free(long handle, boolean wakeWaiters) {
        if (poison) {
            pages.memory().fill(gpa(handle), size, PageAllocator.PAGE_POISON);
        }
        long discard = 0;
        synchronized (lock) {
            Slab s = slabOf(handle, "free");
            int obj = (int) (handle & OBJECT_MASK);
            long bit = 1L << obj;
            if ((s.allocated[obj >>> 6] & bit) == 0) {
                throw new IllegalStateException("double free of slab object: " + describe(handle));
            }
            s.allocated[obj >>> 6] &= ~bit;
            s.free[s.nrFree++] = obj;
            s.inuse--;
            objectsInUse--;
            if (!s.onPartial) {
                addPartialTail(s);
            }
            if (s.inuse == 0 && nrPartial >= minPartial) {
                removePartial(s);
                discard = s.pages;
                releaseSlot(s);
            }
        }
        if (discard != 0) {
            pages.freePages(discard);
        } else if (wakeWaiters) {
            pages.objectFreed();
        }
    }

    /**
     * {@code kmem_cache_shrink()}: gives every empty slab back to the page allocator. Returns the pages
     * freed.
     */
    @Linux(file = "mm/slub.c", fn = "__kmem_cache_do_shrink")
    public long shrink() {
        long freed = 0;
        while (true) {
            long discard = 0;
            synchronized (lock) {
                for (Slab s = partialHead; s != null; s = s.next) {
                    if (s.inuse == 0) {
                        removePartial(s);
                        discard = s.pages;
                        releaseSlot(s);
                        break;
                    }
                }
            }
            if (discard == 0) {
                return freed;
            }
            freed += 1L << PageAllocator.order(discard);
            pages.freePages(discard);
        }
    }

    /**
     * Guest-physical address of the object's first byte. Takes no lock (it runs once per packet): the
     * caller got {@code handle} from {@link #alloc} or from a thread that did, through a lock or a
     * queue, so the slab's fields as {@link #alloc} left them are visible; a stale handle is still
     * caught unless its slot is being reused at that very moment.
     */
    public long gpa(long handle) {
        Slab s = slabOf(handle, "gpa");
        return pages.gpa(s.pages) + (handle & OBJECT_MASK) * size;
    }

    /** True if {@code handle} names an object of some cache rather than a page block. */
    public static boolean isObject(long handle) {
        return handle > 0 && (handle & OBJECT_TAG) != 0;
    }

    /** The cache number a handle carries (see {@link Kmalloc}). */
    static int cacheId(long handle) {
        return (int) ((handle >>> CACHE_SHIFT) & 0x3f);
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "KmemCache{" + name + ", size=" + size + ", order=" + order + ", objects=" + objectsInUse
                    + ", slabs=" + slabCount + ", partial=" + nrPartial + ", pages=" + slabPages + "}";
        }
    }

    // ---- internals ----------------------------------------------------------------------------------

    private long handle(Slab s, int obj) {
        return OBJECT_TAG | ((long) id << CACHE_SHIFT) | ((long) s.stamp << STAMP_SHIFT)
                | ((long) s.index << SLAB_SHIFT) | obj;
    }

    private Slab slabOf(long handle, String op) {
        if (!isObject(handle) || cacheId(handle) != id) {
            throw new IllegalArgumentException(op + ": not an object of " + name + ": handle=0x" + Long.toHexString(handle));
        }
        int index = (int) ((handle >>> SLAB_SHIFT) & SLAB_MASK);
        Slab[] table = slabs; // may be read without the lock (gpa): never index past the array read
        Slab s = index < table.length ? table[index] : null;
        if (s == null || s.pages == 0 || s.stamp != (int) ((handle >>> STAMP_SHIFT) & STAMP_MASK)
                || (handle & OBJECT_MASK) >= s.objects) {
            throw new IllegalStateException(op + ": stale slab object handle: " + describe(handle));
        }
        return s;
    }

    private String describe(long handle) {
        return name + " slab=" + ((handle >>> SLAB_SHIFT) & SLAB_MASK) + " object=" + (handle & OBJECT_MASK)
                + " handle=0x" + Long.toHexString(handle);
    }

    private Slab takeSlot() {
        Slab s;
        if (nrSpareSlots > 0) {
            s = slabs[spareSlots[--nrSpareSlots]];
        } else {
            if (nrSlabSlots == slabs.length) {
                slabs = Arrays.copyOf(slabs, nrSlabSlots * 2);
            }
            if (nrSlabSlots > SLAB_MASK) {
                throw new IllegalStateException("too many slabs in " + name);
            }
            s = new Slab();
            s.index = nrSlabSlots;
            slabs[nrSlabSlots++] = s;
        }
        s.stamp = (s.stamp + 1) & (int) STAMP_MASK;
        return s;
    }

    private void releaseSlot(Slab s) {
        slabPages -= 1L << PageAllocator.order(s.pages);
        slabCount--;
        s.pages = 0;
        if (nrSpareSlots == spareSlots.length) {
            spareSlots = Arrays.copyOf(spareSlots, Math.max(8, nrSpareSlots * 2));
        }
        spareSlots[nrSpareSlots++] = s.index;
    }

    private void addPartialTail(Slab s) {
        s.onPartial = true;
        s.next = null;
        s.prev = partialTail;
        if (partialTail == null) {
            partialHead = s;
        } else {
            partialTail.next = s;
        }
        partialTail = s;
        nrPartial++;
    }

    private void removePartial(Slab s) {
        if (s.prev == null) {
            partialHead = s.next;
        } else {
            s.prev.next = s.next;
        }
        if (s.next == null) {
            partialTail = s.prev;
        } else {
            s.next.prev = s.prev;
        }
        s.next = null;
        s.prev = null;
        s.onPartial = false;
        nrPartial--;
    }

    private void checkPoison(long h) {
        GuestMemory mem = pages.memory();
        long at = gpa(h);
        for (int off = 0; off + Long.BYTES <= size; off += Long.BYTES) {
            if (mem.getU64(at + off) != POISON_WORD) {
                free(h, false);
                throw new IllegalStateException("free slab object was written (use after free): " + name
                        + " gpa=0x" + Long.toHexString(at) + " offset=" + off);
            }
        }
    }

    // ---- SLUB geometry --------------------------------------------------------------------------------

    /** {@code calculate_order()} for {@code size}-byte objects on {@code nrCpus} CPUs. */
    @Linux(file = "mm/slub.c", fn = "calculate_order")
    static int calculateOrder(int size, int nrCpus) {
        int minObjects = 4 * (fls(nrCpus) + 1);
        int maxObjects = Math.max((GuestMemory.PAGE_SIZE << SLUB_MAX_ORDER) / size, 1);
        minObjects = Math.min(minObjects, maxObjects);
        int minOrder = PageAllocator.getOrder(minObjects * size);
        for (int fraction = 16; fraction > 1; fraction /= 2) {
            int o = calcSlabOrder(size, minOrder, SLUB_MAX_ORDER, fraction);
            if (o <= SLUB_MAX_ORDER) {
                return o;
            }
        }
        return PageAllocator.getOrder(size);
    }

    /** {@code calc_slab_order()}: the smallest order from {@code minOrder} wasting at most 1/fraction. */
    @Linux(file = "mm/slub.c", fn = "calc_slab_order")
    private static int calcSlabOrder(int size, int minOrder, int maxOrder, int fraction) {
        int o;
        for (o = minOrder; o <= maxOrder; o++) {
            int slabSize = GuestMemory.PAGE_SIZE << o;
            if (slabSize % size <= slabSize / fraction) {
                break;
            }
        }
        return o;
    }

    private static int fls(int x) {
        return 32 - Integer.numberOfLeadingZeros(x);
    }

    private static int ilog2(int x) {
        return 31 - Integer.numberOfLeadingZeros(x);
    }
}
