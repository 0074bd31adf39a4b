package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.EMSGSIZE;
import static io.vsocksim.uapi.Sock.MSG_PEEK;
import static io.vsocksim.uapi.Sock.RCV_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SEND_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SHUTDOWN_MASK;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_RCV;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_SEND;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_MAX_BUF_SIZE;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.DelayedWork;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VsockMon;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockCounters;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.VsockTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code struct virtio_transport}: the ops every virtio transport shares ({@code virtio_transport_*}
 * of virtio_transport_common.c) plus the device hook {@link #sendPkt(VsockSkb)}. Subclasses (loopback,
 * guest driver, vhost) supply {@code send_pkt}, {@code get_local_cid}, {@code cancel_pkt} and their
 * feature checks, and hand every packet they receive to {@link VirtioTransportRecv#recvPkt}. The rest of
 * the file is split by concern, never inside a function: {@link VirtioTransportSend} builds and sends
 * packets, {@link VirtioTransportDequeue} reads the receive queue.
 *
 * <p>One instance per machine and role, bound to the machine's {@link VsockCore}. Locks: the socket
 * lock is taken by af_vsock for user calls and by {@code recvPkt}; {@link VirtioVsockSock#txLock} and
 * {@link VirtioVsockSock#rxLock} are leaves; user copies run with neither held.
 */
@Linux(file = "include/linux/virtio_vsock.h", fn = "struct virtio_transport")
public abstract class VirtioTransport implements VsockTransport {
    /** {@code VSOCK_CLOSE_TIMEOUT}: 8 s in jiffies. */
    public static final long VSOCK_CLOSE_TIMEOUT = 8L * Clock.HZ;

    /** virtio_transport_common.c's logger, shared by the receive and transmit halves. */
    static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VIRTIO_TRANSPORT_COMMON);

    final VsockCore core;
    final SkbPool pool;
    final VsockCounters counters;

    /** A transport of {@code core}'s machine. */
    protected VirtioTransport(VsockCore core) {
        this.core = core;
        this.pool = SkbPool.of(core);
        this.counters = core.counters();
    }

    // ---- the device hooks ---------------------------------------------------------------------------

    /**
     * SIM, not in the kernel: for a REQUEST of {@code type} from {@code (srcCid, srcPort)} to local port
     * {@code dstPort} that matched no socket, the port of a listener that takes it instead, or {@code VMADDR_PORT_ANY} for the
     * kernel's RST. Only vhost overrides it, for a VMM that bridges guest connections elsewhere
     * ({@link io.vsocksim.vsock.vhost.UnboundRequestHook}); called on the receive context, no lock held.
     */
    protected int unboundRequestPort(int type, int srcCid, int srcPort, int dstPort) {
        return io.vsocksim.uapi.VmSockets.VMADDR_PORT_ANY;
    }

    /**
     * {@code send_pkt}: hands {@code skb} to the device or worker. Takes ownership of {@code skb} in every
     * case. Returns the payload length handed over, or {@code -errno}.
     */
    public abstract int sendPkt(VsockSkb skb);

    @Override
    public abstract int getLocalCid();

    @Override
    public abstract int cancelPkt(VsockSock vsk);

    @Override
    public abstract boolean seqpacketAllow(int remoteCid);

    @Override
    public abstract boolean msgzerocopyAllow();

    /** The machine's vsock core. */
    public VsockCore core() {
        return core;
    }

    /** The machine's skb pool. */
    public SkbPool pool() {
        return pool;
    }

    /** {@code vsk->trans} of a socket on a virtio transport. */
    public static VirtioVsockSock vvs(VsockSock vsk) {
        return (VirtioVsockSock) vsk.trans;
    }

    /**
     * Hands {@code skb} (borrowed) to the machine's vsockmon taps once: a split packet that vhost
     * requeues clears the mark, so each fragment is seen. With no tap up this costs a flag test and a
     * volatile read.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_deliver_tap_pkt")
    public void deliverTapPkt(VsockSkb skb) {
        if (skb.tapDelivered) {
            return;
        }
        core.taps().deliverTap(VirtioTransport::buildSkb, skb);
        skb.tapDelivered = true;
    }

    /**
     * The vsockmon frame of {@code pkt}: {@code struct af_vsockmon_hdr} (addresses from the packet
     * header, the op folded into the five monitor ops, transport VIRTIO, len 44), the 44-byte header as
     * it is now, then {@code hdr.len} payload bytes from the skb's offset — the length in the header,
     * not the skb's, because a packet split over RX buffers carries each fragment's length. Null when
     * the payload cannot be copied (the kernel then frees the frame and delivers nothing).
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_build_skb")
    static byte[] buildSkb(VsockSkb pkt) {
        VirtioVsockHdr h = pkt.hdr();
        int payloadLen = h.len();
        if (payloadLen < 0 || payloadLen > pkt.len() - pkt.offset) {
            return null;
        }
        byte[] frame = new byte[VsockMon.HDR_SIZE + VirtioVsockHdr.SIZE + payloadLen];
        ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(VsockMon.OFF_SRC_CID, h.srcCid());
        b.putLong(VsockMon.OFF_DST_CID, h.dstCid());
        b.putInt(VsockMon.OFF_SRC_PORT, h.srcPort());
        b.putInt(VsockMon.OFF_DST_PORT, h.dstPort());
        b.putShort(VsockMon.OFF_OP, (short) monitorOp(h.op()));
        b.putShort(VsockMon.OFF_TRANSPORT, (short) VsockMon.AF_VSOCK_TRANSPORT_VIRTIO);
        b.putShort(VsockMon.OFF_LEN, (short) VirtioVsockHdr.SIZE);
        pkt.headerBytes(frame, VsockMon.HDR_SIZE);
        if (payloadLen > 0 && pkt.copyBits(pkt.offset, frame, VsockMon.HDR_SIZE + VirtioVsockHdr.SIZE, payloadLen) != 0) {
            return null;
        }
        return frame;
    }

    /** The monitor op of a packet op: REQUEST/RESPONSE connect, RST/SHUTDOWN disconnect, RW payload, credit control. */
    static int monitorOp(int op) {
        VirtioVsockOp o = VirtioVsockOp.fromWire(op);
        if (o == null) {
            return VsockMon.AF_VSOCK_OP_UNKNOWN;
        }
        switch (o) {
            case VIRTIO_VSOCK_OP_REQUEST:
            case VIRTIO_VSOCK_OP_RESPONSE:
                return VsockMon.AF_VSOCK_OP_CONNECT;
            case VIRTIO_VSOCK_OP_RST:
            case VIRTIO_VSOCK_OP_SHUTDOWN:
                return VsockMon.AF_VSOCK_OP_DISCONNECT;
            case VIRTIO_VSOCK_OP_RW:
                return VsockMon.AF_VSOCK_OP_PAYLOAD;
            case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
            case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
                return VsockMon.AF_VSOCK_OP_CONTROL;
            default:
                return VsockMon.AF_VSOCK_OP_UNKNOWN;
        }
    }

    // ---- socket life ----------------------------------------------------------------------------------

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_do_socket_init")
    public int init(VsockSock vsk, VsockSock psk) {
        VirtioVsockSock vvs = new VirtioVsockSock(vsk);
        vsk.trans = vvs;
        if (psk != null && psk.trans instanceof VirtioVsockSock ptrans) {
            vvs.peerBufAlloc = ptrans.peerBufAlloc;
        }
        if (vsk.bufferSize > VIRTIO_VSOCK_MAX_BUF_SIZE) {
            vsk.bufferSize = VIRTIO_VSOCK_MAX_BUF_SIZE;
        }
        vvs.bufAlloc = (int) vsk.bufferSize;
        return 0;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_destruct")
    public void destruct(VsockSock vsk) {
        cancelCloseWork(vsk, true);
        vsk.trans = null;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_release")
    public void release(VsockSock vsk) {
        boolean removeSock = true;
        if (vsk.type == Sock.SOCK_STREAM || vsk.type == Sock.SOCK_SEQPACKET) {
            removeSock = close(vsk);
        }
        if (removeSock) {
            vsk.sockSetFlag(VsockSock.SOCK_DONE);
            removeSock(vsk);
        }
    }

    /** Socket lock held and SOCK_DONE set: drops the receive queue and leaves the tables. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_remove_sock")
    void removeSock(VsockSock vsk) {
        VirtioVsockSock vvs = vvs(vsk);
        if (vvs != null) {
            vvs.rxQueue.purgeLocked();
        }
        core.removeSock(vsk);
    }

    /**
     * SO_LINGER: waits (socket lock released while asleep) up to {@code timeout} jiffies
     * ({@code sk_lingertime}) for SOCK_DONE.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_wait_close")
    void waitClose(VsockSock vsk, long timeout) {
        if (timeout != 0) {
            // One wait covers the kernel loop: it ends on the condition, the timeout or a signal.
            vsk.sleep.waitEventInterruptibleTimeout(vsk.lock, () -> vsk.sockFlag(VsockSock.SOCK_DONE),
                    Clock.jiffiesToNanos(timeout));
        }
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_cancel_close_work")
    void cancelCloseWork(VsockSock vsk, boolean cancelTimeout) {
        if (vsk.closeWorkScheduled && (!cancelTimeout || vsk.closeWork.cancel())) {
            vsk.closeWorkScheduled = false;
            removeSock(vsk);
            vsk.sockPut(); // the timer's reference
        }
    }

    /** Socket lock held. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_do_close")
    void doClose(VsockSock vsk, boolean cancelTimeout) {
        vsk.sockSetFlag(VsockSock.SOCK_DONE);
        vsk.peerShutdown = SHUTDOWN_MASK;
        if (streamHasData(vsk) <= 0) {
            vsk.setState(LOG, TcpState.TCP_CLOSING);
        }
        vsk.stateChange();
        cancelCloseWork(vsk, cancelTimeout);
    }

    /** Runs on the system work queue {@link #VSOCK_CLOSE_TIMEOUT} after a close that did not finish. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_close_timeout")
    void closeTimeout(VsockSock vsk) {
        vsk.sockHold();
        vsk.lockSock();
        try {
            if (!vsk.sockFlag(VsockSock.SOCK_DONE)) {
                reset(vsk, null, "close timeout: the peer did not finish the close");
                doClose(vsk, false);
            }
            vsk.closeWorkScheduled = false;
        } finally {
            vsk.releaseSock();
        }
        vsk.sockPut();
    }

    /** User context, socket lock held; true if the socket can be removed now. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_close")
    boolean close(VsockSock vsk) {
        if (!(vsk.skState == TcpState.TCP_ESTABLISHED || vsk.skState == TcpState.TCP_CLOSING)) {
            return true;
        }
        if ((vsk.peerShutdown & SHUTDOWN_MASK) == SHUTDOWN_MASK) {
            reset(vsk, null, "closed after the peer shut down both directions");
            return true;
        }
        if ((vsk.skShutdown & SHUTDOWN_MASK) != SHUTDOWN_MASK) {
            shutdown(vsk, SHUTDOWN_MASK);
        }
        // SIM: no task is ever exiting (PF_EXITING), so SO_LINGER always waits.
        if (vsk.sockFlag(VsockSock.SOCK_LINGER)) {
            waitClose(vsk, vsk.lingertime);
        }
        if (vsk.sockFlag(VsockSock.SOCK_DONE)) {
            return true;
        }
        vsk.sockHold();
        // INIT_DELAYED_WORK on every arming, as the kernel does.
        vsk.closeWork = new DelayedWork("vsock-close-" + vsk.id(), () -> closeTimeout(vsk));
        vsk.closeWorkScheduled = true;
        core.kernel().systemWq().queueDelayedWork(vsk.closeWork, VSOCK_CLOSE_TIMEOUT);
        return false;
    }

    // ---- control packets -----------------------------------------------------------------------------

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_connect")
    public int connect(VsockSock vsk) {
        return VirtioTransportSend.sendPktInfo(this, vsk, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value(), 0, null,
                0, 0, 0, false);
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_shutdown")
    public int shutdown(VsockSock vsk, int mode) {
        int flags = ((mode & RCV_SHUTDOWN) != 0 ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0)
                | ((mode & SEND_SHUTDOWN) != 0 ? VIRTIO_VSOCK_SHUTDOWN_SEND : 0);
        return VirtioTransportSend.sendPktInfo(this, vsk, VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN.value(), flags,
                null, 0, 0, 0, false);
    }

    /** Zerocopy receive: present on every virtio transport of a machine whose policy is not OFF. */
    @Override
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1/v2: virtio transports set zerocopy_dequeue")
    public boolean hasZerocopyDequeue() {
        return io.vsocksim.vsock.ZerocopySetting.policy(core) != io.vsocksim.uapi.ZerocopyPolicy.OFF;
    }

    @Override
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v2: virtio_transport_zerocopy_dequeue")
    public int zerocopyDequeue(VsockSock vsk, io.vsocksim.mm.VmArea vma, long addr, boolean eof) {
        return VirtioTransportZerocopy.dequeue(this, vsk, vma, addr, eof);
    }

    /**
     * The skb a send of {@code payloadLen} bytes is built in ({@code virtio_vsock_alloc_skb}); null on
     * ENOMEM. A transport whose receiver maps what it sends (loopback) overrides this to follow the
     * machine's {@link io.vsocksim.uapi.ZerocopyPolicy}.
     */
    protected VsockSkb allocTxSkb(int payloadLen) {
        return pool.alloc(VIRTIO_VSOCK_SKB_HEADROOM + payloadLen);
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_send_credit_update")
    int sendCreditUpdate(VsockSock vsk) {
        return VirtioTransportSend.sendPktInfo(this, vsk, VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE.value(), 0,
                null, 0, 0, 0, false);
    }

    /**
     * RST for {@code vsk}; a reply if {@code skb} (borrowed) is the packet answered; never answers an RST.
     * SIM: {@code cause} is for the DEBUG line only.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_reset")
    int reset(VsockSock vsk, VsockSkb skb, String cause) {
        if (skb != null && skb.hdr().op() == VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value()) {
            return 0;
        }
        VsockLog.event(LOG, vsk, "RST sent", cause);
        return VirtioTransportSend.sendPktInfo(this, vsk, VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value(), 0, null, 0,
                0, 0, skb != null);
    }

    // ---- transmit (packet building and send_pkt_info in VirtioTransportSend) ------------------------

    /**
     * Counts {@code skb}, a packet of {@code op} with {@code len} payload bytes about to be handed to
     * {@link #sendPkt}, and logs it at TRACE (borrows it).
     */
    final void countSent(VsockSkb skb, int op, int len) {
        if (LOG.isTraceEnabled()) {
            trace("tx", skb);
        }
        counters.sent(op);
        if (op == VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value()) {
            counters.add(Counter.BYTES_SENT, len);
        } else if (op == VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE.value()) {
            counters.inc(Counter.CREDIT_UPDATES_SENT);
        } else if (op == VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value()) {
            counters.inc(Counter.RST_SENT);
        }
    }

    /**
     * The TRACE line of one packet sent or received: its header, formatted now (the skb is reused once
     * freed). Only called when TRACE is on.
     */
    final void trace(String dir, VsockSkb skb) {
        LOG.trace("{}: {} {}", core.kernel().name(), dir, skb.hdr().toString());
    }

    /**
     * {@code can_msgzerocopy(bufs_num)}: whether the device can take a packet of {@code bufsNum}
     * buffers. Transports without the hook (vhost, loopback) accept any.
     */
    protected boolean canMsgzerocopy(int bufsNum) {
        return true;
    }

    /** Stamps the current window into an outgoing header and records it as advertised. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_inc_tx_pkt")
    public static void incTxPkt(VirtioVsockSock vvs, VsockSkb skb) {
        vvs.rxLock.lock();
        try {
            vvs.lastFwdCnt = vvs.fwdCnt;
            skb.hdr().fwdCnt(vvs.fwdCnt).bufAlloc(vvs.bufAlloc);
        } finally {
            vvs.rxLock.unlock();
        }
    }

    /**
     * A device or worker took {@code skb}'s payload: subtracts it from the owner's bytes_unsent. Frees
     * the skb if {@code consume} (then takes ownership), otherwise borrows it.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_consume_skb_sent")
    public static void consumeSkbSent(VsockSkb skb, boolean consume) {
        VsockSock s = skb.sk();
        if (s != null && skb.len() != 0) {
            VirtioVsockSock vvs = vvs(s);
            vvs.txLock.lock();
            try {
                vvs.bytesUnsent -= skb.len();
            } finally {
                vvs.txLock.unlock();
            }
        }
        if (consume) {
            skb.consumeSkb();
        }
    }

    /** Grants up to {@code credit} bytes (u32) of send window; returns the grant. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_get_credit")
    public static int getCredit(VirtioVsockSock vvs, int credit) {
        if (credit == 0) {
            return 0;
        }
        vvs.txLock.lock();
        try {
            long space = hasSpace(vvs);
            int ret = Integer.toUnsignedLong(credit) < space ? credit : (int) space;
            vvs.txCnt += ret;
            vvs.bytesUnsent += Integer.toUnsignedLong(ret);
            return ret;
        } finally {
            vvs.txLock.unlock();
        }
    }

    /** Returns {@code credit} bytes (u32) granted but not sent. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_put_credit")
    public static void putCredit(VirtioVsockSock vvs, int credit) {
        if (credit == 0) {
            return;
        }
        vvs.txLock.lock();
        try {
            vvs.txCnt -= credit;
            vvs.bytesUnsent -= Integer.toUnsignedLong(credit);
        } finally {
            vvs.txLock.unlock();
        }
    }

    /** {@code min(peer_buf_alloc, buf_alloc)} as u32; txLock held. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_tx_buf_size")
    static int txBufSize(VirtioVsockSock vvs) {
        return Integer.compareUnsigned(vvs.peerBufAlloc, vvs.bufAlloc) < 0 ? vvs.peerBufAlloc : vvs.bufAlloc;
    }

    /** Send space in s64 arithmetic, never negative; txLock held. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_has_space")
    public static long hasSpace(VirtioVsockSock vvs) {
        long bytes = Integer.toUnsignedLong(txBufSize(vvs)) - Integer.toUnsignedLong(vvs.txCnt - vvs.peerFwdCnt);
        return bytes < 0 ? 0 : bytes;
    }

    // ---- send ops --------------------------------------------------------------------------------------

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_enqueue")
    public long streamEnqueue(VsockSock vsk, MsgHdr msg, long len) {
        return VirtioTransportSend.sendPktInfo(this, vsk, VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value(), 0, msg,
                (int) len, 0, 0, false);
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_seqpacket_enqueue")
    public int seqpacketEnqueue(VsockSock vsk, MsgHdr msg, long len) {
        VirtioVsockSock vvs = vvs(vsk);
        vvs.txLock.lock();
        try {
            if (len > Integer.toUnsignedLong(txBufSize(vvs))) {
                return -EMSGSIZE;
            }
        } finally {
            vvs.txLock.unlock();
        }
        return (int) streamEnqueue(vsk, msg, len);
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_has_space")
    public long streamHasSpace(VsockSock vsk) {
        VirtioVsockSock vvs = vvs(vsk);
        vvs.txLock.lock();
        try {
            return hasSpace(vvs);
        } finally {
            vvs.txLock.unlock();
        }
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_unsent_bytes")
    public long unsentBytes(VsockSock vsk) {
        VirtioVsockSock vvs = vvs(vsk);
        vvs.txLock.lock();
        try {
            return vvs.bytesUnsent;
        } finally {
            vvs.txLock.unlock();
        }
    }

    // ---- receive-side ops (dequeue in VirtioTransportDequeue) -----------------------------------------

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_dequeue")
    public long streamDequeue(VsockSock vsk, MsgHdr msg, long len, int flags) {
        if ((flags & MSG_PEEK) != 0) {
            return VirtioTransportDequeue.streamDoPeek(this, vsk, msg, len);
        }
        return VirtioTransportDequeue.streamDoDequeue(this, vsk, msg, len);
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_seqpacket_dequeue")
    public long seqpacketDequeue(VsockSock vsk, MsgHdr msg, int flags) {
        if ((flags & MSG_PEEK) != 0) {
            return VirtioTransportDequeue.seqpacketDoPeek(this, vsk, msg);
        }
        return VirtioTransportDequeue.seqpacketDoDequeue(this, vsk, msg, flags);
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_has_data")
    public long streamHasData(VsockSock vsk) {
        VirtioVsockSock vvs = vvs(vsk);
        vvs.rxLock.lock();
        try {
            return Integer.toUnsignedLong(vvs.rxBytes);
        } finally {
            vvs.rxLock.unlock();
        }
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_seqpacket_has_data")
    public int seqpacketHasData(VsockSock vsk) {
        VirtioVsockSock vvs = vvs(vsk);
        vvs.rxLock.lock();
        try {
            return vvs.msgCount;
        } finally {
            vvs.rxLock.unlock();
        }
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_rcvhiwat")
    public long streamRcvhiwat(VsockSock vsk) {
        return vsk.bufferSize;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_is_active")
    public boolean streamIsActive(VsockSock vsk) {
        return true;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_allow")
    public boolean streamAllow(int cid, int port) {
        return true;
    }

    // ---- notifications ---------------------------------------------------------------------------------

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_notify_poll_in")
    public int notifyPollIn(VsockSock vsk, long target) {
        return streamHasData(vsk) >= target ? 1 : 0;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_notify_poll_out")
    public int notifyPollOut(VsockSock vsk, long target) {
        return streamHasSpace(vsk) > 0 ? 1 : 0;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_notify_buffer_size")
    public long notifyBufferSize(VsockSock vsk, long val) {
        if (val > VIRTIO_VSOCK_MAX_BUF_SIZE) {
            val = VIRTIO_VSOCK_MAX_BUF_SIZE;
        }
        vvs(vsk).bufAlloc = (int) val;
        sendCreditUpdate(vsk);
        return val;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_notify_set_rcvlowat")
    public int notifySetRcvlowat(VsockSock vsk, int val) {
        VirtioVsockSock vvs = vvs(vsk);
        boolean sendUpdate;
        vvs.rxLock.lock();
        try {
            sendUpdate = Integer.compareUnsigned(vvs.rxBytes, val) < 0 && vvs.fwdCnt != vvs.lastFwdCnt;
        } finally {
            vvs.rxLock.unlock();
        }
        if (sendUpdate) {
            int err = sendCreditUpdate(vsk);
            if (err < 0) {
                return err;
            }
        }
        return 0;
    }

    /**
     * Frees every skb of {@code queue} owned by {@code vsk}; returns how many of them were replies.
     * Takes the queue's lock; frees after dropping it.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_purge_skbs")
    public static int purgeSkbs(VsockSock vsk, SkbQueue queue) {
        SkbQueue freeme = new SkbQueue();
        int cnt = 0;
        queue.lock.lock();
        try {
            VsockSkb skb = queue.peek();
            while (skb != null) {
                VsockSkb next = queue.peekNext(skb);
                if (skb.sk() == vsk) {
                    queue.unlinkLocked(skb);
                    freeme.queueTailLocked(skb);
                    if (skb.isReply()) {
                        cnt++;
                    }
                }
                skb = next;
            }
        } finally {
            queue.lock.unlock();
        }
        freeme.purgeLocked();
        return cnt;
    }
}
