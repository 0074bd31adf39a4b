package io.vsocksim.vsock.guest;

import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_EVENT_SIZE;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_EVENT_TRANSPORT_RESET;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_EVENT;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_MAX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;

import io.vsocksim.Linux;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.Work;
import io.vsocksim.kernel.WorkQueue;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.virtio.VirtqueueSplit;
import io.vsocksim.virtio.VringAddrs;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.ZerocopySetting;
import io.vsocksim.vsock.guest.VirtioVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.SkbQueue;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioTransportRecv;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code struct virtio_vsock}: one guest's virtio-vsock device as the driver sees it — three split
 * virtqueues (rx, tx, event) in guest memory, the four work items, the intermediate send queue and
 * the RX buffer bookkeeping. The transport ops that reach it ({@code send_pkt}, {@code cancel_pkt})
 * are in {@link VirtioVsockTransport}.
 *
 * <p>Locks, as in the kernel: {@link #txLock} guards the TX vq, {@code txRun} and the sg arrays;
 * {@link #rxLock} guards the RX vq, {@code rxRun}, {@code rxBufNr}, {@code rxBufMaxNr}; {@link #eventLock}
 * guards the event vq. They are never nested in one another. {@code sendPktQueue} has its own lock.
 * Work runs on the guest machine's {@code system_wq} (SIM: the kernel's own "virtio_vsock" workqueue).
 *
 * <p>SIM: a device interrupt is {@link #interrupt(int)}, which queues the queue's work directly
 * ({@code vring_interrupt} → {@code virtio_vsock_*_done} → {@code queue_work}); the ring's
 * {@code event_triggered} hint is not set. Ring memory is allocated here from guest pages (the virtio
 * core's {@code vring_create_virtqueue} in the kernel).
 */
@Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "struct virtio_vsock")
public final class VirtioVsock {
    /** {@code ARRAY_SIZE(event_list)}. */
    public static final int EVENT_BUFS = 8;
    /** Default queue size (QEMU's vhost-vsock uses 128 for every queue). */
    public static final int DEFAULT_QUEUE_SIZE = 128;
    /** Device status bits (uapi virtio_config.h). */
    public static final int VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
    /** Driver found. */
    public static final int VIRTIO_CONFIG_S_DRIVER = 2;
    /** Driver ready. */
    public static final int VIRTIO_CONFIG_S_DRIVER_OK = 4;
    /** Features negotiated. */
    public static final int VIRTIO_CONFIG_S_FEATURES_OK = 8;

    /** net/vmw_vsock/virtio_transport.c's logger, shared with {@link VirtioVsockTransport}. */
    static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VIRTIO_TRANSPORT);
    /** {@code vq->name} of each queue, as virtio_vsock_vqs_init names them. */
    private static final String[] VQ_NAMES = {"rx", "tx", "event"};

    final VirtioVsockTransport transport;
    final VirtioVsockDevice vdev;
    final VirtioVsockCounters counters = new VirtioVsockCounters();
    private final PageAllocator pages;
    private final GuestMemory mem;
    private final SkbPool pool;
    private final WorkQueue wq;
    private final int queueSize;
    final long features;

    final VirtqueueSplit[] vqs = new VirtqueueSplit[VSOCK_VQ_MAX];
    private final long[] ringHandles = new long[VSOCK_VQ_MAX];
    private final IndirectTables indirect;

    final Work txWork = new Work("virtio_vsock.tx_work", this::txWorkFn);
    final Work rxWork = new Work("virtio_vsock.rx_work", this::rxWorkFn);
    final Work eventWork = new Work("virtio_vsock.event_work", this::eventWorkFn);
    final Work sendPktWork = new Work("virtio_vsock.send_pkt_work", this::sendPktWorkFn);

    /** {@code tx_lock}: the TX vq, {@code txRun}, the sg arrays. */
    final ReentrantLock txLock = new Mutex();
    private boolean txRun;
    final SkbQueue sendPktQueue = new SkbQueue();
    final AtomicInteger queuedReplies = new AtomicInteger();
    // out_sgs / out_bufs: header + up to MAX_SKB_FRAGS fragments, guarded by txLock.
    private final long[] outGpa = new long[SkbPool.MAX_SKB_FRAGS + 1];
    private final int[] outLen = new int[SkbPool.MAX_SKB_FRAGS + 1];

    /** {@code rx_lock}: the RX vq and the RX buffer counts. */
    final ReentrantLock rxLock = new Mutex();
    private boolean rxRun;
    private int rxBufNr;
    private int rxBufMaxNr;
    /**
     * A refill stopped short for want of memory and is still owed: the kernel's {@code rx_fill} would
     * be asleep in the allocator, and carries on posting once memory is back. See {@link #rxFill()}.
     */
    private boolean rxFillPending;
    /** Immediate retries of a refill whose memory came back between its failure and its arming. */
    private static final int MAX_FILL_RETRIES = 4;
    /** Armed with the page allocator when a refill found no memory: queues the RX work again. */
    private final Runnable rxRetryFn = this::rxRetry;
    private final long[] inGpa = new long[1 + ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER];
    private final int[] inLen = new int[1 + ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER];

    /** {@code event_lock}: the event vq and the event buffers. */
    final ReentrantLock eventLock = new Mutex();
    private boolean eventRun;
    private long eventPage;
    private final EventBuf[] eventList = new EventBuf[EVENT_BUFS];
    private final long[] evGpa = new long[1];
    private final int[] evLen = new int[1];

    /** {@code guest_cid}: read from config space at init and on TRANSPORT_RESET. */
    volatile int guestCid;
    /** {@code seqpacket_allow}: F_SEQPACKET negotiated. */
    final boolean seqpacketAllow;
    private final Consumer<VsockSock> resetSockOnEventFn = sk -> resetSock(sk, "TRANSPORT_RESET event (ECONNRESET)");
    private final Consumer<VsockSock> resetSockOnRemoveFn = sk -> resetSock(sk, "device removed (ECONNRESET)");
    private final VirtqueueSplit.Notify notifyFn = this::notifyVq;

    /** One {@code struct virtio_vsock_event} (4 bytes of guest memory) and its ring token. */
    private record EventBuf(long gpa) {
    }

    /**
     * SIM (test hook): the token of a hand-made event chain ({@link #addRawEventChain}), its writable
     * buffers in order. Read as one event gathered across them; not reposted.
     */
    private record RawEventChain(long[] gpa, int[] len) {
        int eventId(GuestMemory mem) {
            byte[] ev = new byte[VIRTIO_VSOCK_EVENT_SIZE];
            int off = 0;
            for (int i = 0; i < gpa.length && off < ev.length; i++) {
                int n = (int) Math.min(Integer.toUnsignedLong(len[i]), ev.length - off);
                mem.read(gpa[i], ev, off, n);
                off += n;
            }
            return ByteBuffer.wrap(ev).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }
    }

    VirtioVsock(VirtioVsockTransport transport, VirtioVsockDevice vdev, int queueSize, long driverFeatures) {
        this.transport = transport;
        this.vdev = vdev;
        this.pages = transport.core().kernel().pages();
        this.mem = pages.memory();
        this.pool = transport.pool();
        this.wq = transport.core().kernel().systemWq();
        this.queueSize = queueSize;
        // virtio_dev_probe: ACKNOWLEDGE and DRIVER are set before the driver's probe runs.
        vdev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
        vdev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
        this.features = vdev.deviceFeatures() & driverFeatures;
        vdev.finalizeFeatures(features);
        vdev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
        this.seqpacketAllow = (features & (1L << io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET)) != 0;
        this.indirect = new IndirectTables(pages, queueSize);
    }

    // ---- init / start / del ---------------------------------------------------------------------------

    /** Creates the three vqs, reads the CID, sets DRIVER_OK. Returns 0 or {@code -errno}. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_vqs_init")
    int vqsInit() {
        rxLock.lock();
        try {
            rxBufNr = 0;
            rxBufMaxNr = 0;
        } finally {
            rxLock.unlock();
        }
        queuedReplies.set(0);
        for (int i = 0; i < VSOCK_VQ_MAX; i++) {
            int r = findVq(i);
            if (r < 0) {
                freeRings();
                return r;
            }
        }
        updateGuestCid();
        vdev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK
                | VIRTIO_CONFIG_S_DRIVER_OK);
        return 0;
    }

    /** vring_create_virtqueue + the transport's queue setup for queue {@code i}. */
    private int findVq(int i) {
        long size = VringAddrs.legacySize(queueSize, GuestMemory.PAGE_SIZE);
        long h = pages.allocPages(PageAllocator.getOrder(size));
        if (h < 0) {
            return -Errno.ENOMEM;
        }
        ringHandles[i] = h;
        VringAddrs addrs = VringAddrs.legacy(pages.gpa(h), queueSize, GuestMemory.PAGE_SIZE);
        VirtqueueSplit.Callback cb = i == VSOCK_VQ_RX ? vq -> rxDone() : i == VSOCK_VQ_TX ? vq -> txDone() : vq -> eventDone();
        vqs[i] = new VirtqueueSplit(transport.core().kernel().name() + " " + VQ_NAMES[i], mem, addrs, features, cb,
                notifyFn, i == VSOCK_VQ_TX ? indirect : null);
        return vdev.setupVq(i, addrs);
    }

    private boolean notifyVq(VirtqueueSplit vq) {
        counters.inc(Counter.KICKS);
        for (int i = 0; i < VSOCK_VQ_MAX; i++) {
            if (vqs[i] == vq) {
                return vdev.notify(i);
            }
        }
        return false;
    }

    /** Enables TX, fills RX and event queues, flushes packets queued earlier. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_vqs_start")
    void vqsStart() {
        txLock.lock();
        try {
            txRun = true;
        } finally {
            txLock.unlock();
        }
        rxLock.lock();
        try {
            rxFill();
            rxRun = true;
        } finally {
            rxLock.unlock();
        }
        eventLock.lock();
        try {
            eventFill();
            eventRun = true;
        } finally {
            eventLock.unlock();
        }
        wq.queueWork(sendPktWork);
    }

    /** Resets connected sockets, stops the works, resets the device, frees every buffer and the rings. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_vqs_del")
    void vqsDel() {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: virtio-vsock device removed, resetting every connected socket", transport.core().kernel().name());
        }
        transport.core().forEachConnectedSocket(transport, resetSockOnRemoveFn);
        rxLock.lock();
        rxRun = false;
        rxFillPending = false;
        rxLock.unlock();
        pages.cancelRetry(rxRetryFn);
        txLock.lock();
        txRun = false;
        txLock.unlock();
        eventLock.lock();
        eventRun = false;
        eventLock.unlock();
        vdev.reset();
        rxLock.lock();
        try {
            Object t;
            while ((t = vqs[VSOCK_VQ_RX].detachUnusedBuf()) != null) {
                ((VsockSkb) t).kfreeSkb();
            }
        } finally {
            rxLock.unlock();
        }
        txLock.lock();
        try {
            Object t;
            while ((t = vqs[VSOCK_VQ_TX].detachUnusedBuf()) != null) {
                ((VsockSkb) t).kfreeSkb();
            }
        } finally {
            txLock.unlock();
        }
        eventLock.lock();
        try {
            while (vqs[VSOCK_VQ_EVENT].detachUnusedBuf() != null) {
                // event buffers live in eventPage, freed below
            }
        } finally {
            eventLock.unlock();
        }
        sendPktQueue.purge();
        vdev.delVqs();
    }

    /** After the works were flushed: returns ring, event and indirect-table pages. */
    void freeRings() {
        for (int i = 0; i < VSOCK_VQ_MAX; i++) {
            if (ringHandles[i] > 0) {
                pages.freePages(ringHandles[i]);
                ringHandles[i] = 0;
            }
            vqs[i] = null;
        }
        if (eventPage > 0) {
            pages.freePages(eventPage);
            eventPage = 0;
        }
        indirect.release();
    }

    // ---- interrupts -------------------------------------------------------------------------------------

    /**
     * The device signalled queue {@code index} (its call eventfd). SIM: queues the queue's work, as
     * {@code vring_interrupt} does through the queue callback.
     */
    public void interrupt(int index) {
        counters.inc(Counter.INTERRUPTS);
        if (transport.device() != this) {
            return; // vdev->priv cleared: removed
        }
        switch (index) {
            case VSOCK_VQ_RX -> rxDone();
            case VSOCK_VQ_TX -> txDone();
            case VSOCK_VQ_EVENT -> eventDone();
            default -> { }
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_rx_done")
    private void rxDone() {
        wq.queueWork(rxWork);
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_tx_done")
    private void txDone() {
        wq.queueWork(txWork);
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_event_done")
    private void eventDone() {
        wq.queueWork(eventWork);
    }

    // ---- transmit ----------------------------------------------------------------------------------------

    /**
     * Puts {@code skb} on the TX vq: header sg, then the linear payload or one sg per fragment, all
     * device-readable. txLock held. Returns 0 (the vq owns the skb) or {@code -errno} (caller keeps it).
     */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_send_skb")
    int sendSkb(VsockSkb skb) {
        assert txLock.isHeldByCurrentThread() : "tx_lock";
        int outSg = 0;
        outGpa[outSg] = skb.headGpa();
        outLen[outSg++] = VirtioVsockHdr.SIZE;
        if (!skb.isNonlinear()) {
            if (skb.len() > 0) {
                outGpa[outSg] = skb.headGpa() + VIRTIO_VSOCK_SKB_HEADROOM;
                outLen[outSg++] = skb.len();
            }
        } else {
            for (int i = 0; i < skb.nrFrags(); i++) {
                outGpa[outSg] = skb.fragGpa(i);
                outLen[outSg++] = skb.fragSize(i);
            }
        }
        int len = skb.len();
        int ret = vqs[VSOCK_VQ_TX].addSgs(outGpa, outLen, outSg, null, null, 0, skb);
        if (ret < 0) {
            return ret;
        }
        counters.inc(Counter.TX_PKTS);
        counters.add(Counter.TX_BYTES, len);
        transport.deliverTapPkt(skb);
        return 0;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_send_pkt_work")
    private void sendPktWorkFn() {
        boolean added = false;
        boolean restartRx = false;
        txLock.lock();
        try {
            if (!txRun) {
                return;
            }
            VirtqueueSplit vq = vqs[VSOCK_VQ_TX];
            for (;;) {
                VsockSkb skb = sendPktQueue.dequeue();
                if (skb == null) {
                    break;
                }
                boolean reply = skb.isReply();
                if (sendSkb(skb) < 0) {
                    sendPktQueue.queueHead(skb);
                    break;
                }
                if (reply) {
                    int val = queuedReplies.decrementAndGet();
                    if (val + 1 == vqs[VSOCK_VQ_RX].size()) {
                        restartRx = true;
                    }
                }
                added = true;
            }
            if (added) {
                vq.kick();
            }
        } finally {
            txLock.unlock();
            if (restartRx) {
                wq.queueWork(rxWork);
            }
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_tx_work")
    private void txWorkFn() {
        boolean added = false;
        txLock.lock();
        try {
            if (!txRun) {
                return;
            }
            VirtqueueSplit vq = vqs[VSOCK_VQ_TX];
            do {
                vq.disableCb();
                Object t;
                while ((t = vq.getBuf()) != null) {
                    VirtioTransport.consumeSkbSent((VsockSkb) t, true);
                    counters.inc(Counter.TX_RECLAIMED);
                    added = true;
                }
            } while (!vq.enableCb());
        } finally {
            txLock.unlock();
            if (added) {
                wq.queueWork(sendPktWork);
            }
        }
    }

    // ---- receive -----------------------------------------------------------------------------------------

    /** Is there space left for replies to received packets? */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_more_replies")
    private boolean moreReplies() {
        return queuedReplies.get() < vqs[VSOCK_VQ_RX].size();
    }

    /**
     * Posts one writable {@value VsockSkb#VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE}-byte buffer per descriptor
     * (header and payload share it) until the vq is full, then kicks. rxLock held.
     *
     * <p>Memory pressure: the kernel allocates each buffer with {@code GFP_KERNEL} at order 0 or 1,
     * which never fails but reclaims and waits until memory is back (the page allocator's
     * "too small to fail" rule), so a refill that meets a shortage is late, never lost. SIM: the
     * simulator's allocator fails at once, so a refill that finds no memory stops, is marked owed
     * ({@link #rxFillPending}), and arms {@link PageAllocator#retryAfterReclaim}: the next free queues
     * the RX work, which finishes the refill. No thread sleeps holding {@code rx_lock}; the buffers
     * reach the device once memory is back, as in the kernel.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_rx_fill")
    private void rxFill() {
        int totalLen = VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE;
        VirtqueueSplit vq = vqs[VSOCK_VQ_RX];
        // Not upstream: with zerocopy RX on, buffers of a header and whole pages (ZerocopyRxBuffers).
        int rxPages = ZerocopyRxBuffers.pagesPerBuffer(transport.core());
        rxFillPending = false;
        int retries = 0;
        do {
            VsockSkb skb = rxPages == 0 ? pool.allocRxBuffer(totalLen) : ZerocopyRxBuffers.alloc(pool, rxPages);
            if (skb == null) {
                counters.inc(Counter.RX_FILL_NOMEM);
                if (!pages.retryAfterReclaim(1 + rxPages, rxRetryFn) && ++retries <= MAX_FILL_RETRIES) {
                    continue; // memory came back meanwhile: try again now
                }
                if (retries > MAX_FILL_RETRIES) {
                    rxRetry(); // others keep taking what is freed: come back through the work queue
                }
                rxFillPending = true;
                break;
            }
            // SIM: no memset of the headroom (SkbPool.allocRxBuffer says why).
            int inSg = 1;
            inGpa[0] = skb.headGpa();
            inLen[0] = totalLen;
            if (rxPages != 0) {
                inSg = ZerocopyRxBuffers.sg(skb, inGpa, inLen);
            }
            if (vq.addSgs(null, null, 0, inGpa, inLen, inSg, skb) < 0) {
                skb.kfreeSkb();
                break;
            }
            rxBufNr++;
            counters.inc(Counter.RX_BUFS_POSTED);
        } while (vq.numFree() > 0);
        if (rxBufNr > rxBufMaxNr) {
            rxBufMaxNr = rxBufNr;
        }
        vq.kick();
    }

    /** Memory was freed after a refill came up short: let the RX work finish the refill. */
    private void rxRetry() {
        if (transport.device() == this) { // not removed meanwhile (vqsDel disarms it, a free may race that)
            wq.queueWork(rxWork);
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_rx_work")
    private void rxWorkFn() {
        rxLock.lock();
        try {
            if (!rxRun) {
                return;
            }
            VirtqueueSplit vq = vqs[VSOCK_VQ_RX];
            drain:
            do {
                vq.disableCb();
                for (;;) {
                    if (!moreReplies()) {
                        // Stop until the device has taken the pending replies; callbacks stay off.
                        counters.inc(Counter.RX_STOPPED_REPLIES);
                        break drain;
                    }
                    VsockSkb skb = (VsockSkb) vq.getBuf();
                    if (skb == null) {
                        break;
                    }
                    long len = Integer.toUnsignedLong(vq.lastLen());
                    rxBufNr--;
                    counters.inc(Counter.RX_BUFS_USED);
                    if (skb.nrFrags() != 0) {
                        // Not upstream: a zerocopy RX page buffer, checked and trimmed by its own layout.
                        skb = ZerocopyRxBuffers.received(this, skb, len);
                        if (skb == null) {
                            continue;
                        }
                    } else {
                        // Drop short/long packets.
                        if (len < VirtioVsockHdr.SIZE || len > skb.headLen()) {
                            counters.inc(Counter.RX_DROP_SHORT_LONG);
                            if (LOG.isDebugEnabled()) {
                                VsockLog.drop(LOG, transport.core().kernel().name(), Counter.RX_DROP_SHORT_LONG.name(),
                                        "used length " + len + " outside 44.." + skb.headLen(), null);
                            }
                            skb.kfreeSkb();
                            continue;
                        }
                        long payloadLen = Integer.toUnsignedLong(skb.hdr().len());
                        if (payloadLen > len - VirtioVsockHdr.SIZE) {
                            counters.inc(Counter.RX_DROP_BAD_LEN);
                            if (LOG.isDebugEnabled()) {
                                VsockLog.drop(LOG, transport.core().kernel().name(), Counter.RX_DROP_BAD_LEN.name(),
                                        "hdr.len beyond the used length " + len, skb.hdr());
                            }
                            skb.kfreeSkb();
                            continue;
                        }
                        if (payloadLen != 0) {
                            skb.put((int) payloadLen);
                        }
                    }
                    counters.inc(Counter.RX_PKTS);
                    counters.add(Counter.RX_BYTES, skb.len());
                    transport.deliverTapPkt(skb);
                    VirtioTransportRecv.recvPkt(transport, skb);
                }
            } while (!vq.enableCb());
            if (rxBufNr < rxBufMaxNr / 2 || rxFillPending) {
                rxFill();
            }
        } finally {
            rxLock.unlock();
        }
    }

    // ---- events ------------------------------------------------------------------------------------------

    /** eventLock held; 0 or {@code -errno}. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_event_fill_one")
    private int eventFillOne(EventBuf ev) {
        evGpa[0] = ev.gpa();
        evLen[0] = VIRTIO_VSOCK_EVENT_SIZE;
        return vqs[VSOCK_VQ_EVENT].addSgs(null, null, 0, evGpa, evLen, 1, ev);
    }

    /**
     * The event buffers are part of {@code struct virtio_vsock}, which {@code virtio_vsock_probe}
     * ({@link VirtioVsockTransport#probe}) allocates before anything else: here they take a page of
     * guest memory, and without one the probe fails with ENOMEM as the kernel's does when that
     * allocation fails.
     *
     * @return 0, or {@code -ENOMEM}
     */
    int allocEventList() {
        eventLock.lock();
        try {
            long h = pages.allocPages(0);
            if (h < 0) {
                return -Errno.ENOMEM;
            }
            eventPage = h;
            for (int i = 0; i < EVENT_BUFS; i++) {
                eventList[i] = new EventBuf(pages.gpa(eventPage) + (long) i * VIRTIO_VSOCK_EVENT_SIZE);
            }
            return 0;
        } finally {
            eventLock.unlock();
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_event_fill")
    private void eventFill() {
        for (EventBuf ev : eventList) {
            eventFillOne(ev);
        }
        vqs[VSOCK_VQ_EVENT].kick();
    }

    /**
     * {@code sk_state = CLOSE}, {@code sk_err = ECONNRESET}, error report; {@code peer_shutdown} and
     * SOCK_DONE untouched. Like the kernel, without the socket lock. SIM: {@code cause} is for the DEBUG
     * line only.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_reset_sock")
    private void resetSock(VsockSock sk, String cause) {
        VsockLog.event(LOG, sk, "reset", cause);
        sk.setState(LOG, TcpState.TCP_CLOSE);
        sk.skErr = Errno.ECONNRESET;
        sk.errorReport();
        counters.inc(Counter.SOCKETS_RESET);
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_update_guest_cid")
    private void updateGuestCid() {
        guestCid = (int) vdev.readGuestCid();
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_event_handle")
    private void eventHandle(int id) {
        if (id == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) {
            counters.inc(Counter.TRANSPORT_RESETS);
            int oldCid = guestCid;
            updateGuestCid();
            if (LOG.isDebugEnabled()) {
                LOG.debug("{}: transport reset: guest cid {} -> {}, resetting every connected socket",
                        transport.core().kernel().name(), Integer.toUnsignedString(oldCid), Integer.toUnsignedString(guestCid));
            }
            transport.core().forEachConnectedSocket(transport, resetSockOnEventFn);
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_event_work")
    private void eventWorkFn() {
        eventLock.lock();
        try {
            if (!eventRun) {
                return;
            }
            VirtqueueSplit vq = vqs[VSOCK_VQ_EVENT];
            do {
                vq.disableCb();
                Object t;
                while ((t = vq.getBuf()) != null) {
                    counters.inc(Counter.EVENTS);
                    boolean whole = Integer.toUnsignedLong(vq.lastLen()) == VIRTIO_VSOCK_EVENT_SIZE;
                    if (t instanceof EventBuf ev) {
                        if (whole) {
                            eventHandle((int) mem.getU32(ev.gpa()));
                        }
                        eventFillOne(ev);
                    } else if (whole) {
                        eventHandle(((RawEventChain) t).eventId(mem));
                    }
                }
            } while (!vq.enableCb());
            vq.kick();
        } finally {
            eventLock.unlock();
        }
    }

    // ---- accessors ---------------------------------------------------------------------------------------

    /** The driver's counters. */
    public VirtioVsockCounters counters() {
        return counters;
    }

    /** {@code guest_cid} as last read from the device. */
    public int guestCid() {
        return guestCid;
    }

    /** Queue {@code index} (rx 0, tx 1, event 2); tests and diagnostics. */
    public VirtqueueSplit vq(int index) {
        return vqs[index];
    }

    /** {@code rx_buf_nr} (racy read, diagnostics). */
    public int rxBufNr() {
        return rxBufNr;
    }

    /** {@code rx_buf_max_nr} (racy read, diagnostics). */
    public int rxBufMaxNr() {
        return rxBufMaxNr;
    }

    /**
     * SIM (test hook, not in the kernel): exposes a hand-made chain on the TX vq under {@code tx_lock}
     * and kicks, as a misbehaving or malicious guest driver would. {@code token} is freed like any TX
     * skb if the device returns the chain. Returns 0 or {@code -errno} (the caller keeps the token).
     */
    public int addRawTxChain(long[] outG, int[] outL, int outNum, long[] inG, int[] inL, int inNum, VsockSkb token) {
        return addRawChain(txLock, VSOCK_VQ_TX, outG, outL, outNum, inG, inL, inNum, token);
    }

    /**
     * SIM (test hook, not in the kernel): posts a hand-made chain on the event vq under
     * {@code event_lock} and kicks, as a driver laying out its event buffers differently from Linux
     * would. If the device returns it with used length 4, the event is gathered from the writable
     * buffers in order and handled; the chain is not reposted. The buffers stay the caller's. Returns 0
     * or {@code -errno}.
     */
    public int addRawEventChain(long[] outG, int[] outL, int outNum, long[] inG, int[] inL, int inNum) {
        RawEventChain token = new RawEventChain(Arrays.copyOf(inG == null ? new long[0] : inG, inNum),
                Arrays.copyOf(inL == null ? new int[0] : inL, inNum));
        return addRawChain(eventLock, VSOCK_VQ_EVENT, outG, outL, outNum, inG, inL, inNum, token);
    }

    private int addRawChain(ReentrantLock lock, int index, long[] outG, int[] outL, int outNum, long[] inG,
            int[] inL, int inNum, Object token) {
        lock.lock();
        try {
            int r = vqs[index].addSgs(outG, outL, outNum, inG, inL, inNum, token);
            if (r == 0) {
                vqs[index].kick();
            }
            return r;
        } finally {
            lock.unlock();
        }
    }
}
