package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOM;
import static io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_SEQ_EOR;
import static io.vsocksim.vsock.virtio.VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;

import io.vsocksim.Linux;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockSock;

/**
 * The receive-queue readers of virtio_transport_common.c: STREAM and SEQPACKET dequeue and peek, with
 * the receive accounting ({@code dec_rx_pkt}) and the credit-update rule.
 *
 * <p>Caller context: user context with the socket lock held (af_vsock recvmsg). The socket lock keeps
 * other readers out, so each function drops {@code rx_lock} around the copy to user memory, as the
 * kernel does; the skb being copied cannot go away meanwhile.
 */
final class VirtioTransportDequeue {
    private VirtioTransportDequeue() {
    }

    /** rxLock held. */
    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_dec_rx_pkt")
    static void decRxPkt(VirtioVsockSock vvs, int bytesRead, int bytesDequeued) {
        assert vvs.rxLock.isHeldByCurrentThread() : "rx_lock";
        vvs.rxBytes -= bytesRead;
        vvs.bufUsed -= bytesDequeued;
        vvs.fwdCnt += bytesDequeued;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_do_peek")
    static long streamDoPeek(VirtioTransport t, VsockSock vsk, MsgHdr msg, long len) {
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        long total = 0;
        vvs.rxLock.lock();
        for (VsockSkb skb = vvs.rxQueue.peek(); skb != null; skb = vvs.rxQueue.peekNext(skb)) {
            int bytes = (int) Math.min(len - total, skb.len() - skb.offset);
            vvs.rxLock.unlock();
            // The socket lock keeps dequeuers out; the copy runs without rx_lock.
            int err = skb.copyToIter(skb.offset, msg, bytes);
            if (err != 0) {
                return total != 0 ? total : err;
            }
            t.counters.add(Counter.BYTES_COPIED_TO_USER, bytes);
            total += bytes;
            vvs.rxLock.lock();
            if (total == len) {
                break;
            }
        }
        vvs.rxLock.unlock();
        return total;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_stream_do_dequeue")
    static long streamDoDequeue(VirtioTransport t, VsockSock vsk, MsgHdr msg, long len) {
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        int err = -EFAULT;
        long total = 0;
        vvs.rxLock.lock();
        if (t.core.kernel().warnings().warnOnce(vvs.rxQueue.isEmpty() && vvs.rxBytes != 0,
                "rx_queue is empty, but rx_bytes is non-zero")) {
            vvs.rxLock.unlock();
            return err;
        }
        while (total < len && !vvs.rxQueue.isEmpty()) {
            int dequeued = 0;
            VsockSkb skb = vvs.rxQueue.peek();
            int bytes = (int) Math.min(len - total, skb.len() - skb.offset);
            vvs.rxLock.unlock();
            // The socket lock keeps other dequeuers out; the copy runs without rx_lock.
            err = skb.copyToIter(skb.offset, msg, bytes);
            if (err != 0) {
                return total != 0 ? total : err;
            }
            t.counters.add(Counter.BYTES_COPIED_TO_USER, bytes);
            vvs.rxLock.lock();
            total += bytes;
            skb.offset += bytes;
            if (skb.len() == skb.offset) {
                dequeued = skb.hdr().len();
                vvs.rxQueue.unlinkLocked(skb);
                skb.consumeSkb();
            }
            decRxPkt(vvs, bytes, dequeued);
        }
        int fwdCntDelta = vvs.fwdCnt - vvs.lastFwdCnt;
        int freeSpace = vvs.bufAlloc - fwdCntDelta;
        int lowat = vsk.rcvlowat != 0 ? vsk.rcvlowat : 1; // sock_rcvlowat(sk, 0, INT_MAX)
        boolean lowRxBytes = Integer.compareUnsigned(vvs.rxBytes, lowat) < 0;
        vvs.rxLock.unlock();
        // Credit goes back only when it matters: little space left at the peer's view, or too little
        // queued to wake our reader. The 64 KiB threshold is arbitrary; the kernel uses the same.
        if (fwdCntDelta != 0
                && (Integer.compareUnsigned(freeSpace, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) < 0 || lowRxBytes)) {
            t.sendCreditUpdate(vsk);
        }
        return total;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_seqpacket_do_peek")
    static long seqpacketDoPeek(VirtioTransport t, VsockSock vsk, MsgHdr msg) {
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        vvs.rxLock.lock();
        if (vvs.msgCount == 0) {
            vvs.rxLock.unlock();
            return 0;
        }
        long total = 0;
        long len = msg.dataLeft();
        for (VsockSkb skb = vvs.rxQueue.peek(); skb != null; skb = vvs.rxQueue.peekNext(skb)) {
            if (total < len) {
                int bytes = (int) Math.min(len - total, skb.len() - skb.offset);
                vvs.rxLock.unlock();
                int err = skb.copyToIter(skb.offset, msg, bytes);
                if (err != 0) {
                    return err;
                }
                t.counters.add(Counter.BYTES_COPIED_TO_USER, bytes);
                vvs.rxLock.lock();
            }
            total += skb.len() - skb.offset;
            int flags = skb.hdr().flags();
            if ((flags & VIRTIO_VSOCK_SEQ_EOM) != 0) {
                if ((flags & VIRTIO_VSOCK_SEQ_EOR) != 0) {
                    msg.msgFlags |= MSG_EOR;
                }
                break;
            }
        }
        vvs.rxLock.unlock();
        return total;
    }

    @Linux(file = "net/vmw_vsock/virtio_transport_common.c", fn = "virtio_transport_seqpacket_do_dequeue")
    static long seqpacketDoDequeue(VirtioTransport t, VsockSock vsk, MsgHdr msg, int flags) {
        VirtioVsockSock vvs = VirtioTransport.vvs(vsk);
        int dequeuedLen = 0;
        long userBufLen = msg.dataLeft();
        boolean msgReady = false;
        vvs.rxLock.lock();
        if (vvs.msgCount == 0) {
            vvs.rxLock.unlock();
            return 0;
        }
        while (!msgReady) {
            VsockSkb skb = vvs.rxQueue.dequeueLocked();
            if (skb == null) {
                break;
            }
            int pktLen = skb.hdr().len();
            // SIM (zerocopy RX, not upstream): a packet partly mapped by zerocopy receive resumes at its
            // offset; upstream the offset of a SEQPACKET skb is always 0, so nothing changes there.
            int skip = skb.offset;
            int restLen = pktLen - skip;
            if (dequeuedLen >= 0) {
                int bytesToCopy = (int) Math.min(userBufLen, Integer.toUnsignedLong(restLen));
                if (bytesToCopy != 0) {
                    vvs.rxLock.unlock();
                    int err = skb.copyToIter(skip, msg, bytesToCopy);
                    if (err != 0) {
                        // The rest of the message is dropped without copying.
                        dequeuedLen = err;
                    } else {
                        userBufLen -= bytesToCopy;
                        t.counters.add(Counter.BYTES_COPIED_TO_USER, bytesToCopy);
                    }
                    vvs.rxLock.lock();
                }
                if (dequeuedLen >= 0) {
                    dequeuedLen += restLen;
                }
            }
            int hflags = skb.hdr().flags();
            if ((hflags & VIRTIO_VSOCK_SEQ_EOM) != 0) {
                msgReady = true;
                vvs.msgCount--;
                if ((hflags & VIRTIO_VSOCK_SEQ_EOR) != 0) {
                    msg.msgFlags |= MSG_EOR;
                }
            }
            decRxPkt(vvs, restLen, pktLen);
            skb.kfreeSkb();
        }
        vvs.rxLock.unlock();
        t.sendCreditUpdate(vsk);
        return dequeuedLen;
    }
}
