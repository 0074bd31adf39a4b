package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.ENOMEM;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_ZEROCOPY;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOM;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOR;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.UbufInfoMsgzc;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockSock;

/**
 * The transmit half of virtio_transport_common.c: building a packet ({@code virtio_transport_alloc_skb},
 * {@code init_hdr}) and {@code virtio_transport_send_pkt_info}, which takes credit, cuts the data into
 * skbs of at most 64 KiB, pins or copies the payload (MSG_ZEROCOPY) and hands each skb to the
 * transport's {@code send_pkt}. Stateless: every method works on the {@link VirtioTransport} it is given,
 * as {@link VirtioTransportRecv} and {@link VirtioTransportDequeue} do for their halves.
 */
final class VirtioTransportSend {
    private VirtioTransportSend() {}

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_get_type")
    static int getType(VsockSock vsk) {
        return vsk.type == Sock.SOCK_STREAM ? VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()
                : VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET.value();
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_init_hdr")
    static void initHdr(VsockSkb skb, int type, int op, int flags, int payloadLen, int srcCid, int srcPort,
            int dstCid, int dstPort) {
        VirtioVsockHdr hdr = skb.hdr();
        hdr.type(type).op(op);
        // CIDs are u32 in the socket layer, u64 on the wire: zero-extend.
        hdr.srcCid(Integer.toUnsignedLong(srcCid)).dstCid(Integer.toUnsignedLong(dstCid));
        hdr.srcPort(srcPort).dstPort(dstPort).flags(flags).len(payloadLen).bufAlloc(0).fwdCnt(0);
    }

    /**
     * Builds one packet; copies {@code payloadLen} bytes from {@code msg} if given. Null on allocation
     * failure or copy fault. The caller owns the result.
     */
    static VsockSkb allocSkb(VirtioTransport t, VsockSock vsk, int type, int op, int flags, boolean reply, MsgHdr msg,
            int payloadLen, int srcCid, int srcPort, int dstCid, int dstPort) {
        return allocSkb(t, vsk, type, op, flags, reply, msg, payloadLen, false, null, srcCid, srcPort, dstCid, dstPort);
    }

    /**
     * Builds one packet. With {@code msg}, fills {@code payloadLen} bytes from it: pins the user pages as
     * fragments when {@code zcopy} (the head then holds the header alone), copies them otherwise; binds
     * the skb to {@code uarg} (may be null) before filling. Null on allocation failure, copy fault or
     * pinning fault. The caller owns the result.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_alloc_skb")
    static VsockSkb allocSkb(VirtioTransport t, VsockSock vsk, int type, int op, int flags, boolean reply, MsgHdr msg,
            int payloadLen, boolean zcopy, UbufInfoMsgzc uarg, int srcCid, int srcPort, int dstCid, int dstPort) {
        VsockSkb skb = zcopy ? t.pool.alloc(VIRTIO_VSOCK_SKB_HEADROOM) : t.allocTxSkb(payloadLen);
        if (skb == null) {
            return null;
        }
        initHdr(skb, type, op, flags, payloadLen, srcCid, srcPort, dstCid, dstPort);
        t.core.kernel().warnings().warnOnce(!(vsk != null && msg != null && payloadLen != 0) && zcopy,
                "zerocopy skb without socket or payload");
        if (vsk != null) {
            skb.setOwner(vsk);
        }
        if (msg != null && payloadLen > 0) {
            // Bind the zerocopy lifetime before filling, so a failed fill releases through the uarg path.
            skb.zcopySet(uarg);
            if (zcopy) {
                if (skb.zerocopySgFromIter(msg, payloadLen) != 0) {
                    skb.kfreeSkb();
                    return null;
                }
                t.counters.add(Counter.BYTES_PINNED_FROM_USER, payloadLen);
            } else {
                if (skb.fillFromIter(msg, payloadLen) != 0) {
                    skb.kfreeSkb();
                    return null;
                }
                t.counters.add(Counter.BYTES_COPIED_FROM_USER, payloadLen);
            }
            if (msg.dataLeft() == 0 && type == VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET.value()) {
                int f = VIRTIO_VSOCK_SEQ_EOM | ((msg.msgFlags & MSG_EOR) != 0 ? VIRTIO_VSOCK_SEQ_EOR : 0);
                skb.hdr().flags(skb.hdr().flags() | f);
            }
        }
        if (reply) {
            skb.reply = true;
        }
        return skb;
    }

    /**
     * Whether this round can pin instead of copy: the iterator is at offset 0, the whole remaining
     * data fits the credit granted ({@code pktLen}, u32), and the transport's
     * {@link VirtioTransport#canMsgzerocopy}
     * accepts the packet's buffers. SIM: memory that is not a {@link io.vsocksim.mm.UserBuffer} of
     * this machine cannot be pinned and is refused here too, so it is copied and reported COPIED.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_can_zcopy")
    static boolean canZcopy(VirtioTransport t, MsgHdr msg, int pktLen) {
        if (msg.iovOffset() != 0) {
            return false;
        }
        if (Integer.compareUnsigned(msg.dataLeft(), pktLen) > 0) {
            return false;
        }
        if (msg.userPages() != t.pool.pages()) {
            return false;
        }
        // +1 for the packet header.
        return t.canMsgzerocopy(msg.npages(SkbPool.MAX_SKB_FRAGS) + 1);
    }

    /**
     * Sends {@code pktLen} bytes of {@code msg} (or a control packet) within the current credit, cut
     * into skbs of at most 64 KiB. {@code remoteCid == 0} means "the socket's peer". Only for sockets
     * with transport state (never listeners). Returns the bytes handed over, or {@code -errno}.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_send_pkt_info")
    static int sendPktInfo(VirtioTransport t, VsockSock vsk, int op, int flags, MsgHdr msg, int pktLen, int remoteCid,
            int remotePort, boolean reply) {
        int maxSkbLen = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
        int type = getType(vsk);
        int srcCid = t.getLocalCid();
        int srcPort = vsk.localAddr.port();
        int dstCid;
        int dstPort;
        if (remoteCid == 0) {
            dstCid = vsk.remoteAddr.cid();
            dstPort = vsk.remoteAddr.port();
        } else {
            dstCid = remoteCid;
            dstPort = remotePort;
        }
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        pktLen = VirtioTransport.getCredit(vvs, pktLen);
        if (pktLen == 0 && op == VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value()) {
            return 0;
        }
        UbufInfoMsgzc uarg = null;
        boolean canZcopy = false;
        boolean haveUref = false;
        if (msg != null) {
            // Without SO_ZEROCOPY, MSG_ZEROCOPY is silently ignored.
            if (!vsk.sockFlag(VsockSock.SOCK_ZEROCOPY)) {
                msg.msgFlags &= ~MSG_ZEROCOPY;
            }
            if ((msg.msgFlags & MSG_ZEROCOPY) != 0) {
                canZcopy = canZcopy(t, msg, pktLen);
            }
            if (canZcopy) {
                maxSkbLen = Math.min(VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, SkbPool.MAX_SKB_FRAGS * GuestMemory.PAGE_SIZE);
            }
            if ((msg.msgFlags & MSG_ZEROCOPY) != 0 && op == VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value()) {
                // SIM: no io_uring, so msg_ubuf is always NULL and the round allocates its own completion
                // (msg_zerocopy_realloc(sk, pkt_len, NULL)); that allocation cannot fail here.
                uarg = UbufInfoMsgzc.alloc(vsk, Integer.toUnsignedLong(pktLen));
                if (!canZcopy) {
                    uarg.markCopied();
                }
                haveUref = true;
            }
        }
        int restLen = pktLen;
        int ret;
        do {
            int skbLen = Integer.compareUnsigned(maxSkbLen, restLen) < 0 ? maxSkbLen : restLen;
            VsockSkb skb = allocSkb(t, vsk, type, op, flags, reply, msg, skbLen, canZcopy, uarg, srcCid, srcPort,
                    dstCid, dstPort);
            if (skb == null) {
                ret = -ENOMEM;
                break;
            }
            VirtioTransport.incTxPkt(vvs, skb);
            t.countSent(skb, op, skbLen);
            ret = t.sendPkt(skb);
            if (ret < 0) {
                break;
            }
            restLen -= ret;
            if (t.core.kernel().warnings().warnOnce(ret != skbLen, "send_pkt() returned an unexpected length")) {
                break;
            }
        } while (restLen != 0);
        VirtioTransport.putCredit(vvs, restLen);
        // The call's own reference: every skb of the round holds another one.
        if (haveUref) {
            if (restLen == pktLen) {
                uarg.putAbort(true); // nothing sent: the notification is withdrawn
            } else {
                uarg.put();
            }
        }
        if (restLen != pktLen) {
            ret = pktLen - restLen;
        }
        return ret;
    }
}
