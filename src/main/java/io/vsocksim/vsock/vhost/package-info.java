/**
 * The host side of virtio-vsock: {@code drivers/vhost/vsock.c} of Linux 6.12.117, over the ring code
 * of {@code io.vsocksim.vhost}.
 *
 * <p><b>Classes.</b> {@link io.vsocksim.vsock.vhost.VhostVsock} is {@code struct vhost_vsock} (one per
 * guest: RX and TX vqs, {@code send_pkt_queue}, {@code queued_replies}, {@code vhost_transport_do_send_pkt},
 * {@code vhost_vsock_handle_tx_kick}, {@code vhost_vsock_alloc_skb}, open, start/stop/release and the
 * ioctls, {@code vhost_vsock_set_cid} among them); {@link io.vsocksim.vsock.vhost.VhostTransport} is the H2G
 * transport (local CID 2) with the table of instances by CID ({@code vhost_vsock_get}), {@code send_pkt},
 * {@code cancel_pkt}, {@code seqpacket_allow} and {@code vhost_vsock_reset_orphans};
 * {@code IovIter} holds the iov_iter copies between guest and host memory.
 *
 * <p><b>Rules kept.</b> Weights 256 packets / 0x80000 bytes with requeue; one signal per run. Host to
 * guest: split at {@code buffer - 44}, EOM/EOR cleared on all but the last fragment and restored; a
 * buffer with a readable part or under 44 bytes drops the skb and keeps the buffer. Guest to host: a
 * chain with a writable part, under 44 or over 65580 bytes, or with {@code 44 + hdr.len} beyond it is
 * consumed and never returned; the header is copied once and validated on the copy; only
 * {@code src_cid == guest_cid && dst_cid == 2} is delivered, anything else freed (counted); used len 0.
 * Release: unhash, reset orphans (SOCK_DONE, peer_shutdown 3, sk_state 1 — SS_UNCONNECTED stored in a
 * TCP field, i.e. TCP_ESTABLISHED, ECONNRESET), stop, flush, purge.
 *
 * <p><b>Deviations.</b>
 * <ul>
 *   <li>SIM: handlers run on the host's {@code system_wq}, not a per-device vhost worker thread; the
 *       per-vq mutexes keep each vq's handler serialised.</li>
 *   <li>SIM: vqs are (re)created by {@code setFeatures} (our {@code VhostVirtqueue} takes its features
 *       at construction), so a VMM sets features before ring sizes and addresses; no IOTLB, so
 *       ACCESS_PLATFORM is accepted and ignored; LOG_ALL is refused with EFAULT (no log base).</li>
 *   <li>SIM: the CID table is a copy-on-write array scanned linearly (the kernel: an RCU hash).</li>
 *   <li>Counters ({@link io.vsocksim.vsock.vhost.VhostVsockCounters}) stand in for {@code vq_err} logs.</li>
 * </ul>
 */
package io.vsocksim.vsock.vhost;
