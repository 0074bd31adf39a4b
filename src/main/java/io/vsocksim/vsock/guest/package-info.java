/**
 * The guest's virtio-vsock driver: {@code net/vmw_vsock/virtio_transport.c} of Linux 6.12.117.
 *
 * <p><b>Classes.</b> {@link io.vsocksim.vsock.guest.VirtioVsock} is {@code struct virtio_vsock} with the
 * queue functions ({@code virtio_vsock_rx_fill}, {@code virtio_transport_rx_work}, {@code _tx_work},
 * {@code _send_pkt_work}, {@code _event_work}, {@code virtio_vsock_vqs_init/start/del},
 * {@code virtio_transport_send_skb}); {@link io.vsocksim.vsock.guest.VirtioVsockTransport} is the
 * G2H transport with {@code send_pkt} (fast path, {@code send_pkt_queue}), {@code cancel_pkt},
 * {@code get_local_cid}, {@code seqpacket_allow} and probe/remove;
 * {@link io.vsocksim.vsock.guest.VirtioVsockDevice} is what the driver sees of the device
 * ({@code virtio_config_ops} + config space). Received packets go to the common code's
 * {@code VirtioTransportRecv.recvPkt}.
 *
 * <p><b>Rules kept.</b> One writable 3776-byte buffer per RX descriptor, header inside; refill to full
 * and kick; refill after an RX run only when {@code rx_buf_nr < rx_buf_max_nr / 2}; RX stops (callbacks
 * off) while {@code queued_replies >= rx vq size}; a used buffer shorter than 44, longer than the
 * buffer, or with {@code hdr.len > len - 44} is dropped; the buffer's own skb is delivered, no copy.
 * TX: header sg plus linear payload or one sg per fragment, pointing at the skb's own pages; ENODEV for
 * the guest's own CID; TX reclaim subtracts {@code bytes_unsent} and frees. TRANSPORT_RESET re-reads
 * the CID and sets CLOSE + ECONNRESET on connected sockets, leaving {@code peer_shutdown}/SOCK_DONE.
 *
 * <p><b>Locks.</b> {@code tx_lock}, {@code rx_lock}, {@code event_lock} guard their vqs and are never
 * nested; the send queue's lock is a leaf. Work runs on the guest machine's {@code system_wq}.
 *
 * <p><b>Deviations.</b>
 * <ul>
 *   <li>SIM: a device interrupt queues the queue's work directly (no {@code vring_interrupt}, so the
 *       ring's {@code event_triggered} hint is never set).</li>
 *   <li>SIM: ring memory and indirect tables come from guest pages owned by the driver (the kernel's
 *       virtio core allocates rings; indirect tables are kmalloc'ed per packet). Tables are a fixed
 *       pool of one slot per descriptor.</li>
 *   <li>SIM: {@code VirtioVsock.addRawTxChain} and {@code addRawEventChain} are test hooks (a hostile or
 *       unusual driver posting hand-made chains) that the kernel lacks.</li>
 *   <li>Work runs on the machine's {@code system_wq}, not a dedicated "virtio_vsock" workqueue.</li>
 *   <li>Freeze/restore (PM) are not modelled; remove is.</li>
 *   <li>Not upstream: with the machine's zerocopy receive policy on, {@code rx_fill} posts buffers of a
 *       44-byte header descriptor and whole pages, and {@code rx_work} hands such a buffer to
 *       {@code ZerocopyRxBuffers} instead of its own checks. Both functions call that class only where
 *       a comment marks it and are otherwise 6.12.117's; with the policy OFF only the policy is read.</li>
 * </ul>
 */
package io.vsocksim.vsock.guest;
