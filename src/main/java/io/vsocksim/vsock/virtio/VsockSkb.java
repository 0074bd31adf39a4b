package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EMSGSIZE;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.UbufInfoMsgzc;
import io.vsocksim.vsock.VsockSock;

/**
 * The subset of {@code struct sk_buff} a virtio-vsock packet uses, with the control block
 * {@code struct virtio_vsock_skb_cb} ({@link #offset}, {@link #reply}, {@link #tapDelivered}).
 *
 * <pre>
 *   head block (pages of the machine's PageAllocator)
 *   +----------------+--------------------------+-----------------+
 *   | hdr (44 bytes) | linear payload           | tailroom        |
 *   +----------------+--------------------------+-----------------+
 *   0                44                         tail              end = SKB_WITH_OVERHEAD(osize)
 *   frags[0..nrFrags): page blocks of order &lt;= 3 holding the payload of a non-linear skb
 * </pre>
 *
 * <p>{@link #len} is the kernel's {@code skb->len} after {@code skb_reserve(44)}: payload bytes,
 * linear plus fragments ({@code skb->data_len} = {@link #dataLen}). A linear skb has {@code dataLen ==
 * 0}; a non-linear one has only the header in its head.
 *
 * <p>Ownership: an skb is owned by exactly one party at a time — the code that allocated it, a queue
 * it sits on, or a callee documented as "takes ownership". Whoever owns it last frees it with
 * {@link #kfreeSkb()} or {@link #consumeSkb()}, which returns its pages and the object to the
 * {@link SkbPool}. {@link #sk} is {@code skb->sk}: the owner socket holds a socket reference for as long
 * as the skb lives (SIM: the kernel charges a sent skb to {@code sk_wmem_alloc} and a received one to
 * {@code sk_refcnt}; both defer the socket's destruction until the skb is freed, which is all that is
 * modelled).
 *
 * <p>Not thread-safe: only its current owner touches it.
 */
@Linux(file = "include/linux/skbuff.h", fn = "struct sk_buff")
@Linux(file = "include/linux/virtio_vsock.h", fn = "struct virtio_vsock_skb_cb")
public final class VsockSkb {
    /** {@code VIRTIO_VSOCK_SKB_HEADROOM}: the header in front of the payload. */
    public static final int VIRTIO_VSOCK_SKB_HEADROOM = VirtioVsockHdr.SIZE;
    /** {@code VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE} = SKB_WITH_OVERHEAD(4096): a guest RX buffer, header included. */
    public static final int VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE = SkbPool.skbWithOverhead(4096);
    /** {@code VIRTIO_VSOCK_MAX_BUF_SIZE}: clamp of {@code buffer_size} (u32). */
    public static final long VIRTIO_VSOCK_MAX_BUF_SIZE = 0xFFFF_FFFFL;
    /** {@code VIRTIO_VSOCK_MAX_PKT_BUF_SIZE}: the largest payload of one transmitted skb. */
    public static final int VIRTIO_VSOCK_MAX_PKT_BUF_SIZE = 64 * 1024;

    final SkbPool pool;
    private final VirtioVsockHdr hdr = new VirtioVsockHdr();

    // Queue links, guarded by whatever serialises the queue.
    VsockSkb next;
    VsockSkb prev;
    SkbQueue list;

    private static final long[] NO_HANDLES = new long[0];
    private static final int[] NO_INTS = new int[0];

    boolean live;
    /** The head: a slab object or, above kmalloc's largest cache, a page block ({@link io.vsocksim.mm.Kmalloc}). */
    long headHandle;
    /** Guest-physical address of the head's first byte, kept so the data path never asks the cache. */
    long headGpa;
    /** Usable bytes of the head block ({@code skb_end_offset}). */
    int end;
    /** Bytes used in the head: header plus linear payload. */
    int tail;
    /** {@code skb->len}: payload bytes (linear + fragments). */
    int len;
    /** {@code skb->data_len}: payload bytes in fragments. */
    int dataLen;
    int nrFrags;
    /*
     * skb_shared_info's fragment table, made the first time this object carries fragments and kept
     * when it is recycled: a linear skb (every posted RX buffer of an idle guest) needs none.
     */
    long[] fragHandle = NO_HANDLES;
    int[] fragSize = NO_INTS;
    /** {@code skb_frag_off}: byte offset of fragment {@code i} in its page block (pinned user pages only). */
    int[] fragOff = NO_INTS;
    /** Fragments are pinned user pages ({@code SKBFL_ZEROCOPY_FRAG}): released with put_page. */
    boolean fragsPinned;
    /** {@code skb_zcopy(skb)}: the MSG_ZEROCOPY completion this skb holds a reference on, or null. */
    UbufInfoMsgzc uarg;

    /** {@code VIRTIO_VSOCK_SKB_CB(skb)->offset}: payload bytes already read. */
    public int offset;
    /** {@code VIRTIO_VSOCK_SKB_CB(skb)->reply}. */
    public boolean reply;
    /** {@code VIRTIO_VSOCK_SKB_CB(skb)->tap_delivered}. */
    public boolean tapDelivered;
    /** {@code skb->sk}: the owner socket, or null. */
    VsockSock sk;

    VsockSkb(SkbPool pool) {
        this.pool = pool;
    }

    /** {@code virtio_vsock_hdr(skb)}: the header flyweight (one per skb object, no allocation). */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_hdr")
    public VirtioVsockHdr hdr() {
        assert live : "use after free";
        return hdr;
    }

    void wrapHeader() {
        hdr.wrap(pool.memory().page(GuestMemory.gpaToPfn(headGpa)), (int) (headGpa & (GuestMemory.PAGE_SIZE - 1)));
    }

    /** {@code skb->len}: payload bytes. */
    public int len() {
        return len;
    }

    /** {@code skb->data_len}: payload bytes held in page fragments. */
    public int dataLen() {
        return dataLen;
    }

    /** Number of page fragments. */
    public int nrFrags() {
        return nrFrags;
    }

    /** {@code skb_is_nonlinear()}. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_is_nonlinear")
    public boolean isNonlinear() {
        return dataLen != 0;
    }

    /** {@code skb_tailroom()}: free bytes after the linear data; 0 for a non-linear skb. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_tailroom")
    public int tailroom() {
        return isNonlinear() ? 0 : end - tail;
    }

    /** {@code virtio_vsock_skb_len()}: size of the head buffer (header included). */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_len")
    public int headLen() {
        return end;
    }

    /** Guest-physical address of the head buffer (the header's first byte), e.g. for an RX descriptor. */
    public long headGpa() {
        return headGpa;
    }

    /**
     * Guest-physical address of page fragment {@code i} ({@code skb_frag_page} + {@code skb_frag_off};
     * the offset is 0 except for pinned user pages).
     */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_frag_page")
    public long fragGpa(int i) {
        return pool.pages().gpa(fragHandle[i]) + fragOff[i];
    }

    /** Makes the fragment table, once per object (see the field comment). */
    void ensureFrags() {
        if (fragHandle.length == 0) {
            fragHandle = new long[SkbPool.MAX_SKB_FRAGS];
            fragSize = new int[SkbPool.MAX_SKB_FRAGS];
            fragOff = new int[SkbPool.MAX_SKB_FRAGS];
        }
    }

    /**
     * {@code skb_zcopy_set(skb, uarg, NULL)}: binds the skb to a MSG_ZEROCOPY completion (takes a
     * reference on it); no-op for null.
     */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_zcopy_set")
    public void zcopySet(UbufInfoMsgzc u) {
        if (u != null) {
            u.get();
            uarg = u;
        }
    }

    /**
     * {@code __zerocopy_sg_from_iter()}: pins the next {@code length} bytes of the user iterator and
     * appends them as fragments, one per 4 KiB user page (see {@link io.vsocksim.mm.UserBuffer}). The
     * skb must hold no payload yet. Returns 0; {@code -EMSGSIZE} when the fragments run out;
     * {@code -EFAULT} when a page is not mapped or the memory is not pinnable. On failure the pages
     * pinned so far stay attached and are released when the caller frees the skb; the iterator is
     * restored (SIM: the kernel leaves it advanced, which no caller observes).
     */
    @Linux(file = "net/core/datagram.c", fn = "__zerocopy_sg_from_iter")
    public int zerocopySgFromIter(MsgHdr msg, int length) {
        PageAllocator pages = msg.userPages();
        if (pages != pool.pages()) {
            return -EFAULT;
        }
        int pos = msg.position();
        long handle = msg.userHandle();
        long blockGpa = pages.gpa(handle);
        fragsPinned = true;
        while (length > 0 && msg.dataLeft() > 0) {
            if (nrFrags == SkbPool.MAX_SKB_FRAGS) {
                msg.buffer().position(pos);
                return -EMSGSIZE;
            }
            long at = msg.userGpaAtPosition();
            int size = (int) Math.min(length, GuestMemory.PAGE_SIZE - (at & (GuestMemory.PAGE_SIZE - 1)));
            if (!msg.accessible(size)) {
                msg.buffer().position(pos);
                return -EFAULT;
            }
            pages.getPage(handle); // pin_user_pages: one reference per pinned page
            ensureFrags();
            fragHandle[nrFrags] = handle;
            fragOff[nrFrags] = (int) (at - blockGpa);
            fragSize[nrFrags] = size;
            nrFrags++;
            dataLen += size;
            len += size;
            msg.advance(size);
            length -= size;
        }
        return 0;
    }

    /** Bytes of page fragment {@code i} ({@code skb_frag_size}). */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_frag_size")
    public int fragSize(int i) {
        return fragSize[i];
    }

    /** The owner socket ({@code skb->sk}) or null. */
    public VsockSock sk() {
        return sk;
    }

    /** {@code virtio_vsock_skb_reply()}. */
    public boolean isReply() {
        return reply;
    }

    /**
     * {@code virtio_vsock_skb_put()}: extends the payload by {@code n} bytes (for a non-linear skb the
     * fragments were sized at allocation and only {@code len} is set).
     */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_put")
    public void put(int n) {
        if (isNonlinear()) {
            len = n;
            return;
        }
        if (n < 0 || n > end - tail) {
            throw new IllegalArgumentException("skb_put beyond end: n=" + n + " tailroom=" + (end - tail));
        }
        tail += n;
        len += n;
    }

    /** {@code skb_set_owner_w()} / {@code skb_set_owner_sk_safe()}: {@code sk} becomes the owner. */
    @Linux(file = "include/net/sock.h", fn = "skb_set_owner_sk_safe")
    public void setOwner(VsockSock newSk) {
        newSk.sockHold();
        orphan();
        sk = newSk;
    }

    /** {@code skb_orphan()}: drops the owner's reference. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_orphan")
    public void orphan() {
        VsockSock old = sk;
        if (old != null) {
            sk = null;
            old.sockPut();
        }
    }

    /** {@code kfree_skb()}: frees a dropped skb (pages and object back to the pool). */
    @Linux(file = "include/linux/skbuff.h", fn = "kfree_skb")
    public void kfreeSkb() {
        pool.free(this);
    }

    /** {@code consume_skb()}: frees an skb that did its job (same effect as {@link #kfreeSkb()}). */
    @Linux(file = "net/core/skbuff.c", fn = "consume_skb")
    public void consumeSkb() {
        pool.free(this);
    }

    // ---- copies ------------------------------------------------------------------------------------

    /**
     * Fills the payload with {@code n} bytes from the user iterator ({@code virtio_vsock_skb_put} then
     * {@code skb_copy_datagram_from_iter_full}). All or nothing: on a fault the iterator is restored
     * and {@code -EFAULT} returned.
     */
    @Linux(file = "net/core/datagram.c", fn = "skb_copy_datagram_from_iter_full")
    public int fillFromIter(MsgHdr msg, int n) {
        put(n);
        GuestMemory mem = pool.memory();
        int pos = msg.position();
        int rc;
        if (!isNonlinear()) {
            rc = msg.copyToMemory(mem, headGpa() + VIRTIO_VSOCK_SKB_HEADROOM, n);
        } else {
            rc = 0;
            int left = n;
            for (int i = 0; i < nrFrags && left > 0 && rc == 0; i++) {
                int c = Math.min(left, fragSize[i]);
                rc = msg.copyToMemory(mem, fragGpa(i), c);
                left -= c;
            }
        }
        if (rc != 0) {
            msg.buffer().position(pos);
            return -EFAULT;
        }
        return 0;
    }

    /**
     * {@code skb_copy_datagram_iter()}: copies {@code n} payload bytes starting at payload offset
     * {@code off} to the user iterator. All or nothing: 0, or {@code -EFAULT} with the iterator
     * unchanged.
     */
    @Linux(file = "net/core/datagram.c", fn = "skb_copy_datagram_iter")
    public int copyToIter(int off, MsgHdr msg, int n) {
        int pos = msg.position();
        int rc = 0;
        GuestMemory mem = pool.memory();
        int linear = len - dataLen;
        int left = n;
        if (off < linear && left > 0) {
            int c = Math.min(left, linear - off);
            rc = msg.copyFromMemory(mem, headGpa() + VIRTIO_VSOCK_SKB_HEADROOM + off, c);
            left -= c;
            off += c;
        }
        int fragStart = linear;
        for (int i = 0; i < nrFrags && left > 0 && rc == 0; i++) {
            int fragEnd = fragStart + fragSize[i];
            if (off < fragEnd) {
                int c = Math.min(left, fragEnd - off);
                rc = msg.copyFromMemory(mem, fragGpa(i) + (off - fragStart), c);
                left -= c;
                off += c;
            }
            fragStart = fragEnd;
        }
        if (rc != 0 || left != 0) {
            msg.buffer().position(pos);
            return -EFAULT;
        }
        return 0;
    }

    /**
     * {@code skb_copy_bits()} into {@code skb_put(dst, n)}: appends {@code n} payload bytes of this
     * skb, from payload offset {@code off}, to the linear tail of {@code dst}. Returns 0 or
     * {@code -EFAULT} (range outside this skb; {@code dst} unchanged).
     */
    @Linux(file = "net/core/skbuff.c", fn = "skb_copy_bits")
    public int copyBitsTo(int off, VsockSkb dst, int n) {
        if (off < 0 || n < 0 || off + n > len || dst.isNonlinear() || n > dst.tailroom()) {
            return -EFAULT;
        }
        GuestMemory mem = pool.memory();
        long to = dst.headGpa() + dst.tail;
        dst.put(n);
        int linear = len - dataLen;
        int left = n;
        if (off < linear && left > 0) {
            int c = Math.min(left, linear - off);
            mem.copy(to, mem, headGpa() + VIRTIO_VSOCK_SKB_HEADROOM + off, c);
            to += c;
            left -= c;
            off += c;
        }
        int fragStart = linear;
        for (int i = 0; i < nrFrags && left > 0; i++) {
            int fragEnd = fragStart + fragSize[i];
            if (off < fragEnd) {
                int c = Math.min(left, fragEnd - off);
                mem.copy(to, mem, fragGpa(i) + (off - fragStart), c);
                to += c;
                left -= c;
                off += c;
            }
            fragStart = fragEnd;
        }
        return 0;
    }

    /**
     * {@link #copyToIter skb_copy_datagram_iter} into a kernel buffer (a {@code kvec} iterator, as the
     * tap's frame is filled): {@code n} payload bytes from payload offset {@code off} into
     * {@code dst[dstOff, dstOff + n)}. Returns 0 or {@code -EFAULT} (range outside the skb; nothing copied).
     */
    public int copyBits(int off, byte[] dst, int dstOff, int n) {
        if (off < 0 || n < 0 || off + n > len) {
            return -EFAULT;
        }
        GuestMemory mem = pool.memory();
        int linear = len - dataLen;
        if (off < linear && n > 0) {
            int c = Math.min(n, linear - off);
            mem.read(headGpa() + VIRTIO_VSOCK_SKB_HEADROOM + off, dst, dstOff, c);
            dstOff += c;
            n -= c;
            off += c;
        }
        int fragStart = linear;
        for (int i = 0; i < nrFrags && n > 0; i++) {
            int fragEnd = fragStart + fragSize[i];
            if (off < fragEnd) {
                int c = Math.min(n, fragEnd - off);
                mem.read(fragGpa(i) + (off - fragStart), dst, dstOff, c);
                dstOff += c;
                n -= c;
                off += c;
            }
            fragStart = fragEnd;
        }
        return 0;
    }

    /** The 44 bytes of the packet's {@code struct virtio_vsock_hdr} as they are now, into {@code dst} at {@code off}. */
    public void headerBytes(byte[] dst, int off) {
        pool.memory().read(headGpa(), dst, off, VIRTIO_VSOCK_SKB_HEADROOM);
    }

    @Override
    public String toString() {
        if (!live) {
            return "VsockSkb{free}";
        }
        return "VsockSkb{len=" + len + " data_len=" + dataLen + " frags=" + nrFrags + " off=" + offset
                + " tailroom=" + tailroom() + " op=" + hdr.op() + " flags=" + hdr.flags() + " hdr.len=" + hdr.len() + "}";
    }
}
