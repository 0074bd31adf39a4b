package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.ENOMEM;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Buddy allocator over the page frames {@code [firstPfn, firstPfn + count)} of one {@link GuestMemory}:
 * the simulator's {@code alloc_pages()} / {@code __free_pages()} and {@code get_page()} /
 * {@code put_page()}, for one zone.
 *
 * <p><b>Blocks.</b> A block of order {@code o} is {@code 2^o} physically contiguous pages whose first
 * pfn is a multiple of {@code 2^o} (absolute pfn, not relative to {@code firstPfn}), for
 * {@code 0 <= o <=} {@link #MAX_ORDER}. The range is carved at construction into the largest aligned
 * blocks that fit, so a range that does not start or end on a {@code 2^MAX_ORDER} boundary simply has
 * smaller blocks at its edges. A block's buddy of order {@code o} is at {@code pfn ^ (1 << o)}; two
 * free buddies of the same order merge into one block of order {@code o + 1}.
 *
 * <p><b>Handles.</b> {@link #allocPages} returns a {@code long}, never an object:
 * <pre>
 *   63  62  61          40 39                               4 3     0
 *  +---+---+--------------+----------------------------------+-------+
 *  | 0 | 0 | cookie (22)  |            pfn (36)              | order |
 *  +---+---+--------------+----------------------------------+-------+
 * </pre>
 * {@link #pfn(long)} and {@link #order(long)} decode it. A valid handle is always {@code > 0}; a
 * failed allocation returns {@code -ENOMEM} instead. SIM: the cookie is not in the kernel. It is a
 * nonzero stamp recorded in the block head at allocation (seeded per allocator), so a stale handle
 * (its block freed and handed out again) or a handle from another allocator is reported instead of
 * silently freeing someone else's pages. Bit 62 stays clear: it marks the handles of slab objects
 * ({@link KmemCache}), which live in these pages.
 *
 * <p><b>Metadata</b> lives in primitive arrays indexed by {@code pfn - firstPfn} (the {@code mem_map}
 * subset that matters here): a state byte (free head, allocated head, being freed, or part of a
 * block), the order of each head, the reference count of each allocated head (one count per block,
 * as for a compound page), and the free lists as intrusive doubly linked lists in two {@code int[]}.
 * Allocating and freeing create no objects.
 *
 * <p><b>Locking.</b> One lock per allocator (the zone lock), held for the list operations only.
 * Poisoning and poison checks run outside it, on pages that no other thread can reach at that time.
 * Safe for any number of threads.
 *
 * <p><b>Poisoning</b> (optional, the {@code page_poison} debug feature): a freed block is filled
 * with {@link #PAGE_POISON} before it returns to the free lists, and an allocation checks that the
 * pattern is intact; a write after free makes that allocation throw {@link IllegalStateException}
 * naming the page (the block goes back to the free lists, re-poisoned).
 */
public final class PageAllocator {
    /** Largest block order, {@code MAX_PAGE_ORDER} on x86-64: blocks of up to 1024 pages (4 MiB). */
    public static final int MAX_ORDER = 10;
    /** Byte that freed pages are filled with when poisoning is on: the kernel's {@code PAGE_POISON}. */
    public static final byte PAGE_POISON = (byte) 0xaa;

    private static final int ORDER_BITS = 4;
    private static final long ORDER_MASK = (1L << ORDER_BITS) - 1;
    private static final int PFN_SHIFT = ORDER_BITS;
    private static final int PFN_BITS = 36;
    private static final long PFN_MASK = (1L << PFN_BITS) - 1;
    private static final int COOKIE_SHIFT = PFN_SHIFT + PFN_BITS;
    private static final int COOKIE_MASK = (1 << 22) - 1;

    private static final int NIL = -1;
    /** Not a block head: a page inside a block (free or allocated). */
    private static final byte PART = 0;
    /** Head of a free block ({@code PageBuddy}). */
    private static final byte FREE = 1;
    /** Head of an allocated block. */
    private static final byte ALLOCATED = 2;
    /** Head of a block whose last reference is gone but that is not back on a free list yet. */
    private static final byte FREEING = 3;

    private static final long POISON_WORD = 0xaaaaaaaaaaaaaaaaL;

    private final GuestMemory memory;
    private final long firstPfn;
    private final int count;
    private final boolean poison;
    /**
     * With poisoning: a bit per page never allocated since boot, which holds the poison pattern only
     * in principle (it was never written). Guarded by {@link #lock}.
     */
    private final long[] pristine;
    private final Object lock = new Object();

    // Protected by lock.
    private final byte[] state;
    private final byte[] order;
    private final int[] refCount;
    private final int[] cookie;
    private final int[] next;
    private final int[] prev;
    private final int[] freeHead = new int[MAX_ORDER + 1];
    private final int[] nrFree = new int[MAX_ORDER + 1];
    private int nextCookie;
    private long freePageCount;
    private long highWater;
    private long allocCount;
    private long freeCount;
    private long allocFailures;
    /** Callbacks armed by {@link #retryAfterReclaim}, run after the next free. */
    private Runnable[] reclaimWaiters = new Runnable[2];
    /** Free pages each armed waiter needs. */
    private int[] reclaimNeeds = new int[2];
    private int nrReclaimWaiters;
    /** Set while {@link #reclaimWaiters} is not empty: the only thing a free reads when nobody waits. */
    private volatile boolean reclaimArmed;
    /** The slab caches over these pages, made on first use. */
    private volatile Kmalloc slab;

    /**
     * @param memory   the memory whose pages are handed out (a guest's RAM or host memory)
     * @param firstPfn first page frame managed
     * @param count    number of page frames managed, {@code >= 1}
     * @param poison   fill freed pages with {@link #PAGE_POISON} and check the pattern on allocation
     */
    public PageAllocator(GuestMemory memory, long firstPfn, int count, boolean poison) {
        if (count <= 0 || firstPfn < 0 || firstPfn + count > memory.pages() || firstPfn + count > PFN_MASK) {
            throw new IllegalArgumentException("pfn range outside memory: memory=" + memory.name()
                    + " firstPfn=" + firstPfn + " count=" + count + " pages=" + memory.pages());
        }
        this.memory = memory;
        this.firstPfn = firstPfn;
        this.count = count;
        this.poison = poison;
        this.state = new byte[count];
        this.order = new byte[count];
        this.refCount = new int[count];
        this.cookie = new int[count];
        this.next = new int[count];
        this.prev = new int[count];
        Arrays.fill(freeHead, NIL);
        // Seeded per allocator so that two allocators rarely stamp the same cookie on the same pfn.
        this.nextCookie = System.identityHashCode(this) & COOKIE_MASK;
        // Pages enter the allocator through the free path, as at boot, so they start poisoned. SIM: a
        // page counts as poisoned until its first allocation writes the pattern, so that boot does not
        // touch memory nobody uses (a guest costs what its traffic uses).
        this.pristine = poison ? new long[(count + 63) >>> 6] : null;
        if (poison) {
            Arrays.fill(pristine, -1L);
        }
        seedFreeLists();
    }

    /**
     * Whether machines poison free pages unless told otherwise: the kernel's {@code page_poison=1} boot
     * option, here the system property {@code vsocksim.page_poison} ({@code true} or {@code 1}). Off by
     * default, as in a production kernel: a poisoned page costs memory the moment it is allocated. The
     * project's own tests turn it on, as a debug kernel does.
     */
    @Linux(file = "mm/page_poison.c", fn = "early_page_poison_param")
    public static boolean poisonByDefault() {
        String v = System.getProperty("vsocksim.page_poison", "");
        return v.equals("1") || v.equalsIgnoreCase("true");
    }

    /** An allocator over all of {@code memory}, without poisoning. */
    public PageAllocator(GuestMemory memory) {
        this(memory, 0, Math.toIntExact(memory.pages()), false);
    }

    /** pfn of the first page of the block named by {@code handle}. */
    public static long pfn(long handle) {
        return (handle >>> PFN_SHIFT) & PFN_MASK;
    }

    /** {@code get_order(size)}: the smallest order whose block holds {@code size} bytes. */
    @Linux(file = "include/asm-generic/getorder.h", fn = "get_order")
    public static int getOrder(long size) {
        int o = 0;
        while (((long) GuestMemory.PAGE_SIZE << o) < size) {
            o++;
        }
        return o;
    }

    /** Order of the block named by {@code handle}: it spans {@code 1 << order(handle)} pages. */
    public static int order(long handle) {
        return (int) (handle & ORDER_MASK);
    }

    /**
     * Allocates a naturally aligned block of {@code 2^order} pages with a reference count of 1.
     * Contents are whatever the pages held before (no {@code __GFP_ZERO}; {@link #PAGE_POISON} if
     * poisoning is on). Allocates no objects.
     *
     * @return a handle ({@code > 0}), or {@code -ENOMEM} if no block of that order is free
     * @throws IllegalArgumentException if {@code order} is outside {@code 0..MAX_ORDER}
     */
    @Linux(file = "mm/page_alloc.c", fn = "__alloc_pages_noprof")
    @Linux(file = "mm/page_alloc.c", fn = "__rmqueue_smallest")
    @Linux(file = "mm/page_alloc.c", fn = "expand")
    public long allocPages(int order) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException("order outside 0..MAX_ORDER: order=" + order);
        }
        long handle;
        synchronized (lock) {
            int o = order;
            while (o <= MAX_ORDER && freeHead[o] == NIL) {
                o++;
            }
            if (o > MAX_ORDER) {
                allocFailures++;
                return -ENOMEM;
            }
            int rel = freeHead[o];
            removeFree(rel, o);
            // Split: hand the upper halves back as smaller free blocks until the size is right.
            while (o > order) {
                o--;
                addFree(rel + (1 << o), o);
            }
            state[rel] = ALLOCATED;
            this.order[rel] = (byte) order;
            refCount[rel] = 1;
            int c = nextCookie = (nextCookie + 1) & COOKIE_MASK;
            if (c == 0) {
                c = nextCookie = 1;
            }
            cookie[rel] = c;
            allocCount++;
            long inUse = count - freePageCount;
            if (inUse > highWater) {
                highWater = inUse;
            }
            handle = ((long) c << COOKIE_SHIFT) | ((firstPfn + rel) << PFN_SHIFT) | order;
        }
        if (poison) {
            checkPoison(handle);
        }
        return handle;
    }

    /**
     * Frees a block that nobody else references: its reference count must be exactly 1. Merges it with
     * free buddies.
     *
     * @throws IllegalArgumentException for a handle this allocator did not hand out (pfn outside the
     *                                  range, not a block head, wrong order)
     * @throws IllegalStateException    for a double free, a stale handle, or a block that is still
     *                                  referenced elsewhere (reference count above 1)
     */
    @Linux(file = "mm/page_alloc.c", fn = "__free_pages")
    public void freePages(long handle) {
        int rel;
        synchronized (lock) {
            rel = checkLive(handle, "free");
            if (refCount[rel] != 1) {
                throw new IllegalStateException("free of a block that is still referenced: " + describe(handle)
                        + " refcount=" + refCount[rel]);
            }
            refCount[rel] = 0;
            if (!poison) {
                freeLocked(rel, order(handle)); // nothing to do outside the lock: one critical section
            } else {
                state[rel] = FREEING;
            }
        }
        if (poison) {
            release(rel, order(handle));
        }
        wakeReclaimWaiters();
    }

    /** Takes one more reference on the block. */
    @Linux(file = "include/linux/mm.h", fn = "get_page")
    public void getPage(long handle) {
        synchronized (lock) {
            int rel = checkLive(handle, "get_page");
            refCount[rel]++;
        }
    }

    /**
     * Drops one reference; the last one frees the block.
     *
     * @return the references left; {@code 0} means the block went back to the allocator
     */
    @Linux(file = "include/linux/mm.h", fn = "put_page")
    public int putPage(long handle) {
        int rel;
        synchronized (lock) {
            rel = checkLive(handle, "put_page");
            int left = --refCount[rel];
            if (left > 0) {
                return left;
            }
            if (!poison) {
                freeLocked(rel, order(handle));
            } else {
                state[rel] = FREEING;
            }
        }
        if (poison) {
            release(rel, order(handle));
        }
        wakeReclaimWaiters();
        return 0;
    }

    /**
     * What an allocation that may sleep ({@code GFP_KERNEL}, order up to
     * {@code PAGE_ALLOC_COSTLY_ORDER}) does when memory is short: the kernel does not fail it but
     * reclaims, retries and, if it must, waits until memory comes back, so a short shortage only
     * delays the caller. SIM: no thread sleeps here. A caller that failed to allocate {@code pages}
     * order-0 pages arms {@code retry}, which runs once, outside the allocator's lock, after the first
     * free that leaves at least {@code pages} pages free; the caller then allocates again (and re-arms
     * if it is still short). Counting pages, not blocks, keeps a caller that gave back a partial
     * allocation from waking itself. {@code retry} must only queue work or set a flag: it runs on the
     * freeing thread, under whatever locks that holds. Arming an armed callback updates its count.
     *
     * @return true if armed; false if {@code pages} pages are free by now (retry at once instead)
     */
    @Linux(file = "mm/page_alloc.c", fn = "__alloc_pages_slowpath")
    public boolean retryAfterReclaim(int pages, Runnable retry) {
        if (pages <= 0) {
            throw new IllegalArgumentException("pages must be positive: pages=" + pages);
        }
        Objects.requireNonNull(retry, "retry");
        synchronized (lock) {
            if (freePageCount >= pages) {
                return false;
            }
            for (int i = 0; i < nrReclaimWaiters; i++) {
                if (reclaimWaiters[i] == retry) {
                    reclaimNeeds[i] = pages;
                    return true;
                }
            }
            if (nrReclaimWaiters == reclaimWaiters.length) {
                reclaimWaiters = Arrays.copyOf(reclaimWaiters, nrReclaimWaiters * 2);
                reclaimNeeds = Arrays.copyOf(reclaimNeeds, nrReclaimWaiters * 2);
            }
            reclaimNeeds[nrReclaimWaiters] = pages;
            reclaimWaiters[nrReclaimWaiters++] = retry;
            reclaimArmed = true;
            return true;
        }
    }

    /** Disarms {@code retry} if it is armed (its owner goes away); true if it was. */
    public boolean cancelRetry(Runnable retry) {
        synchronized (lock) {
            for (int i = 0; i < nrReclaimWaiters; i++) {
                if (reclaimWaiters[i] == retry) {
                    removeReclaimWaiterLocked(i);
                    return true;
                }
            }
            return false;
        }
    }

    /** Callbacks armed with {@link #retryAfterReclaim} and not yet run. */
    public int reclaimWaiters() {
        synchronized (lock) {
            return nrReclaimWaiters;
        }
    }

    private void removeReclaimWaiterLocked(int i) {
        int tail = nrReclaimWaiters - i - 1;
        System.arraycopy(reclaimWaiters, i + 1, reclaimWaiters, i, tail);
        System.arraycopy(reclaimNeeds, i + 1, reclaimNeeds, i, tail);
        reclaimWaiters[--nrReclaimWaiters] = null;
        reclaimArmed = nrReclaimWaiters != 0;
    }

    /** After a free: runs (once) every armed retry whose pages are now free, outside the lock. */
    private void wakeReclaimWaiters() {
        if (!reclaimArmed) {
            return;
        }
        Runnable[] run = null;
        int n = 0;
        synchronized (lock) {
            for (int i = 0; i < nrReclaimWaiters; ) {
                if (reclaimNeeds[i] > freePageCount) {
                    i++;
                    continue;
                }
                if (run == null) {
                    run = new Runnable[nrReclaimWaiters]; // slow path only: memory was short
                }
                run[n++] = reclaimWaiters[i];
                removeReclaimWaiterLocked(i);
            }
        }
        runAll(run, n);
    }

    private static void runAll(Runnable[] run, int n) {
        RuntimeException first = null;
        for (int i = 0; i < n; i++) {
            Runnable r = run[i];
            try {
                r.run();
            } catch (RuntimeException e) { // one failing waiter must not strand the others
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * After an object went back to a slab cache without freeing a page: memory is back for whoever
     * waits for it, so every armed retry runs (each allocates again and re-arms if it is still short).
     */
    void objectFreed() {
        if (!reclaimArmed) {
            return;
        }
        Runnable[] run;
        int n;
        synchronized (lock) {
            n = nrReclaimWaiters;
            run = Arrays.copyOf(reclaimWaiters, n); // slow path only: memory was short
            while (nrReclaimWaiters > 0) {
                removeReclaimWaiterLocked(nrReclaimWaiters - 1);
            }
        }
        runAll(run, n);
    }

    /** This allocator's slab caches ({@code kmalloc}, {@code kmem_cache_create}). */
    public Kmalloc slab() {
        Kmalloc k = slab;
        if (k == null) {
            synchronized (lock) {
                k = slab;
                if (k == null) {
                    slab = k = new Kmalloc(this);
                }
            }
        }
        return k;
    }

    /** Current reference count of a live block. */
    @Linux(file = "include/linux/page_ref.h", fn = "page_ref_count")
    public int refCount(long handle) {
        synchronized (lock) {
            return refCount[checkLive(handle, "page_ref_count")];
        }
    }

    /**
     * The shared buffer of page {@code i} of the block ({@code 0 <= i < 1 << order(handle)}); same rules
     * as {@link GuestMemory#page(long)}: absolute access only. No liveness check (hot path): the caller
     * must hold a reference.
     */
    public ByteBuffer page(long handle, int i) {
        if (i < 0 || i >= 1 << order(handle)) {
            throw new IllegalArgumentException("page index outside block: " + describe(handle) + " index=" + i);
        }
        return memory.page(pfn(handle) + i);
    }

    /** Guest-physical address of the first byte of the block. */
    public long gpa(long handle) {
        return GuestMemory.pfnToGpa(pfn(handle));
    }

    /** The memory this allocator hands out. */
    public GuestMemory memory() {
        return memory;
    }

    /** True if poisoning is on. */
    public boolean poisonsOnFree() {
        return poison;
    }

    /**
     * True if every byte of page {@code pfn} holds {@link #PAGE_POISON}; a test helper to check that
     * freed memory was poisoned (and so that stale readers would see garbage).
     */
    public boolean isPoisoned(long pfn) {
        if (takePristine(pfn, false)) {
            return true;
        }
        ByteBuffer p = memory.page(pfn);
        for (int off = 0; off < GuestMemory.PAGE_SIZE; off += Long.BYTES) {
            if (p.getLong(off) != POISON_WORD) {
                return false;
            }
        }
        return true;
    }

    /** Pages managed. */
    public long totalPages() {
        return count;
    }

    /** Pages on the free lists ({@code NR_FREE_PAGES}). */
    public long freePages() {
        synchronized (lock) {
            return freePageCount;
        }
    }

    /** Pages allocated and not yet back on the free lists. */
    public long pagesInUse() {
        synchronized (lock) {
            return count - freePageCount;
        }
    }

    /** Most pages ever in use at once. */
    public long highWater() {
        synchronized (lock) {
            return highWater;
        }
    }

    /** Successful allocations so far (blocks, not pages). */
    public long allocCount() {
        synchronized (lock) {
            return allocCount;
        }
    }

    /** Blocks returned so far. */
    public long freeCount() {
        synchronized (lock) {
            return freeCount;
        }
    }

    /** Allocations that failed with {@code -ENOMEM}. */
    public long allocFailures() {
        synchronized (lock) {
            return allocFailures;
        }
    }

    /** Free blocks of exactly {@code order} ({@code free_area[order].nr_free}). */
    public int freeBlocks(int order) {
        synchronized (lock) {
            return nrFree[order];
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "PageAllocator{memory=" + memory.name() + ", firstPfn=" + firstPfn + ", totalPages=" + count
                    + ", freePages=" + freePageCount + ", pagesInUse=" + (count - freePageCount)
                    + ", highWater=" + highWater + ", allocCount=" + allocCount + ", freeCount=" + freeCount
                    + ", allocFailures=" + allocFailures + ", poison=" + poison + "}";
        }
    }

    // ---- internals ----------------------------------------------------------------------------------

    /** Carves the range into the largest naturally aligned blocks (what memblock_free_all achieves). */
    private void seedFreeLists() {
        long pfn = firstPfn;
        long end = firstPfn + count;
        while (pfn < end) {
            int o = MAX_ORDER;
            while ((pfn & ((1L << o) - 1)) != 0 || pfn + (1L << o) > end) {
                o--;
            }
            addFree((int) (pfn - firstPfn), o);
            pfn += 1L << o;
        }
    }

    /** Poisons a block whose last reference is gone, then puts it back on the free lists. */
    private void release(int rel, int order) {
        if (poison) {
            // Outside the lock: the block is FREEING, so nobody else can allocate or free it.
            long pfn = firstPfn + rel;
            for (int i = 0; i < 1 << order; i++) {
                poisonPage(pfn + i);
            }
        }
        synchronized (lock) {
            freeLocked(rel, order);
        }
    }

    private void freeLocked(int rel, int order) {
        freeOnePage(rel, order);
        freeCount++;
    }

    /** Returns a block to the free lists, merging with free buddies of the same order. */
    @Linux(file = "mm/page_alloc.c", fn = "__free_one_page")
    private void freeOnePage(int rel, int o) {
        assert Thread.holdsLock(lock) : "zone lock";
        long pfn = firstPfn + rel;
        while (o < MAX_ORDER) {
            long buddyPfn = pfn ^ (1L << o);
            long buddyRel = buddyPfn - firstPfn;
            if (buddyRel < 0 || buddyRel >= count) {
                break;
            }
            int b = (int) buddyRel;
            if (state[b] != FREE || order[b] != o) {
                break;
            }
            removeFree(b, o);
            state[b] = PART;
            state[(int) (pfn - firstPfn)] = PART;
            pfn &= buddyPfn;
            o++;
        }
        addFree((int) (pfn - firstPfn), o);
    }

    private void addFree(int rel, int o) {
        state[rel] = FREE;
        order[rel] = (byte) o;
        cookie[rel] = 0;
        int h = freeHead[o];
        next[rel] = h;
        prev[rel] = NIL;
        if (h != NIL) {
            prev[h] = rel;
        }
        freeHead[o] = rel;
        nrFree[o]++;
        freePageCount += 1L << o;
    }

    private void removeFree(int rel, int o) {
        int n = next[rel];
        int p = prev[rel];
        if (p == NIL) {
            freeHead[o] = n;
        } else {
            next[p] = n;
        }
        if (n != NIL) {
            prev[n] = p;
        }
        state[rel] = PART;
        nrFree[o]--;
        freePageCount -= 1L << o;
    }

    /**
     * Index of the allocated block head that {@code handle} names, or an exception saying why the
     * handle is not live. Called under the lock.
     */
    private int checkLive(long handle, String op) {
        assert Thread.holdsLock(lock) : "zone lock";
        long pfn = pfn(handle);
        int o = order(handle);
        if (handle <= 0 || o > MAX_ORDER || pfn < firstPfn || pfn >= firstPfn + count) {
            throw new IllegalArgumentException(op + " of a foreign page: handle=0x" + Long.toHexString(handle)
                    + " allocator=" + memory.name() + " firstPfn=" + firstPfn + " count=" + count);
        }
        int rel = (int) (pfn - firstPfn);
        byte s = state[rel];
        if (s == ALLOCATED) {
            if (order[rel] != o) {
                throw new IllegalArgumentException(op + " with the wrong order: " + describe(handle)
                        + " blockOrder=" + order[rel]);
            }
            if (cookie[rel] != (int) (handle >>> COOKIE_SHIFT)) {
                throw new IllegalStateException(op + " of a stale or foreign handle (block was freed and handed out"
                        + " again, or belongs to another allocator): " + describe(handle));
            }
            return rel;
        }
        if (s == FREE || s == FREEING) {
            throw new IllegalStateException(op + " of a free block (double free or use after free): "
                    + describe(handle));
        }
        // Inside some block: find its head to tell a double free from a pointer into a live block.
        for (int k = 1; k <= MAX_ORDER; k++) {
            long headPfn = pfn & ~((1L << k) - 1);
            int h = (int) (headPfn - firstPfn);
            if (headPfn < firstPfn || state[h] == PART || order[h] < k) {
                continue;
            }
            if (state[h] == ALLOCATED) {
                throw new IllegalArgumentException(op + " of a pfn inside an allocated block, not its head: "
                        + describe(handle) + " headPfn=" + headPfn + " headOrder=" + order[h]);
            }
            break;
        }
        throw new IllegalStateException(op + " of a free block (double free or use after free): " + describe(handle));
    }

    @Linux(file = "mm/page_poison.c", fn = "__kernel_poison_pages")
    private void poisonPage(long pfn) {
        ByteBuffer p = memory.page(pfn);
        for (int off = 0; off < GuestMemory.PAGE_SIZE; off += Long.BYTES) {
            p.putLong(off, POISON_WORD);
        }
    }

    /**
     * Checks a block just taken off the free lists still holds the poison pattern. If not, someone wrote
     * to it while it was free: the block goes back (re-poisoned) and the write is reported.
     */
    @Linux(file = "mm/page_poison.c", fn = "__kernel_unpoison_pages")
    private void checkPoison(long handle) {
        long pfn = pfn(handle);
        for (int i = 0; i < 1 << order(handle); i++) {
            if (takePristine(pfn + i, true)) {
                poisonPage(pfn + i); // its first use: the pattern it holds in principle, written now
                continue;
            }
            ByteBuffer p = memory.page(pfn + i);
            for (int off = 0; off < GuestMemory.PAGE_SIZE; off += Long.BYTES) {
                if (p.getLong(off) != POISON_WORD) {
                    freePages(handle);
                    throw new IllegalStateException("free page was written (use after free): memory=" + memory.name()
                            + " pfn=" + (pfn + i) + " offset=" + off);
                }
            }
        }
    }

    /** True if page {@code pfn} was never allocated since boot; {@code take} clears that. */
    private boolean takePristine(long pfn, boolean take) {
        if (pristine == null) {
            return false;
        }
        int rel = (int) (pfn - firstPfn);
        long bit = 1L << (rel & 63);
        synchronized (lock) {
            boolean was = (pristine[rel >>> 6] & bit) != 0;
            if (take) {
                pristine[rel >>> 6] &= ~bit;
            }
            return was;
        }
    }

    private static String describe(long handle) {
        return "handle=0x" + Long.toHexString(handle) + " pfn=" + pfn(handle) + " order=" + order(handle);
    }
}
