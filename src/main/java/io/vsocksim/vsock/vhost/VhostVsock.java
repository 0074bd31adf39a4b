package io.vsocksim.vsock.vhost;

import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOM;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOR;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.Work;
import io.vsocksim.kernel.WorkQueue;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vhost.Iov;
import io.vsocksim.vhost.VhostVirtqueue;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.ZerocopySetting;
import io.vsocksim.vsock.vhost.VhostVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.SkbQueue;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioTransportRecv;
import io.vsocksim.vsock.virtio.VirtioTransportZerocopy;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;

/**
 * {@code struct vhost_vsock}: the host side of one guest's virtio-vsock device (one open of
 * {@code /dev/vhost-vsock}). Two vqs numbered as the guest numbers them: {@code vqs[VSOCK_VQ_RX]}
 * carries host→guest packets in guest-posted writable buffers, {@code vqs[VSOCK_VQ_TX]} guest→host
 * packets. The event queue belongs to the VMM.
 *
 * <p>Setup follows the ioctls a VMM issues: {@link #setMemTable}, {@link #setFeatures}, per vq
 * {@link #setVringNum} / {@link #setVringAddr} / {@link #setVringCall}, {@link #setGuestCid},
 * {@link #setRunning}; the driver's kicks arrive through {@link #kick(int)}. {@link #release()} is
 * the close of the fd.
 *
 * <p>Locks: one mutex per vq ({@code vq->mutex}); {@code sendPktQueue} has its own lock. Work runs on
 * the host machine's {@code system_wq} (SIM: vhost runs it on the device's own worker thread; with
 * more than one work-queue thread, handlers of the two vqs may run in parallel, which their separate
 * mutexes allow).
 */
@Linux(file = "drivers/vhost/vsock.c", fn = "struct vhost_vsock")
public final class VhostVsock {
    /** Max payload bytes per handler run before it requeues itself. */
    public static final int VHOST_VSOCK_WEIGHT = 0x80000;
    /** Max packets per handler run before it requeues itself. */
    public static final int VHOST_VSOCK_PKT_WEIGHT = 256;
    /** {@code VHOST_F_LOG_ALL}. */
    public static final int VHOST_F_LOG_ALL = 26;
    /** {@code VHOST_VSOCK_FEATURES}: {@code VHOST_FEATURES} + ACCESS_PLATFORM + F_SEQPACKET. */
    public static final long VHOST_VSOCK_FEATURES = (1L << VirtioRing.VIRTIO_F_NOTIFY_ON_EMPTY)
            | (1L << VirtioRing.VIRTIO_RING_F_INDIRECT_DESC) | (1L << VirtioRing.VIRTIO_RING_F_EVENT_IDX)
            | (1L << VHOST_F_LOG_ALL) | (1L << VirtioRing.VIRTIO_F_ANY_LAYOUT) | (1L << VirtioRing.VIRTIO_F_VERSION_1)
            | (1L << VirtioRing.VIRTIO_F_ACCESS_PLATFORM) | (1L << io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET);

    private static final Logger LOG = VhostTransport.LOG;

    final VhostTransport transport;
    private final SkbPool hostPool;
    private final GuestMemory host;
    private final WorkQueue worker;
    final VhostVsockCounters counters = new VhostVsockCounters();

    private GuestMemory guest;
    private final VhostVirtqueue[] vqs = new VhostVirtqueue[2];
    private final int[] pendingNum = new int[2];
    private final long[][] pendingAddr = new long[2][];
    private final Runnable[] calls = new Runnable[2];
    private final ReentrantLock[] vqMutex = {new Mutex(), new Mutex()};
    private final Iov[] iovs = {new Iov(Iov.UIO_MAXIOV), new Iov(Iov.UIO_MAXIOV)};
    /** {@code dev.mutex}. */
    private final ReentrantLock devMutex = new Mutex();

    final Work sendPktWork = new Work("vhost-vsock.send_pkt_work", this::sendPktWorkFn);
    /** {@code vqs[VSOCK_VQ_TX].poll.work}: vhost_vsock_handle_tx_kick. */
    final Work txKickWork = new Work("vhost-vsock.handle_tx_kick", this::handleTxKick);
    /** {@code vqs[VSOCK_VQ_RX].poll.work}: vhost_vsock_handle_rx_kick. */
    final Work rxKickWork = new Work("vhost-vsock.handle_rx_kick", this::handleRxKick);

    /** Host→guest packets not yet in a guest buffer. */
    final SkbQueue sendPktQueue = new SkbQueue();
    final AtomicInteger queuedReplies = new AtomicInteger();
    /** {@code guest_cid}, u32; 0 = none yet. Written under the transport's table mutex. */
    volatile int guestCid;
    volatile boolean seqpacketAllow;
    private volatile boolean released;
    /** SIM: the VMM's say on requests to unbound host ports; null (Linux: RST) unless a bridge set one. */
    private volatile UnboundRequestHook unboundRequestHook;

    /**
     * {@code open("/dev/vhost-vsock")} ({@code vhost_vsock_dev_open}): a fresh device of
     * {@code transport}'s machine, without CID, memory or queues.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_dev_open")
    public VhostVsock(VhostTransport transport) {
        this.transport = transport;
        this.hostPool = transport.pool();
        this.host = hostPool.memory();
        this.worker = transport.core().kernel().systemWq();
    }

    // ---- ioctls --------------------------------------------------------------------------------------

    /** {@code VHOST_SET_MEM_TABLE}. SIM: the whole guest memory is one region. */
    public void setMemTable(GuestMemory guestMemory) {
        this.guest = guestMemory;
    }

    /**
     * {@code VHOST_SET_FEATURES}: 0, {@code -EOPNOTSUPP} for unknown bits, {@code -EFAULT} for LOG_ALL
     * (no log base). SIM: the vqs are (re)created here, so features must be set before the rings;
     * no IOTLB, so ACCESS_PLATFORM changes nothing.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_set_features")
    public int setFeatures(long f) {
        if ((f & ~VHOST_VSOCK_FEATURES) != 0) {
            return -Errno.EOPNOTSUPP;
        }
        devMutex.lock();
        try {
            if ((f & (1L << VHOST_F_LOG_ALL)) != 0) {
                return -Errno.EFAULT;
            }
            seqpacketAllow = (f & (1L << io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET)) != 0;
            for (int i = 0; i < 2; i++) {
                vqMutex[i].lock();
                try {
                    vqs[i] = new VhostVirtqueue(guest, f, calls[i]);
                    if (pendingNum[i] != 0) {
                        vqs[i].setNum(pendingNum[i]);
                    }
                    if (pendingAddr[i] != null) {
                        vqs[i].setAddr(pendingAddr[i][0], pendingAddr[i][1], pendingAddr[i][2]);
                    }
                } finally {
                    vqMutex[i].unlock();
                }
            }
            return 0;
        } finally {
            devMutex.unlock();
        }
    }

    /** {@code VHOST_SET_VRING_CALL}: the guest interrupt for vq {@code i}; set before {@link #setFeatures}. */
    public void setVringCall(int i, Runnable call) {
        calls[i] = call;
    }

    /**
     * {@code VHOST_SET_VRING_NUM}: 0, {@code -EBUSY}, {@code -EINVAL}. As {@code vhost_vring_ioctl}, under
     * the vq mutex, then {@link VhostVirtqueue#setNum} ({@code vhost_vring_set_num}).
     */
    public int setVringNum(int i, int num) {
        vqMutex[i].lock();
        try {
            if (vqs[i] == null) {
                return -Errno.EINVAL; // SIM: features first
            }
            int r = vqs[i].setNum(num);
            if (r == 0) {
                pendingNum[i] = num;
            }
            return r;
        } finally {
            vqMutex[i].unlock();
        }
    }

    /**
     * {@code VHOST_SET_VRING_ADDR}: 0, {@code -EINVAL}, {@code -EFAULT}. As {@code vhost_vring_ioctl}, under
     * the vq mutex, then {@link VhostVirtqueue#setAddr} ({@code vhost_vring_set_addr}).
     */
    public int setVringAddr(int i, long desc, long avail, long used) {
        vqMutex[i].lock();
        try {
            if (vqs[i] == null) {
                return -Errno.EINVAL; // SIM: features first
            }
            int r = vqs[i].setAddr(desc, avail, used);
            if (r == 0) {
                pendingAddr[i] = new long[] {desc, avail, used};
            }
            return r;
        } finally {
            vqMutex[i].unlock();
        }
    }

    /**
     * {@code VHOST_VSOCK_SET_GUEST_CID}: 0, {@code -EINVAL} (reserved or 64-bit CID), {@code -EADDRINUSE}
     * (a local socket or another instance has it). Re-setting moves this instance to the new CID.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_set_cid")
    public int setGuestCid(long cid) {
        if (cid <= VmSockets.VMADDR_CID_HOST && cid >= 0 || cid == 0xFFFF_FFFFL) {
            return -Errno.EINVAL;
        }
        if (cid < 0 || cid > 0xFFFF_FFFFL) {
            return -Errno.EINVAL; // 64-bit CIDs are not supported
        }
        if (transport.core().findCid((int) cid)) {
            return -Errno.EADDRINUSE;
        }
        transport.vhostVsockMutex.lock();
        try {
            VhostVsock other = transport.get((int) cid);
            if (other != null && other != this) {
                return -Errno.EADDRINUSE;
            }
            VhostVsock[] h = transport.hash;
            boolean present = Arrays.asList(h).contains(this);
            guestCid = (int) cid;
            if (!present) {
                VhostVsock[] n = Arrays.copyOf(h, h.length + 1);
                n[h.length] = this;
                transport.hash = n;
            }
            return 0;
        } finally {
            transport.vhostVsockMutex.unlock();
        }
    }

    /** {@code VHOST_VSOCK_SET_RUNNING}: {@link #start()} for true, {@link #stop()} for false. */
    public int setRunning(boolean running) {
        return running ? start() : stop();
    }

    /** Attaches backends (access check, used index), then flushes packets queued earlier. */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_start")
    int start() {
        devMutex.lock();
        try {
            for (int i = 0; i < 2; i++) {
                vqMutex[i].lock();
                try {
                    if (vqs[i] == null || !vqs[i].metaPrefetch()) {
                        stopLocked();
                        return -Errno.EFAULT;
                    }
                    if (!vqs[i].hasBackend()) {
                        int r = vqs[i].setBackend(true);
                        if (r != 0) {
                            stopLocked();
                            return r;
                        }
                    }
                } finally {
                    vqMutex[i].unlock();
                }
            }
            worker.queueWork(sendPktWork);
            return 0;
        } finally {
            devMutex.unlock();
        }
    }

    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_stop")
    int stop() {
        devMutex.lock();
        try {
            stopLocked();
            return 0;
        } finally {
            devMutex.unlock();
        }
    }

    private void stopLocked() {
        for (int i = 0; i < 2; i++) {
            if (vqs[i] == null) {
                continue;
            }
            // Lock order dev mutex -> vq mutex, as in the kernel; reentrant when start() fails.
            vqMutex[i].lock();
            try {
                vqs[i].setBackend(false);
            } finally {
                vqMutex[i].unlock();
            }
        }
    }

    /**
     * The driver kicked vq {@code i} (its kick eventfd): queues the vq's handler. Ignored after
     * {@link #release()} (the eventfd is gone).
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_poll_wakeup")
    public void kick(int i) {
        if (released) {
            return;
        }
        if (i == VSOCK_VQ_TX) {
            counters.inc(Counter.TX_KICKS);
            worker.queueWork(txKickWork);
        } else if (i == VSOCK_VQ_RX) {
            counters.inc(Counter.RX_KICKS);
            worker.queueWork(rxKickWork);
        }
    }

    /** The fd is closed: unhash, reset orphaned host sockets, stop, flush, drop queued packets. */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_dev_release")
    public void release() {
        if (released) {
            return;
        }
        transport.unhash(this);
        transport.resetOrphans(this);
        released = true;
        stop();
        // vhost_vsock_flush + vhost_dev_stop
        sendPktWork.flush();
        txKickWork.flush();
        rxKickWork.flush();
        sendPktQueue.purge();
    }

    // ---- host -> guest ---------------------------------------------------------------------------------

    private boolean exceedsWeight(int i, int pkts, long totalLen) {
        if (VhostVirtqueue.exceedsWeight(pkts, totalLen, VHOST_VSOCK_PKT_WEIGHT, VHOST_VSOCK_WEIGHT)) {
            counters.inc(Counter.WEIGHT_REQUEUES);
            worker.queueWork(i == VSOCK_VQ_TX ? txKickWork : rxKickWork); // vhost_poll_queue(&vq->poll)
            return true;
        }
        return false;
    }

    /**
     * Moves queued host skbs into guest RX buffers, splitting what does not fit, up to the weights;
     * signals the guest once at the end.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_do_send_pkt")
    private void doSendPkt() {
        int pkts = 0;
        long totalLen = 0;
        boolean added = false;
        boolean restartTx = false;
        ReentrantLock mutex = vqMutex[VSOCK_VQ_RX];
        mutex.lock();
        try {
            VhostVirtqueue vq = vqs[VSOCK_VQ_RX];
            if (vq == null || !vq.hasBackend() || !vq.metaPrefetch()) {
                return;
            }
            Iov iov = iovs[VSOCK_VQ_RX];
            vq.disableNotify();
            do {
                VsockSkb skb = sendPktQueue.dequeue();
                if (skb == null) {
                    vq.enableNotify();
                    break;
                }
                int head = vq.getVqDesc(iov);
                if (head < 0) {
                    counters.inc(Counter.VQ_ERRORS);
                    logVqStopped(VSOCK_VQ_RX, vq);
                    sendPktQueue.queueHead(skb);
                    break;
                }
                if (head == vq.num()) {
                    sendPktQueue.queueHead(skb);
                    // Buffers may have slipped in while notifications were being re-enabled.
                    if (vq.enableNotify()) {
                        vq.disableNotify();
                        continue;
                    }
                    break;
                }
                if (iov.out() != 0) {
                    drop(Counter.DROP_RX_BAD_BUFFER, "guest RX buffer has device-readable descriptors", skb.hdr());
                    skb.kfreeSkb();
                    break;
                }
                long iovLen = iov.inBytes();
                if (iovLen < VirtioVsockHdr.SIZE) {
                    drop(Counter.DROP_RX_BAD_BUFFER, "guest RX buffer shorter than a header", skb.hdr());
                    skb.kfreeSkb();
                    break;
                }
                int offset = skb.offset;
                long payloadLen = skb.len() - offset;
                VirtioVsockHdr hdr = skb.hdr();
                int flagsToRestore = 0;
                if (payloadLen > iovLen - VirtioVsockHdr.SIZE) {
                    payloadLen = iovLen - VirtioVsockHdr.SIZE;
                    // Every fragment repeats the header; only the last may carry the delimiters.
                    if ((hdr.flags() & VIRTIO_VSOCK_SEQ_EOM) != 0) {
                        hdr.flags(hdr.flags() & ~VIRTIO_VSOCK_SEQ_EOM);
                        flagsToRestore |= VIRTIO_VSOCK_SEQ_EOM;
                        if ((hdr.flags() & VIRTIO_VSOCK_SEQ_EOR) != 0) {
                            hdr.flags(hdr.flags() & ~VIRTIO_VSOCK_SEQ_EOR);
                            flagsToRestore |= VIRTIO_VSOCK_SEQ_EOR;
                        }
                    }
                }
                int plen = (int) payloadLen;
                hdr.len(plen);
                if (IovIter.toIn(iov, guest, 0, host, skb.headGpa(), VirtioVsockHdr.SIZE) != VirtioVsockHdr.SIZE
                        || IovIter.skbPayload(skb, host, offset, iov, guest, VirtioVsockHdr.SIZE, plen, false) != 0) {
                    drop(Counter.DROP_RX_BAD_BUFFER, "copy into the guest RX buffer faulted", skb.hdr());
                    skb.kfreeSkb();
                    break;
                }
                counters.add(Counter.BYTES_COPIED, VirtioVsockHdr.SIZE + plen);
                transport.deliverTapPkt(skb);
                vq.addUsed(head, VirtioVsockHdr.SIZE + plen);
                added = true;
                counters.inc(Counter.RX_PKTS);
                counters.inc(Counter.RX_BUFS_USED);
                counters.add(Counter.RX_BYTES, plen);
                skb.offset += plen;
                totalLen += plen;
                if (skb.offset < skb.len()) {
                    hdr.flags(hdr.flags() | flagsToRestore);
                    skb.tapDelivered = false;
                    sendPktQueue.queueHead(skb);
                } else {
                    if (skb.isReply()) {
                        int val = queuedReplies.decrementAndGet();
                        if (val + 1 == vqs[VSOCK_VQ_TX].num()) {
                            restartTx = true;
                        }
                    }
                    VirtioTransport.consumeSkbSent(skb, true);
                }
            } while (!exceedsWeight(VSOCK_VQ_RX, ++pkts, totalLen));
            if (added) {
                vq.signal();
            }
        } finally {
            mutex.unlock();
            if (restartTx) {
                worker.queueWork(txKickWork);
            }
        }
    }

    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_send_pkt_work")
    private void sendPktWorkFn() {
        doSendPkt();
    }

    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_handle_rx_kick")
    private void handleRxKick() {
        doSendPkt();
    }

    // ---- guest -> host ---------------------------------------------------------------------------------

    /** Is there space left for replies to guest packets? */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_more_replies")
    private boolean moreReplies() {
        return queuedReplies.get() < vqs[VSOCK_VQ_TX].num();
    }

    /**
     * Copies one guest TX chain into a new host skb: header copied once and validated on the copy.
     * Returns null (chain rejected, reason counted) on a writable part, a bad total size, a header
     * length beyond the chain, or no memory.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_alloc_skb")
    private VsockSkb allocSkb(Iov iov) {
        if (iov.in() != 0) {
            drop(Counter.DROP_TX_WRITABLE, "TX chain has device-writable descriptors", null);
            return null;
        }
        long len = iov.outBytes();
        if (len < VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM
                || len > VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM) {
            drop(Counter.DROP_TX_BAD_SIZE, "TX chain shorter than a header or longer than 64 KiB + 44", null);
            return null;
        }
        // Zerocopy RX (RFC, not upstream): with the host's policy on, the payload goes in whole pages.
        VsockSkb skb = VirtioTransportZerocopy.allocPacket(hostPool, ZerocopySetting.policy(transport.core()),
                (int) len - VirtioVsockHdr.SIZE);
        if (skb == null) {
            drop(Counter.DROP_TX_NOMEM, "no host memory for the packet", null);
            return null;
        }
        if (IovIter.fromOut(iov, guest, 0, host, skb.headGpa(), VirtioVsockHdr.SIZE) != VirtioVsockHdr.SIZE) {
            drop(Counter.DROP_TX_BAD_SIZE, "copy of the header faulted", null);
            skb.kfreeSkb();
            return null;
        }
        long payloadLen = Integer.toUnsignedLong(skb.hdr().len());
        counters.add(Counter.BYTES_COPIED, VirtioVsockHdr.SIZE);
        if (payloadLen == 0) {
            return skb;
        }
        if (payloadLen + VirtioVsockHdr.SIZE > len) {
            drop(Counter.DROP_TX_BAD_HDR_LEN, "hdr.len beyond the TX chain", skb.hdr());
            skb.kfreeSkb();
            return null;
        }
        // The skb was sized for the whole chain; only hdr.len is put. For a non-linear skb that leaves
        // data_len at the chain's payload size (len < data_len) and bytes beyond 44 + hdr.len unread;
        // IovIter uses the kernel's skb_headlen arithmetic, so the payload lands where readers look.
        skb.put((int) payloadLen);
        if (IovIter.skbPayload(skb, host, 0, iov, guest, VirtioVsockHdr.SIZE, (int) payloadLen, true) != 0) {
            drop(Counter.DROP_TX_BAD_SIZE, "copy of the payload faulted", skb.hdr());
            skb.kfreeSkb();
            return null;
        }
        counters.add(Counter.BYTES_COPIED, payloadLen);
        return skb;
    }

    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_handle_tx_kick")
    private void handleTxKick() {
        int pkts = 0;
        long totalLen = 0;
        boolean added = false;
        ReentrantLock mutex = vqMutex[VSOCK_VQ_TX];
        mutex.lock();
        try {
            VhostVirtqueue vq = vqs[VSOCK_VQ_TX];
            if (vq == null || !vq.hasBackend() || !vq.metaPrefetch()) {
                return;
            }
            Iov iov = iovs[VSOCK_VQ_TX];
            vq.disableNotify();
            do {
                if (!moreReplies()) {
                    // Wait for the RX side to drain replies; notifications stay disabled.
                    counters.inc(Counter.TX_STOPPED_REPLIES);
                    break;
                }
                int head = vq.getVqDesc(iov);
                if (head < 0) {
                    counters.inc(Counter.VQ_ERRORS);
                    logVqStopped(VSOCK_VQ_TX, vq);
                    break;
                }
                if (head == vq.num()) {
                    if (vq.enableNotify()) {
                        vq.disableNotify();
                        continue;
                    }
                    break;
                }
                VsockSkb skb = allocSkb(iov);
                if (skb == null) {
                    // Rejected: the chain is consumed and never returned to the used ring.
                    continue;
                }
                totalLen += VirtioVsockHdr.SIZE + skb.len();
                transport.deliverTapPkt(skb);
                VirtioVsockHdr hdr = skb.hdr();
                if (hdr.srcCid() == Integer.toUnsignedLong(guestCid)
                        && hdr.dstCid() == Integer.toUnsignedLong(VmSockets.VMADDR_CID_HOST)) {
                    counters.inc(Counter.TX_PKTS);
                    counters.add(Counter.TX_BYTES, skb.len());
                    VirtioTransportRecv.recvPkt(transport, skb);
                } else {
                    drop(Counter.DROP_ISOLATION, "src_cid is not the guest's or dst_cid is not the host's", hdr);
                    skb.kfreeSkb();
                }
                vq.addUsed(head, 0);
                added = true;
            } while (!exceedsWeight(VSOCK_VQ_TX, ++pkts, totalLen));
            if (added) {
                vq.signal();
            }
        } finally {
            mutex.unlock();
        }
    }

    // ---- logging (SIM: vhost has only vq_err's pr_debug; these lines say which guest and why) -----------

    /** Counts a dropped packet in {@code reason} and logs it; {@code hdr} may be null (not read yet). */
    private void drop(Counter reason, String detail, VirtioVsockHdr hdr) {
        counters.inc(reason);
        if (LOG.isDebugEnabled()) {
            VsockLog.drop(LOG, transport.core().kernel().name(), reason.name(), detail + ", guest cid " + guestCidString(), hdr);
        }
    }

    /** The handler of vq {@code i} stopped on a chain it could not read ({@code vq_err}). */
    private void logVqStopped(int i, VhostVirtqueue vq) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: guest cid {}: {} vq stopped at last_avail_idx {}: vq_err {}", transport.core().kernel().name(),
                    guestCidString(), i == VSOCK_VQ_TX ? "TX" : "RX", vq.lastAvailIdx(), vq.lastError());
        }
    }

    private String guestCidString() {
        return Integer.toUnsignedString(guestCid);
    }

    // ---- accessors -------------------------------------------------------------------------------------

    /**
     * SIM, not in the kernel: installs (or with null removes) the hook consulted when a REQUEST from this
     * device's guest finds no socket on the host ({@link UnboundRequestHook}).
     */
    public void setUnboundRequestHook(UnboundRequestHook hook) {
        unboundRequestHook = hook;
    }

    /** The hook set by {@link #setUnboundRequestHook}, or null. */
    UnboundRequestHook unboundRequestHook() {
        return unboundRequestHook;
    }

    /** The device's counters. */
    public VhostVsockCounters counters() {
        return counters;
    }

    /** The guest CID, 0 if none. */
    public int guestCid() {
        return guestCid;
    }

    /** vq {@code i} (RX 0, TX 1) for diagnostics: vq_err counts, indices. */
    public VhostVirtqueue vq(int i) {
        return vqs[i];
    }

    /** Host packets waiting for guest buffers. */
    public int queuedPackets() {
        return sendPktQueue.len();
    }
}
