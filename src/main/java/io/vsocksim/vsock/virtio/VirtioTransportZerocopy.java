package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOM;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOR;

import io.vsocksim.NotUpstream;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.mm.VmArea;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockUsrHdr;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.uapi.ZerocopyPolicy;

/**
 * The virtio transport's half of zerocopy receive (RFC v1 {@code zerocopy_dequeue}, v2
 * {@code virtio_transport_zerocopy_dequeue}), ported onto 6.12.117's sk_buff queue, plus the helpers
 * the guest driver, vhost and loopback use to allocate page-backed packets under a
 * {@link ZerocopyPolicy}.
 *
 * <p><b>Mapping layout</b> (one call):
 * <pre>
 *   slot 0      : header page, {u32 length; u32 flags} per packet, then a length-0 terminator if room
 *   slot 1..N   : the packets' data pages in queue order; a packet of L bytes takes ceil(L/4096)
 *                 consecutive slots, all full except its last; its header gives the bytes mapped now
 * </pre>
 *
 * <p><b>Which pages are mapped, which are copied.</b> A page of payload is inserted as it is when the
 * skb keeps its payload only in page fragments and the read offset is page-aligned (what
 * {@link ZerocopyPolicy#PAGES} produces). Anything else — a linear skb (a {@link ZerocopyPolicy#SMALL_COPY}
 * small packet, a 3776-byte buffer posted before the policy changed, a collapsed queue) or a packet
 * partly read with {@code recv()} — is copied, page by page, into fresh pages that are then mapped.
 * So mixing {@code recv()} and zerocopy never loses a byte (the RFC v2 dropped such a packet). The
 * unused tail of every last page is zeroed before it is mapped, so a mapping never shows bytes that
 * are not this packet's.
 *
 * <p><b>References.</b> Each inserted page takes a mapping reference ({@link VmArea#insertPage}); a
 * fresh copy page then drops the allocation reference, and a fully mapped skb is freed, which drops
 * the skb's fragment references ({@code put_page}). From then on the mapping holds the last reference,
 * so {@code madvise(MADV_DONTNEED)} or {@code munmap} frees the page to its allocator and nothing
 * frees it earlier.
 *
 * <p><b>Credit</b>, as the patches do: mapped bytes leave {@code rx_bytes} when mapped, a fully mapped
 * packet leaves the queue and advances {@code buf_used}/{@code fwd_cnt}, and a CREDIT_UPDATE is sent
 * after every call. The pages stay pinned until the user releases them, so the receive window no
 * longer bounds the memory a socket holds (docs/zerocopy.md measures it).
 */
@NotUpstream("virtio/vsock zerocopy RX RFC v1/v2: virtio_transport_zerocopy_dequeue (patch 4)")
public final class VirtioTransportZerocopy {
    /** {@code MAX_PAGES_TO_MAP}: pages one call inserts, the header page included (v2). */
    public static final int MAX_PAGES_TO_MAP = 256;
    private static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;
    private static final int PAGE_MASK_LOW = PAGE_SIZE - 1;

    private VirtioTransportZerocopy() {
    }

    /**
     * Fills the area {@code vma} (starting at {@code addr}) from {@code vsk}'s receive queue. Caller:
     * af_vsock with the socket lock and the mm lock held, the area already checked to belong to
     * {@code vsk}.
     *
     * @param eof the socket can no longer receive (peer done or local RCV_SHUTDOWN): map only the
     *            header page, holding the terminator
     * @return 0, or {@code -EFAULT} for an address that is not the area's start, an area of fewer than
     *         2 pages, an area that still holds pages of an earlier call, or no memory for the header
     *         page (nothing is mapped in every error case)
     */
    @NotUpstream("RFC v2 virtio_transport_zerocopy_dequeue")
    static int dequeue(VirtioTransport t, VsockSock vsk, VmArea vma, long addr, boolean eof) {
        if (addr != vma.start() || vma.npages() < 2 || vma.mappedPages() != 0) {
            return -EFAULT;
        }
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        PageAllocator pa = t.pool.pages();
        long hp = pa.allocPages(0);
        if (hp < 0) {
            return -EFAULT;
        }
        GuestMemory mem = pa.memory();
        mem.fill(pa.gpa(hp), PAGE_SIZE, (byte) 0);
        long hgpa = pa.gpa(hp);
        int maxData = eof || vvs == null ? 0 : Math.min(vma.npages() - 1, MAX_PAGES_TO_MAP - 1);
        boolean seqpacket = vsk.type == Sock.SOCK_SEQPACKET;
        int slot = 1;
        int nhdr = 0;
        if (maxData > 0) {
            vvs.rxLock.lock();
            try {
                VsockSkb skb;
                while (nhdr < VirtioVsockUsrHdr.PER_PAGE && slot - 1 < maxData && (skb = vvs.rxQueue.peek()) != null) {
                    int remaining = skb.len - skb.offset;
                    int need = (remaining + PAGE_MASK_LOW) / PAGE_SIZE;
                    int npg = Math.min(need, maxData - (slot - 1));
                    boolean direct = skb.len == skb.dataLen && skb.dataLen != 0 && (skb.offset & PAGE_MASK_LOW) == 0;
                    int bytes = 0;
                    boolean failed = false;
                    for (int p = 0; p < npg; p++) {
                        int off = skb.offset + p * PAGE_SIZE;
                        int chunk = Math.min(PAGE_SIZE, skb.len - off);
                        int rc = direct ? mapFragPage(pa, skb, off, chunk, vma, slot) : mapCopy(pa, skb, off, chunk, vma, slot);
                        if (rc != 0) {
                            failed = true;
                            break;
                        }
                        t.counters.inc(io.vsocksim.vsock.VsockCounters.Counter.PAGES_MAPPED);
                        if (!direct) {
                            // Not page-backed: the user gets a copy after all (copy 3 of the copy path).
                            t.counters.add(io.vsocksim.vsock.VsockCounters.Counter.BYTES_COPIED_TO_USER, chunk);
                        }
                        slot++;
                        bytes += chunk;
                    }
                    if (bytes == 0 && remaining != 0) {
                        break; // out of memory for a copy page: the packet stays queued whole
                    }
                    skb.offset += bytes;
                    VirtioVsockHdr hdr = skb.hdr();
                    boolean done = skb.offset == skb.len;
                    int flags = hdr.flags();
                    if (!done) {
                        flags &= ~(VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
                    }
                    if (remaining != 0) {
                        // struct virtio_vsock_usr_hdr, little-endian, written in place (no allocation).
                        long at = hgpa + (long) nhdr * VirtioVsockUsrHdr.SIZE;
                        mem.putU32(at + VirtioVsockUsrHdr.OFF_LENGTH, Integer.toUnsignedLong(bytes));
                        mem.putU32(at + VirtioVsockUsrHdr.OFF_FLAGS, Integer.toUnsignedLong(flags));
                        nhdr++;
                    }
                    if (done) {
                        vvs.rxQueue.unlinkLocked(skb);
                        if (seqpacket && (hdr.flags() & VIRTIO_VSOCK_SEQ_EOM) != 0) {
                            vvs.msgCount--;
                        }
                        VirtioTransportDequeue.decRxPkt(vvs, bytes, hdr.len());
                        skb.consumeSkb();
                    } else {
                        VirtioTransportDequeue.decRxPkt(vvs, bytes, 0);
                    }
                    if (failed) {
                        break;
                    }
                }
            } finally {
                vvs.rxLock.unlock();
            }
        }
        // The terminator is already there: the page was zeroed. Insert the header page last.
        vma.insertPage(0, pa, hp, 0);
        pa.putPage(hp);
        if (vvs != null) {
            t.sendCreditUpdate(vsk);
        }
        return 0;
    }

    /** Inserts the page holding payload bytes {@code [off, off + chunk)} of a page-backed skb. */
    private static int mapFragPage(PageAllocator pa, VsockSkb skb, int off, int chunk, VmArea vma, int slot) {
        int fragStart = 0;
        for (int i = 0; i < skb.nrFrags; i++) {
            int fragEnd = fragStart + skb.fragSize[i];
            if (off < fragEnd) {
                int pos = off - fragStart;
                int index = pos / PAGE_SIZE;
                if (chunk < PAGE_SIZE) {
                    pa.memory().fill(pa.gpa(skb.fragHandle[i]) + (long) index * PAGE_SIZE + chunk, PAGE_SIZE - chunk,
                            (byte) 0);
                }
                return vma.insertPage(slot, pa, skb.fragHandle[i], index);
            }
            fragStart = fragEnd;
        }
        return -EFAULT;
    }

    /** Copies payload bytes {@code [off, off + chunk)} into a fresh zero-tailed page and inserts it. */
    private static int mapCopy(PageAllocator pa, VsockSkb skb, int off, int chunk, VmArea vma, int slot) {
        long h = pa.allocPages(0);
        if (h < 0) {
            return (int) h;
        }
        GuestMemory mem = pa.memory();
        long to = pa.gpa(h);
        int rc = copyPayload(skb, off, mem, to, chunk);
        if (chunk < PAGE_SIZE) {
            mem.fill(to + chunk, PAGE_SIZE - chunk, (byte) 0);
        }
        if (rc == 0) {
            rc = vma.insertPage(slot, pa, h, 0);
        }
        pa.putPage(h);
        return rc;
    }

    /** Copies {@code n} payload bytes from payload offset {@code off} to {@code to} in {@code mem}. */
    private static int copyPayload(VsockSkb skb, int off, GuestMemory mem, long to, int n) {
        GuestMemory src = skb.pool.memory();
        PageAllocator pages = skb.pool.pages();
        int linear = Math.max(0, skb.len - skb.dataLen);
        int left = n;
        if (off < linear && left > 0) {
            int c = Math.min(left, linear - off);
            if (mem.copy(to, src, skb.headGpa() + VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + off, c) != 0) {
                return -EFAULT;
            }
            to += c;
            left -= c;
            off += c;
        }
        int fragStart = linear;
        for (int i = 0; i < skb.nrFrags && left > 0; i++) {
            int fragEnd = fragStart + skb.fragSize[i];
            if (off < fragEnd) {
                int c = Math.min(left, fragEnd - off);
                if (mem.copy(to, src, pages.gpa(skb.fragHandle[i]) + (off - fragStart), c) != 0) {
                    return -EFAULT;
                }
                to += c;
                left -= c;
                off += c;
            }
            fragStart = fragEnd;
        }
        return left == 0 ? 0 : -EFAULT;
    }

    // ---- page-backed packet allocation --------------------------------------------------------------

    /**
     * A packet for {@code payloadLen} bytes: page-backed (header alone in the head, payload in page
     * fragments from offset 0) when {@code policy} asks for it, else the kernel's
     * {@code virtio_vsock_alloc_skb}. Null on ENOMEM.
     */
    public static VsockSkb allocPacket(SkbPool pool, ZerocopyPolicy policy, int payloadLen) {
        if (policy.pageBacked(payloadLen)) {
            return pool.allocWithFrags(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM, payloadLen);
        }
        return pool.alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + payloadLen);
    }

    /**
     * A guest RX buffer as the RFC posts it: a head for the 44-byte header and {@code npages} whole
     * pages of payload, one order-0 fragment each (1 in the RFC). Null on ENOMEM.
     */
    public static VsockSkb allocRxPageSkb(SkbPool pool, int npages) {
        VsockSkb skb = pool.allocWithFrags(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM, 0);
        if (skb == null) {
            return null;
        }
        PageAllocator pa = pool.pages();
        skb.ensureFrags();
        for (int i = 0; i < npages; i++) {
            long h = pa.allocPages(0);
            if (h < 0) {
                pool.freeUnused(skb);
                return null;
            }
            skb.fragHandle[i] = h;
            skb.fragSize[i] = PAGE_SIZE;
            skb.nrFrags++;
        }
        skb.dataLen = npages * PAGE_SIZE;
        return skb;
    }

    /** Bytes the device may write into a posted RX skb: the head, or header plus pages. */
    public static long rxCapacity(VsockSkb skb) {
        if (skb.nrFrags == 0) {
            return skb.headLen();
        }
        long n = VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;
        for (int i = 0; i < skb.nrFrags; i++) {
            n += skb.fragSize[i];
        }
        return n;
    }

    /**
     * Sets the payload of a page RX skb to the {@code len} bytes the device wrote: {@code skb->len =
     * skb->data_len = len}, fragments trimmed to the data, pages left unused freed at once.
     */
    public static void rxPagePut(VsockSkb skb, int len) {
        int keep = Math.max(1, (len + PAGE_SIZE - 1) / PAGE_SIZE);
        PageAllocator pa = skb.pool.pages();
        for (int i = keep; i < skb.nrFrags; i++) {
            pa.putPage(skb.fragHandle[i]);
            skb.fragHandle[i] = 0;
            skb.fragSize[i] = 0;
        }
        skb.nrFrags = Math.min(skb.nrFrags, keep);
        int left = len;
        for (int i = 0; i < skb.nrFrags; i++) {
            skb.fragSize[i] = Math.min(left, PAGE_SIZE);
            left -= skb.fragSize[i];
        }
        skb.len = len;
        skb.dataLen = len;
    }

    /**
     * {@link ZerocopyPolicy#SMALL_COPY} on guest RX: a small packet that arrived in a page is copied
     * into a sub-page linear skb and the page skb freed (copybreak). Returns the skb to deliver: the
     * copy, or {@code skb} itself if the copy could not be allocated.
     */
    public static VsockSkb copyBreak(VsockSkb skb) {
        int len = skb.len;
        VsockSkb small = skb.pool.allocLinear(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + len);
        if (small == null) {
            return skb;
        }
        GuestMemory mem = skb.pool.memory();
        mem.copy(small.headGpa(), mem, skb.headGpa(), VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM);
        small.put(len);
        copyPayload(skb, 0, mem, small.headGpa() + VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM, len);
        small.tapDelivered = skb.tapDelivered;
        skb.kfreeSkb();
        return small;
    }
}
