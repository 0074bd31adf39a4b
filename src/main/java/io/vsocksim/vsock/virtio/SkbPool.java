package io.vsocksim.vsock.virtio;

import io.vsocksim.Linux;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.Kmalloc;
import io.vsocksim.mm.KmemCache;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.vsock.UbufInfoMsgzc;
import io.vsocksim.vsock.VsockCore;

/**
 * The machine's sk_buff cache and the size rules of the kernel's skb allocator, as far as they are
 * observable through virtio-vsock (tailroom for the receive merge, linear versus paged skbs).
 *
 * <p><b>Size rules</b> (x86-64, 4 KiB pages, 64-byte cache lines, 17 fragments):
 * <ol>
 *   <li>{@code kmalloc_reserve}: a head asked for {@code size} bytes is {@code ALIGN(size, 64)} plus the
 *       aligned {@code skb_shared_info} ({@value #SKB_SHINFO_SIZE}); up to {@value #SKB_SMALL_HEAD_CACHE_SIZE}
 *       bytes come from the {@code skbuff_small_head} cache (osize = 640), above that
 *       {@code kmalloc_size_roundup} picks the kmalloc cache (1024, 2048, 4096, 8192; larger heads are
 *       page blocks, {@code PAGE_SIZE << get_order}).</li>
 *   <li>The usable head is {@code SKB_WITH_OVERHEAD(osize)} = osize − {@value #SKB_SHINFO_SIZE}; the
 *       tailroom of a linear skb is that minus the 44-byte header minus its linear payload.</li>
 *   <li>{@code virtio_vsock_alloc_skb}: 44 + payload ≤ {@value #SKB_MAX_LINEAR_SIZE} is linear;
 *       anything larger keeps the header alone in a 640-byte head and the payload in page fragments
 *       allocated greedily in blocks of order ≤ {@value #PAGE_ALLOC_COSTLY_ORDER}
 *       ({@code alloc_skb_with_frags}), at most {@value #MAX_SKB_FRAGS} of them.</li>
 * </ol>
 *
 * <p>Heads are slab objects of the machine's caches ({@link Kmalloc}, {@link KmemCache}), as in the
 * kernel: a posted guest RX buffer (3776 bytes, osize 4096) is a kmalloc-4096 object, eight to an
 * order-3 slab; a header-only head is one of twelve {@code skbuff_small_head} objects in an order-1
 * slab. Payload fragments are page blocks.
 *
 * <p>skb objects are recycled through a free list, so steady-state traffic allocates no Java objects.
 * Thread-safe (the free list has its own lock; pages come from the allocator's lock).
 */
@Linux(file = "net/core/skbuff.c", fn = "__alloc_skb")
public final class SkbPool {
    /** {@code SKB_DATA_ALIGN(sizeof(struct skb_shared_info))} on x86-64. */
    public static final int SKB_SHINFO_SIZE = 320;
    /** {@code SKB_SMALL_HEAD_CACHE_SIZE}. */
    public static final int SKB_SMALL_HEAD_CACHE_SIZE = 640;
    /** {@code SKB_TRUESIZE(0)}: accounting unit per queued skb. */
    public static final int SKB_TRUESIZE_0 = 576;
    /** {@code MAX_SKB_FRAGS}. */
    public static final int MAX_SKB_FRAGS = 17;
    /** {@code PAGE_ALLOC_COSTLY_ORDER}. */
    public static final int PAGE_ALLOC_COSTLY_ORDER = 3;
    /** {@code SKB_WITH_OVERHEAD(PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER)}: the largest linear vsock skb (header included). */
    public static final int SKB_MAX_LINEAR_SIZE = (GuestMemory.PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER) - SKB_SHINFO_SIZE;
    private static final int SMP_CACHE_BYTES = 64;

    private final KernelContext kernel;
    private final PageAllocator pages;
    private final Kmalloc slab;
    /** {@code net_hotdata.skb_small_head_cache}. */
    private final KmemCache smallHead;
    private final Object lock = new Object();
    // Guarded by lock.
    private VsockSkb free;
    private int inUse;
    private long created;

    /** A pool over {@code kernel}'s pages. Prefer {@link #of(VsockCore)} for the machine's shared pool. */
    public SkbPool(KernelContext kernel) {
        this.kernel = kernel;
        this.pages = kernel.pages();
        this.slab = pages.slab();
        this.smallHead = slab.kmemCacheCreate("skbuff_small_head", SKB_SMALL_HEAD_CACHE_SIZE);
    }

    /** The machine's pool, created on first use and kept by its {@link VsockCore}. */
    public static SkbPool of(VsockCore core) {
        return core.attachment(SkbPool.class, () -> new SkbPool(core.kernel()));
    }

    /** The machine. */
    public KernelContext kernel() {
        return kernel;
    }

    /** The allocator backing skb data. */
    public PageAllocator pages() {
        return pages;
    }

    /** The memory skb data lives in. */
    public GuestMemory memory() {
        return pages.memory();
    }

    /** skbs handed out and not yet freed. */
    public int inUse() {
        synchronized (lock) {
            return inUse;
        }
    }

    /** skb objects ever created (a steady-state allocation probe). */
    public long created() {
        synchronized (lock) {
            return created;
        }
    }

    // ---- size rules -----------------------------------------------------------------------------------

    /** {@code SKB_WITH_OVERHEAD(x)}. */
    public static int skbWithOverhead(int x) {
        return x - SKB_SHINFO_SIZE;
    }

    /** {@code kmalloc_reserve()}: the real size of a head asked for {@code size} bytes. */
    @Linux(file = "net/core/skbuff.c", fn = "kmalloc_reserve")
    public static int kmallocReserve(int size) {
        int obj = ((size + SMP_CACHE_BYTES - 1) & -SMP_CACHE_BYTES) + SKB_SHINFO_SIZE;
        if (obj <= SKB_SMALL_HEAD_CACHE_SIZE) {
            return SKB_SMALL_HEAD_CACHE_SIZE;
        }
        return Kmalloc.kmallocSizeRoundup(obj);
    }

    // ---- allocation ------------------------------------------------------------------------------------

    /**
     * {@code virtio_vsock_alloc_skb()}: an skb for {@code size} bytes (header + payload), linear or
     * paged by the rule above, with the header reserved and an empty payload. Null on ENOMEM. The
     * caller owns the result.
     */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_alloc_skb")
    public VsockSkb alloc(int size) {
        if (size <= SKB_MAX_LINEAR_SIZE) {
            return allocLinear(size);
        }
        return allocWithFrags(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM, size - VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM);
    }

    /** {@code virtio_vsock_alloc_linear_skb()}: a linear skb for {@code size} bytes; null on ENOMEM. */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_alloc_linear_skb")
    public VsockSkb allocLinear(int size) {
        return allocWithFrags(size, 0);
    }

    /**
     * {@code __virtio_vsock_alloc_skb_with_frags()}: head of {@code headerLen} bytes, {@code dataLen}
     * bytes of fragments ({@code alloc_skb_with_frags(..., PAGE_ALLOC_COSTLY_ORDER)}); null on ENOMEM.
     */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "__virtio_vsock_alloc_skb_with_frags")
    @Linux(file = "net/core/skbuff.c", fn = "alloc_skb_with_frags")
    public VsockSkb allocWithFrags(int headerLen, int dataLen) {
        return allocWithFrags(headerLen, dataLen, true);
    }

    /**
     * The buffer {@code virtio_vsock_rx_fill} posts: {@link #allocLinear} for {@code size} bytes whose
     * header bytes are left as memory holds them. SIM: the kernel clears the headroom after allocating;
     * the device writes the header before the driver reads it, so skipping that changes nothing but the
     * cost: posting a buffer does not touch its page, and an idle guest's RX buffers cost no memory
     * until packets arrive. Null on ENOMEM.
     */
    public VsockSkb allocRxBuffer(int size) {
        return allocWithFrags(size, 0, false);
    }

    private VsockSkb allocWithFrags(int headerLen, int dataLen, boolean clearHeader) {
        int osize = kmallocReserve(headerLen);
        long h = osize == SKB_SMALL_HEAD_CACHE_SIZE ? smallHead.alloc() : slab.kmalloc(osize);
        if (h < 0) {
            return null;
        }
        VsockSkb skb = take(h, skbWithOverhead(osize), clearHeader);
        if (dataLen > 0) {
            skb.ensureFrags();
        }
        int order = PAGE_ALLOC_COSTLY_ORDER;
        int left = dataLen;
        while (left > 0) {
            if (skb.nrFrags == MAX_SKB_FRAGS) {
                freeUnused(skb);
                return null;
            }
            int aligned = (left + GuestMemory.PAGE_SIZE - 1) & -GuestMemory.PAGE_SIZE;
            while (order > 0 && aligned < (GuestMemory.PAGE_SIZE << order)) {
                order--;
            }
            long fh = pages.allocPages(order);
            if (fh < 0) {
                if (order > 0) {
                    order--;
                    continue;
                }
                freeUnused(skb);
                return null;
            }
            int chunk = Math.min(left, GuestMemory.PAGE_SIZE << order);
            skb.fragHandle[skb.nrFrags] = fh;
            skb.fragSize[skb.nrFrags] = chunk;
            skb.nrFrags++;
            left -= chunk;
        }
        skb.dataLen = dataLen;
        return skb;
    }

    private VsockSkb take(long headHandle, int end, boolean clearHeader) {
        VsockSkb skb;
        synchronized (lock) {
            skb = free;
            if (skb != null) {
                free = skb.next;
                skb.next = null;
            } else {
                skb = new VsockSkb(this);
                created++;
            }
            inUse++;
        }
        skb.live = true;
        skb.headHandle = headHandle;
        skb.headGpa = slab.gpa(headHandle);
        skb.end = end;
        skb.tail = VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;
        skb.wrapHeader();
        if (clearHeader) {
            skb.hdr().clear();
        }
        return skb;
    }

    /** Frees {@code skb}: orphans it, returns its pages, recycles the object. Takes ownership. */
    void free(VsockSkb skb) {
        free(skb, true);
    }

    /**
     * Frees an skb whose allocation is being abandoned half-way (a fragment could not be had): what it
     * gives back was taken a moment ago, so it must not count as memory coming back for callers that
     * wait for some ({@link PageAllocator#retryAfterReclaim}); otherwise an RX refill that keeps
     * failing would wake itself through its own roll-back, forever.
     */
    void freeUnused(VsockSkb skb) {
        free(skb, false);
    }

    private void free(VsockSkb skb, boolean wakeWaiters) {
        if (!skb.live) {
            throw new IllegalStateException("double free of skb");
        }
        assert skb.list == null : "freeing a queued skb";
        skb.orphan();
        // skb_release_data: the zerocopy completion first (skb_zcopy_clear), then the pages.
        UbufInfoMsgzc uarg = skb.uarg;
        if (uarg != null) {
            skb.uarg = null;
            uarg.complete(true);
        }
        skb.live = false;
        slab.kfree(skb.headHandle, wakeWaiters);
        for (int i = 0; i < skb.nrFrags; i++) {
            // put_page, as skb_release_data does for every fragment: a pinned user page (MSG_ZEROCOPY)
            // goes back to its owner, a page mapped by zerocopy receive keeps the mapping's reference
            // and is freed when the user releases it, an ordinary fragment is freed here.
            pages.putPage(skb.fragHandle[i]);
            skb.fragHandle[i] = 0;
            skb.fragOff[i] = 0;
        }
        skb.fragsPinned = false;
        skb.headHandle = 0;
        skb.headGpa = 0;
        skb.nrFrags = 0;
        skb.len = 0;
        skb.dataLen = 0;
        skb.tail = 0;
        skb.end = 0;
        skb.offset = 0;
        skb.reply = false;
        skb.tapDelivered = false;
        skb.prev = null;
        synchronized (lock) {
            skb.next = free;
            free = skb;
            inUse--;
        }
    }
}
