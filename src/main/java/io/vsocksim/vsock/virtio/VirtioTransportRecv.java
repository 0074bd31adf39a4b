package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.ECONNRESET;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOBUFS;
import static io.vsocksim.uapi.Errno.ENOMEM;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.EPROTO;
import static io.vsocksim.uapi.Errno.ESHUTDOWN;
import static io.vsocksim.uapi.Sock.RCV_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SEND_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SHUTDOWN_MASK;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOM;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_RCV;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_SEND;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.vsock.virtio.SkbPool.SKB_TRUESIZE_0;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;

import io.vsocksim.Linux;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.SocketState;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.VsockSock;
import org.slf4j.Logger;

/**
 * The receive path of virtio_transport_common.c: {@code virtio_transport_recv_pkt}, which every virtio
 * transport calls with each packet it receives, and everything it dispatches to (listen, connecting,
 * connected, disconnecting, enqueue with merge and collapse, RST without a socket). Stateless: every
 * function works on the {@link VirtioTransport} it is given, as {@link VirtioTransportSend} and
 * {@link VirtioTransportDequeue} do for their parts of the file.
 *
 * <p>Caller context: the transport's receive context (loopback worker, guest RX worker, vhost TX
 * worker). Every function here takes ownership of the skb it is given unless it says "borrows". Peer
 * input never makes it throw: bad packets are answered with RST or dropped and counted.
 *
 * <p>Locks: the socket lock of the destination, then (for a listener) the child's; {@code rx_lock} /
 * {@code tx_lock} as leaves inside.
 */
public final class VirtioTransportRecv {
    /** {@code GOOD_COPY_LEN}: payloads up to this size may be merged into the tail skb. */
    static final int GOOD_COPY_LEN = 128;
    /** {@code MAX_COLLAPSE_LEN} = SKB_MAX_ORDER(44, 3): largest payload of a collapsed skb. */
    static final int MAX_COLLAPSE_LEN = SkbPool.SKB_MAX_LINEAR_SIZE - VIRTIO_VSOCK_SKB_HEADROOM;

    private static final int OP_REQUEST = VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value();
    private static final int OP_RESPONSE = VirtioVsockOp.VIRTIO_VSOCK_OP_RESPONSE.value();
    private static final int OP_RST = VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value();
    private static final int OP_SHUTDOWN = VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN.value();
    private static final int OP_RW = VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value();
    private static final int OP_CREDIT_UPDATE = VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE.value();
    private static final int OP_CREDIT_REQUEST = VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_REQUEST.value();
    private static final int OP_INVALID = VirtioVsockOp.VIRTIO_VSOCK_OP_INVALID.value();
    private static final Logger LOG = VirtioTransport.LOG;

    private VirtioTransportRecv() {
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_valid_type")
    static boolean validType(int type) {
        return type == VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()
                || type == VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET.value();
    }

    /**
     * Delivers one packet received by {@code t} to its socket. Takes ownership of {@code skb}; never
     * throws for peer-controlled input.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_pkt")
    public static void recvPkt(VirtioTransport t, VsockSkb skb) {
        VsockCore core = t.core;
        VirtioVsockHdr hdr = skb.hdr();
        // u64 on the wire, u32 in sockaddr_vm: the kernel truncates the same way.
        int srcCid = (int) hdr.srcCid();
        int srcPort = hdr.srcPort();
        int dstCid = (int) hdr.dstCid();
        int dstPort = hdr.dstPort();
        if (LOG.isTraceEnabled()) {
            t.trace("rx", skb);
        }
        t.counters.received(hdr.op());

        if (!validType(hdr.type())) {
            dropNoSock(t, skb, "invalid type");
            skb.kfreeSkb();
            return;
        }
        VsockSock sk = core.findConnectedSocket(srcCid, srcPort, dstPort);
        if (sk == null) {
            sk = core.findBoundSocket(dstCid, dstPort);
            if (sk == null && hdr.op() == OP_REQUEST) {
                sk = redirectedListener(t, hdr.type(), srcCid, srcPort, dstCid, dstPort);
            }
            if (sk == null) {
                dropNoSock(t, skb, "no socket");
                skb.kfreeSkb();
                return;
            }
        }
        if (VirtioTransportSend.getType(sk) != hdr.type()) {
            dropNoSock(t, skb, "socket of the other type");
            sk.sockPut();
            skb.kfreeSkb();
            return;
        }
        skb.setOwner(sk);

        sk.lockSock();
        try {
            // Closed, or moved to another transport / not from the peer, before we got the lock.
            if (sk.sockFlag(VsockSock.SOCK_DONE)
                    || (sk.skState != TcpState.TCP_LISTEN && !VsockCore.checkSource(sk, t, srcCid, srcPort))) {
                dropNoSock(t, skb, "socket closed, or packet not from its peer");
                skb.kfreeSkb();
                return;
            }
            boolean spaceAvailable = spaceUpdate(sk, skb);
            // Follow a guest CID change (transport reset) for sockets bound to a concrete CID.
            // SIM: the kernel stores svm_cid in place; SockaddrVm is immutable, so a new one is made
            // only when the CID really changes (same state, no allocation per packet).
            SockaddrVm local = sk.localAddr;
            if (local.cid() != VMADDR_CID_ANY && local.cid() != dstCid) {
                sk.localAddr = new SockaddrVm(dstCid, local.port(), local.flags());
            }
            if (spaceAvailable) {
                sk.writeSpace();
            }
            switch (sk.skState) {
                case TCP_LISTEN:
                    recvListen(t, sk, skb);
                    skb.kfreeSkb();
                    break;
                case TCP_SYN_SENT:
                    recvConnecting(t, sk, skb);
                    skb.kfreeSkb();
                    break;
                case TCP_ESTABLISHED:
                    recvConnected(t, sk, skb);
                    break;
                case TCP_CLOSING:
                    recvDisconnecting(t, sk, skb);
                    skb.kfreeSkb();
                    break;
                default:
                    resetNoSock(t, skb, "socket not listening, connecting or connected");
                    skb.kfreeSkb();
                    break;
            }
        } finally {
            sk.releaseSock();
            sk.sockPut(); // the lookup's reference
        }
    }

    /**
     * SIM, not in the kernel: the listener the transport's {@code unboundRequestPort} hook names for a
     * REQUEST that found no socket, with a reference for the caller, or null (the kernel's RST follows).
     * A named port that holds no listener counts as a refusal. The state is read without the socket lock;
     * a listener closed after this check is caught by recvPkt's SOCK_DONE and recv_listen's shutdown tests.
     */
    private static VsockSock redirectedListener(VirtioTransport t, int type, int srcCid, int srcPort, int dstCid,
            int dstPort) {
        int port = t.unboundRequestPort(type, srcCid, srcPort, dstPort);
        if (port == io.vsocksim.uapi.VmSockets.VMADDR_PORT_ANY) {
            return null;
        }
        VsockSock l = t.core.findBoundSocket(dstCid, port);
        if (l != null && l.skState != TcpState.TCP_LISTEN) {
            l.sockPut();
            return null;
        }
        return l;
    }

    /**
     * Counts a packet no usable socket takes ({@code DROP_NO_SOCK}), logs it with {@code why}, and answers
     * it through reset_no_sock. Borrows {@code skb}.
     */
    private static void dropNoSock(VirtioTransport t, VsockSkb skb, String why) {
        t.counters.inc(Counter.DROP_NO_SOCK);
        VsockLog.drop(LOG, t.core.kernel().name(), Counter.DROP_NO_SOCK.name(), why, skb.hdr());
        resetNoSock(t, skb, why);
    }

    /**
     * RST for a packet that matched no usable socket: addresses swapped, same type, zero credit, reply
     * mark, owned by {@code skb}'s owner. Never answers an RST. Borrows {@code skb}. SIM: {@code cause}
     * is for the DEBUG line only.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_reset_no_sock")
    static int resetNoSock(VirtioTransport t, VsockSkb skb, String cause) {
        VirtioVsockHdr hdr = skb.hdr();
        if (hdr.op() == OP_RST) {
            return 0;
        }
        if (t == null) {
            return -ENOTCONN;
        }
        VsockSkb reply = VirtioTransportSend.allocSkb(t, skb.sk(), hdr.type(), OP_RST, 0, true, null, 0,
                (int) hdr.dstCid(), hdr.dstPort(), (int) hdr.srcCid(), hdr.srcPort());
        if (reply == null) {
            return -ENOMEM;
        }
        if (LOG.isDebugEnabled()) {
            VsockLog.eventRx(LOG, t.core.kernel().name(), hdr, "RST sent", cause + " (answering " + opName(hdr.op()) + ")");
        }
        t.countSent(reply, OP_RST, 0);
        return t.sendPkt(reply);
    }

    /** The kernel name of wire op {@code op}, or its number if it has none. */
    static String opName(int op) {
        VirtioVsockOp o = VirtioVsockOp.fromWire(op);
        return o == null ? "op " + op : o.name();
    }

    /** Takes the peer's window from the header; true if there is send space. Borrows {@code skb}. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_space_update")
    static boolean spaceUpdate(VsockSock sk, VsockSkb skb) {
        VirtioVsockSock vvs = VirtioTransport.vvs(sk);
        if (vvs == null) {
            return true; // listeners have no transport state: assume space
        }
        vvs.txLock.lock();
        try {
            vvs.peerBufAlloc = skb.hdr().bufAlloc();
            vvs.peerFwdCnt = skb.hdr().fwdCnt();
            return VirtioTransport.hasSpace(vvs) != 0;
        } finally {
            vvs.txLock.unlock();
        }
    }

    /** Listener lock held. Borrows {@code skb}. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_listen")
    static int recvListen(VirtioTransport t, VsockSock sk, VsockSkb skb) {
        VsockCore core = t.core;
        VirtioVsockHdr hdr = skb.hdr();
        if (hdr.op() != OP_REQUEST) {
            resetNoSock(t, skb, "listener takes only REQUEST");
            return -EINVAL;
        }
        if (sk.ackBacklog > sk.maxAckBacklog) { // sk_acceptq_is_full
            resetNoSock(t, skb, "accept queue full");
            return -ENOMEM;
        }
        // A listener being released may already have flushed its accept queue.
        if (sk.skShutdown == SHUTDOWN_MASK) {
            resetNoSock(t, skb, "listener closing");
            return -ESHUTDOWN;
        }
        VsockSock child = core.createConnected(sk);
        child.lockSock();
        // SIM: the addresses are set before the state (the kernel sets the state first) so that the
        // state's DEBUG line carries them; nobody else sees the child yet, so the order is invisible.
        child.localAddr = new SockaddrVm((int) hdr.dstCid(), hdr.dstPort());
        child.remoteAddr = new SockaddrVm((int) hdr.srcCid(), hdr.srcPort());
        child.setState(LOG, TcpState.TCP_ESTABLISHED);
        int ret = core.assignTransport(child, sk);
        // The transport chosen from the remote address must be the one the request came in on.
        if (ret != 0 || child.transport != t) {
            child.releaseSock();
            resetNoSock(t, skb, "no transport for the new connection");
            child.sockPut();
            return ret;
        }
        sk.ackBacklog++;
        if (spaceUpdate(child, skb)) {
            child.writeSpace();
        }
        core.insertConnected(child);
        core.enqueueAccept(sk, child);
        sendResponse(t, child, skb);
        child.releaseSock();
        sk.dataReady();
        return 0;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_send_response")
    private static int sendResponse(VirtioTransport t, VsockSock vsk, VsockSkb skb) {
        VirtioVsockHdr hdr = skb.hdr();
        return VirtioTransportSend.sendPktInfo(t, vsk, OP_RESPONSE, 0, null, 0, (int) hdr.srcCid(),
                hdr.srcPort(), true);
    }

    /** Socket lock held. Borrows {@code skb}. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_connecting")
    static int recvConnecting(VirtioTransport t, VsockSock sk, VsockSkb skb) {
        VsockCore core = t.core;
        int op = skb.hdr().op();
        int skerr;
        int err;
        if (op == OP_RESPONSE) {
            sk.setState(LOG, TcpState.TCP_ESTABLISHED);
            sk.sockState = SocketState.SS_CONNECTED;
            core.insertConnected(sk);
            sk.stateChange();
            return 0;
        } else if (op == OP_INVALID) {
            return 0;
        } else if (op == OP_RST) {
            skerr = ECONNRESET;
            err = 0;
            VsockLog.event(LOG, sk, "RST received", "connect refused (ECONNRESET)");
        } else {
            skerr = EPROTO;
            err = -EINVAL;
        }
        t.reset(sk, skb, "unexpected packet while connecting (EPROTO)");
        sk.setState(LOG, TcpState.TCP_CLOSE);
        sk.skErr = skerr;
        sk.errorReport();
        return err;
    }

    /** Socket lock held. Takes ownership of {@code skb}. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_connected")
    static int recvConnected(VirtioTransport t, VsockSock sk, VsockSkb skb) {
        VsockCore core = t.core;
        VirtioVsockHdr hdr = skb.hdr();
        int op = hdr.op();
        int err = 0;
        if (op == OP_RW) {
            if (recvEnqueue(t, sk, skb)) {
                VsockCore.dataReady(sk);
                return err;
            }
            // No room: closing is better than silently losing data.
            t.counters.inc(Counter.RX_OVERFLOW_RESETS);
            VsockLog.drop(LOG, core.kernel().name(), Counter.RX_OVERFLOW_RESETS.name(), "no room in the receive buffer", hdr);
            t.reset(sk, skb, "receive buffer overflow (ENOBUFS)");
            t.doClose(sk, true);
            sk.skErr = ENOBUFS;
            sk.errorReport();
            core.removeSock(sk);
        } else if (op == OP_CREDIT_REQUEST) {
            t.sendCreditUpdate(sk);
        } else if (op == OP_CREDIT_UPDATE) {
            sk.writeSpace();
        } else if (op == OP_SHUTDOWN) {
            int peerShutdown = sk.peerShutdown;
            if ((hdr.flags() & VIRTIO_VSOCK_SHUTDOWN_RCV) != 0) {
                peerShutdown |= RCV_SHUTDOWN;
            }
            if ((hdr.flags() & VIRTIO_VSOCK_SHUTDOWN_SEND) != 0) {
                peerShutdown |= SEND_SHUTDOWN;
            }
            sk.peerShutdown = peerShutdown;
            if (peerShutdown == SHUTDOWN_MASK) {
                if (t.streamHasData(sk) <= 0 && !sk.sockFlag(VsockSock.SOCK_DONE)) {
                    t.reset(sk, null, "the peer shut down both directions");
                    t.doClose(sk, true);
                }
                // Leave the tables anyway, so the peer can reconnect from the same port.
                core.removeSock(sk);
            }
            if (hdr.flags() != 0) {
                sk.stateChange();
            }
        } else if (op == OP_RST) {
            VsockLog.event(LOG, sk, "RST received", "the peer closed or reset the connection");
            t.doClose(sk, true);
        } else {
            t.counters.inc(Counter.PKTS_DROPPED);
            VsockLog.drop(LOG, core.kernel().name(), Counter.PKTS_DROPPED.name(), "unknown op on a connection", hdr);
            err = -EINVAL;
        }
        skb.kfreeSkb();
        return err;
    }

    /** Socket lock held. Borrows {@code skb}. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_disconnecting")
    static void recvDisconnecting(VirtioTransport t, VsockSock sk, VsockSkb skb) {
        if (skb.hdr().op() == OP_RST) {
            VsockLog.event(LOG, sk, "RST received", "the peer finished the close");
            t.doClose(sk, true);
        } else {
            t.counters.inc(Counter.PKTS_DROPPED);
            VsockLog.drop(LOG, t.core.kernel().name(), Counter.PKTS_DROPPED.name(), "only RST is taken while closing", skb.hdr());
        }
    }

    /**
     * Queues an RW packet. Socket lock held. Takes ownership of {@code skb} if it returns true
     * (queued or merged and freed); on false the caller still owns it.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_recv_enqueue")
    static boolean recvEnqueue(VirtioTransport t, VsockSock vsk, VsockSkb skb) {
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        VirtioVsockHdr hdr = skb.hdr();
        int len = hdr.len();
        boolean freePkt = false;

        // Compact the queue before the per-skb overhead limit would refuse the packet; no rx_lock
        // needed, the socket lock excludes every other reader and writer of the queue.
        int queueMax = Integer.divideUnsigned(vvs.bufAlloc, SKB_TRUESIZE_0);
        int queueLen = vvs.rxQueue.len();
        if (Integer.compareUnsigned(queueLen, queueMax) >= 0) {
            collapseRxQueue(t, vvs, queueLen + 2 - queueMax);
        }

        boolean canEnqueue;
        vvs.rxLock.lock();
        try {
            canEnqueue = incRxPkt(vvs, len);
            if (!canEnqueue) {
                return false;
            }
            t.counters.add(Counter.BYTES_RECEIVED, Integer.toUnsignedLong(len));
            if ((hdr.flags() & VIRTIO_VSOCK_SEQ_EOM) != 0) {
                vvs.msgCount++;
            }
            // Small linear packets are copied into the tail skb, unless that one ends a message.
            if (Integer.compareUnsigned(len, GOOD_COPY_LEN) <= 0 && !vvs.rxQueue.isEmpty() && !skb.isNonlinear()) {
                VsockSkb last = vvs.rxQueue.peekTail();
                VirtioVsockHdr lastHdr = last.hdr();
                if (skb.len() < last.tailroom() && (lastHdr.flags() & VIRTIO_VSOCK_SEQ_EOM) == 0) {
                    skb.copyBitsTo(0, last, skb.len());
                    freePkt = true;
                    lastHdr.flags(lastHdr.flags() | hdr.flags());
                    lastHdr.len(lastHdr.len() + len);
                    t.counters.inc(Counter.RX_MERGES);
                    return true;
                }
            }
            vvs.rxQueue.queueTailLocked(skb);
            return true;
        } finally {
            vvs.rxLock.unlock();
            if (freePkt) {
                skb.kfreeSkb();
            }
        }
    }

    /** rxLock held. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_inc_rx_pkt")
    static boolean incRxPkt(VirtioVsockSock vvs, int len) {
        assert vvs.rxLock.isHeldByCurrentThread() : "rx_lock";
        long skbOverhead = ((long) vvs.rxQueue.len() + 1) * SKB_TRUESIZE_0;
        long bufAlloc = Integer.toUnsignedLong(vvs.bufAlloc);
        // Payload must respect the advertised credit; skb overhead bounds the queue length.
        if (Integer.toUnsignedLong(vvs.bufUsed) + Integer.toUnsignedLong(len) > bufAlloc || skbOverhead > bufAlloc) {
            return false;
        }
        vvs.rxBytes += len;
        vvs.bufUsed += len;
        return true;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_can_collapse")
    static boolean canCollapse(VsockSkb skb) {
        return skb.offset == 0 && (skb.hdr().flags() & VIRTIO_VSOCK_SEQ_EOM) == 0 && skb.len() < MAX_COLLAPSE_LEN;
    }

    /** Payload bytes a collapse run starting at {@code skb} would take. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_collapse_size")
    static int collapseSize(VsockSkb skb, SkbQueue queue) {
        int target = skb.len() - skb.offset;
        while ((skb = queue.peekNext(skb)) != null && canCollapse(skb)) {
            int len = skb.len() - skb.offset;
            if (len > MAX_COLLAPSE_LEN - target) {
                return target;
            }
            target += len;
        }
        return target;
    }

    /**
     * Merges runs of small unread skbs into new linear skbs until at least {@code minToFree} queue
     * entries are gone (more if a started run fills up). Socket lock held.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_collapse_rx_queue")
    static void collapseRxQueue(VirtioTransport t, VirtioVsockSock vvs, int minToFree) {
        assert vvs.vsk.lock.isHeldByCurrentThread() : "lock_sock";
        t.counters.inc(Counter.RX_COLLAPSES);
        SkbQueue newQueue = vvs.collapseQueue;
        VsockSkb newSkb = null;
        int saved = 0;
        VsockSkb skb = vvs.rxQueue.peek();
        while (skb != null) {
            VsockSkb nextSkb = vvs.rxQueue.peekNext(skb);
            VirtioVsockHdr hdr = skb.hdr();
            int srcOff = skb.offset;
            int srcLen = skb.len() - srcOff;
            boolean keep = !canCollapse(skb);
            if (keep) {
                // Close the open run first so the order of bytes is kept.
                if (newSkb != null) {
                    newQueue.queueTailLocked(newSkb);
                    newSkb = null;
                    saved--;
                }
            } else {
                if (newSkb != null && srcLen > newSkb.tailroom()) {
                    newQueue.queueTailLocked(newSkb);
                    newSkb = null;
                    saved--;
                }
                if (newSkb == null) {
                    // Checked only between runs: a started run is always filled.
                    if (Integer.compareUnsigned(saved, minToFree) >= 0) {
                        break;
                    }
                    int allocSize = collapseSize(skb, vvs.rxQueue);
                    if (allocSize <= srcLen) {
                        keep = true; // nothing to merge with
                    } else {
                        newSkb = t.pool.allocLinear(allocSize + VIRTIO_VSOCK_SKB_HEADROOM);
                        if (newSkb == null) {
                            break;
                        }
                        newSkb.hdr().copyFrom(hdr);
                        newSkb.hdr().len(0); // like the kernel, the new skb gets no owner socket
                    }
                }
                if (!keep) {
                    if (t.core.kernel().warnings().warnOnce(skb.copyBitsTo(srcOff, newSkb, srcLen) != 0,
                            "collapse copy out of bounds")) {
                        newSkb.kfreeSkb();
                        newSkb = null;
                        break;
                    }
                    newSkb.hdr().len(newSkb.hdr().len() + srcLen);
                    newSkb.hdr().flags(newSkb.hdr().flags() | hdr.flags());
                }
            }
            vvs.rxQueue.unlinkLocked(skb);
            if (keep) {
                newQueue.queueTailLocked(skb);
            } else {
                skb.consumeSkb();
                saved++;
            }
            skb = nextSkb;
        }
        if (newSkb != null) {
            newQueue.queueTailLocked(newSkb);
        }
        vvs.rxQueue.spliceLocked(newQueue);
    }
}
