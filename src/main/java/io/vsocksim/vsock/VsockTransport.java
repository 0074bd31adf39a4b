package io.vsocksim.vsock;

import io.vsocksim.Linux;

/**
 * {@code struct vsock_transport}: the ops table af_vsock calls, in the kernel's grouping and order.
 * Return conventions are the kernel's: {@code >= 0} success or a count, {@code -errno} failure.
 *
 * <p>Omitted: the DGRAM ops (no virtio transport has datagrams), the {@code notify_recv_*} and
 * {@code notify_send_*} hooks (SIM: every transport modelled here is a virtio one, whose hooks are empty
 * and always return 0) and {@code read_skb} (BPF sockmap is not modelled).
 */
@Linux(file = "include/net/af_vsock.h", fn = "struct vsock_transport")
public interface VsockTransport {
    /** {@code VSOCK_TRANSPORT_F_H2G}. */
    int VSOCK_TRANSPORT_F_H2G = 0x1;
    /** {@code VSOCK_TRANSPORT_F_G2H}. */
    int VSOCK_TRANSPORT_F_G2H = 0x2;
    /** {@code VSOCK_TRANSPORT_F_DGRAM}. */
    int VSOCK_TRANSPORT_F_DGRAM = 0x4;
    /** {@code VSOCK_TRANSPORT_F_LOCAL}. */
    int VSOCK_TRANSPORT_F_LOCAL = 0x8;

    /** Short name for logs ("loopback", "virtio", "vhost"). */
    String name();

    // ---- initialize / tear down a socket ----
    /** {@code init(vsk, psk)}: set up per-socket state; {@code psk} is the listener for a child. */
    int init(VsockSock vsk, VsockSock psk);

    /** {@code destruct(vsk)}: free per-socket state (last reference gone). */
    void destruct(VsockSock vsk);

    /** {@code release(vsk)}: the socket is being closed (or reassigned); socket lock held. */
    void release(VsockSock vsk);

    /** {@code cancel_pkt(vsk)}: drop this socket's queued, unsent packets. */
    int cancelPkt(VsockSock vsk);

    // ---- connections ----
    /** {@code connect(vsk)}: send the connection request. */
    int connect(VsockSock vsk);

    // ---- STREAM ----
    /** {@code stream_dequeue}: copy up to {@code len} bytes (peek with MSG_PEEK). */
    long streamDequeue(VsockSock vsk, MsgHdr msg, long len, int flags);

    /** {@code stream_enqueue}: send up to {@code len} bytes within the current credit. */
    long streamEnqueue(VsockSock vsk, MsgHdr msg, long len);

    /** {@code stream_has_data}: unread bytes. */
    long streamHasData(VsockSock vsk);

    /** {@code stream_has_space}: bytes that may be sent now. */
    long streamHasSpace(VsockSock vsk);

    /** {@code stream_rcvhiwat}: the receive high-water mark (the buffer size). */
    long streamRcvhiwat(VsockSock vsk);

    /** {@code stream_is_active}. */
    boolean streamIsActive(VsockSock vsk);

    /** {@code stream_allow(cid, port)}. */
    boolean streamAllow(int cid, int port);

    // ---- SEQ_PACKET ----
    /** {@code seqpacket_dequeue}: one whole message (peek with MSG_PEEK); returns its full length. */
    long seqpacketDequeue(VsockSock vsk, MsgHdr msg, int flags);

    /** {@code seqpacket_enqueue}. */
    int seqpacketEnqueue(VsockSock vsk, MsgHdr msg, long len);

    /** {@code seqpacket_allow(remote_cid)}. */
    boolean seqpacketAllow(int remoteCid);

    /** {@code seqpacket_has_data}: complete messages queued. */
    int seqpacketHasData(VsockSock vsk);

    // ---- notification ----
    /** {@code notify_poll_in}: 1 if at least {@code target} bytes are readable, 0 if not, or -errno. */
    int notifyPollIn(VsockSock vsk, long target);

    /** {@code notify_poll_out}: 1 if there is space to send, 0 if not, or -errno. */
    int notifyPollOut(VsockSock vsk, long target);

    /** {@code notify_buffer_size}: the buffer size changed; returns the (possibly clamped) value. */
    long notifyBufferSize(VsockSock vsk, long val);

    /** {@code notify_set_rcvlowat}. */
    int notifySetRcvlowat(VsockSock vsk, int val);

    /** {@code unsent_bytes} (SIOCOUTQ). */
    long unsentBytes(VsockSock vsk);

    // ---- shutdown ----
    /** {@code shutdown(vsk, mode)}: mode is RCV_SHUTDOWN | SEND_SHUTDOWN. */
    int shutdown(VsockSock vsk, int mode);

    // ---- addressing ----
    /** {@code get_local_cid()}. */
    int getLocalCid();

    // ---- zero-copy ----
    /** {@code msgzerocopy_allow()}. */
    boolean msgzerocopyAllow();

    // ---- zerocopy receive (RFC, not upstream) ----
    /**
     * True if the transport has the RFC's {@code zerocopy_dequeue} hook (a NULL hook in the kernel's
     * table is {@code false} here).
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1: vsock_transport.zerocopy_dequeue")
    default boolean hasZerocopyDequeue() {
        return false;
    }

    /**
     * {@code zerocopy_dequeue(vsk, vma, addr)}: fills the socket's mapping with queued packets. Caller
     * holds the socket lock and the mm lock; {@code vma} belongs to {@code vsk}. {@code eof}: nothing
     * more can arrive, map the terminator only. Returns 0 or {@code -errno}.
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1: vsock_transport.zerocopy_dequeue")
    default int zerocopyDequeue(VsockSock vsk, io.vsocksim.mm.VmArea vma, long addr, boolean eof) {
        return -io.vsocksim.uapi.Errno.EOPNOTSUPP;
    }
}
