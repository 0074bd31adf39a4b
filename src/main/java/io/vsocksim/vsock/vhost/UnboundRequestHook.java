package io.vsocksim.vsock.vhost;

/**
 * SIM, not in the kernel: what the VMM of one guest says about a connection request from that guest to a
 * host port nobody is bound to. Linux answers such a REQUEST with an RST
 * ({@code virtio_transport_reset_no_sock}); Firecracker's device, which is no kernel, first tries the Unix
 * socket {@code <uds_path>_<port>} (Firecracker {@code unix/muxer.rs}, {@code handle_peer_request_pkt}).
 * A hybrid bridge ({@code io.vsocksim.user.bridge.HybridVsock}) installs one with
 * {@link VhostVsock#setUnboundRequestHook} to do the same on a simulated host.
 *
 * <p>The hook does not create sockets in the kernel: it names a listener the bridge already holds, and
 * the request is then handled by {@code virtio_transport_recv_listen} exactly as if it had been addressed
 * to that listener. The child keeps the request's destination as its local address (as the kernel sets
 * it from the header), so the guest sees the RESPONSE come from the port it asked for.
 */
@FunctionalInterface
public interface UnboundRequestHook {
    /**
     * Called on the host's vhost TX handler (kernel context: must not block for long) for a REQUEST from
     * this device's guest that matched no connected or bound socket.
     *
     * @param type the request's {@code VIRTIO_VSOCK_TYPE_*} (a listener of another type would refuse it)
     * @param guestPort the request's source port
     * @param hostPort the request's destination port, on which nothing is bound
     * @return the port of a listening socket of the host (bound to {@code VMADDR_CID_ANY} or the host CID)
     *     that takes the request, or {@code VMADDR_PORT_ANY} (-1) to refuse it with an RST as Linux does
     */
    int listenerPort(int type, int guestPort, int hostPort);
}
