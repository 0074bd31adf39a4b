/**
 * The socket layer of AF_VSOCK: {@code net/vmw_vsock/af_vsock.c}, {@code af_vsock_tap.c} and
 * {@code include/net/af_vsock.h} of Linux 6.12.117, with the parts of {@code net/core/sock.c} (generic
 * socket options) and {@code net/core/skbuff.c} (MSG_ZEROCOPY completions) a vsock socket meets.
 *
 * <p><b>Classes.</b> {@link io.vsocksim.vsock.AfVsock} holds the proto_ops entry points (create,
 * release, bind, listen, accept, connect, shutdown, poll, ioctl) and
 * {@link io.vsocksim.vsock.VsockConnectible} the data ones (sendmsg, recvmsg and their waits);
 * {@link io.vsocksim.vsock.VsockSockopt} answers level AF_VSOCK and hands SOL_SOCKET to
 * {@link io.vsocksim.vsock.SockSockopt} / {@link io.vsocksim.vsock.SockGetsockopt}.
 * {@link io.vsocksim.vsock.VsockSock} is {@code struct vsock_sock} (with the {@code struct sock} fields
 * used), {@link io.vsocksim.vsock.VsockTransport} the {@code struct vsock_transport} ops table, and
 * {@link io.vsocksim.vsock.VsockCore} what the file keeps in globals: the registered transports, the
 * bound and connected tables with {@code vsock_table_lock}, the ephemeral port, socket creation and
 * destruction. {@link io.vsocksim.vsock.AfVsockTap} and {@link io.vsocksim.vsock.Vsockmon} are the taps;
 * {@link io.vsocksim.vsock.UbufInfoMsgzc} and {@link io.vsocksim.uapi.SockExtendedErr} carry MSG_ZEROCOPY
 * completions to the error queue.
 *
 * <p><b>Two kinds of socket.</b> A user's, made by {@code socket(2)}, starts unbound (on the extra list of
 * the bound table) and is bound explicitly or on first use. A child is made by the transport when a
 * REQUEST reaches a listener ({@code vsock_create_connected}): the virtio transports establish it at once,
 * insert it in the connected table and queue it on the listener's accept queue; {@code accept} takes it
 * from there. The pending list and its timer, which only the VMCI transport uses, are not modelled.
 *
 * <p><b>States.</b> {@code sk_state} holds the TCP numbers, as {@code ss(8)} shows them: TCP_CLOSE
 * (unconnected), TCP_LISTEN, TCP_SYN_SENT (connecting), TCP_ESTABLISHED, TCP_CLOSING (disconnecting);
 * {@code sock_state} the {@code SS_*} of {@code struct socket} beside it.
 * <ul>
 *   <li>CLOSE → LISTEN: {@code listen} on a bound, unconnected socket.</li>
 *   <li>CLOSE → SYN_SENT: {@code connect} assigns the transport by the remote CID, sends REQUEST and
 *       arms the connect timeout ({@code VSOCK_DEFAULT_CONNECT_TIMEOUT}, 2 s, or SO_VM_SOCKETS_CONNECT_TIMEOUT).
 *       SYN_SENT → ESTABLISHED on RESPONSE; → CLOSE on RST (ECONNRESET), on the timeout (ETIMEDOUT) or
 *       when a signal interrupts a blocking connect.</li>
 *   <li>ESTABLISHED → CLOSING: the peer has shut down both directions or reset, and nothing is left to
 *       read ({@code virtio_transport_do_close}). → CLOSE with ECONNRESET when the guest's device resets
 *       (TRANSPORT_RESET). A host socket whose guest's vhost device goes away gets ECONNRESET and
 *       SOCK_DONE with state number 1 (SS_UNCONNECTED written into {@code sk_state}, the kernel's quirk).</li>
 *   <li>Release: the transport sends SHUTDOWN, waits for SO_LINGER if set, and otherwise leaves the
 *       socket in the tables under the close timeout (8 s) until the peer's RST or SHUTDOWN arrives.</li>
 * </ul>
 *
 * <p><b>Lock ordering.</b> Listener socket lock → child socket lock ({@code lock_sock_nested}) → the
 * transport's per-socket {@code tx_lock} / {@code rx_lock} (leaves) → the core's table lock. A socket
 * lock is released while its owner sleeps ({@code sk_wait_event}); wake-ups go through the socket's wait
 * queue and take no socket lock. The transports' receive paths take the destination's socket lock like
 * any caller.
 *
 * <p><b>References.</b> A socket lives while its count is above zero ({@code sock_hold}/{@code sock_put}):
 * creation takes one, dropped at the end of release; each table entry, the accept queue entry of an
 * unaccepted child, an armed connect or close timer and every skb owned by the socket hold one more. At
 * zero {@code vsock_sk_destruct} runs: the transport frees its state and the error queue is purged.
 * Deferred work that gets a socket (timers, reset walks) holds a reference for as long as it runs.
 *
 * <p><b>Zerocopy receive (RFC, not upstream).</b> {@link io.vsocksim.vsock.VsockZerocopyRx} is the
 * RFC's af_vsock part: the socket's {@code mmap} and {@code getsockopt(AF_VSOCK, 9)}. The transports
 * answer through the RFC's {@code zerocopy_dequeue} op ({@link io.vsocksim.vsock.VsockTransport}), whose
 * virtio half is {@code io.vsocksim.vsock.virtio.VirtioTransportZerocopy}; the guest driver posts page
 * buffers through {@code io.vsocksim.vsock.guest.ZerocopyRxBuffers}. {@link io.vsocksim.uapi.ZerocopyPolicy}
 * is the per-machine switch; with OFF, the default, none of it runs and the socket behaves as 6.12.117's
 * ({@code mmap} ENODEV, option 9 ENOPROTOOPT). Everything it adds is marked {@link io.vsocksim.NotUpstream}.
 *
 * <p><b>Deviations.</b>
 * <ul>
 *   <li>SIM: the globals are fields of one {@link io.vsocksim.vsock.VsockCore} per machine, so a host and
 *       its guests share a JVM.</li>
 *   <li>Only the virtio transports exist (vhost, guest driver, loopback): SOCK_DGRAM finds no transport
 *       (ENODEV); the {@code notify_recv_*}/{@code notify_send_*} hooks, empty for virtio, are left out.</li>
 *   <li>SIM: {@code vsock_for_each_connected_socket} collects the sockets under the table lock and runs
 *       the callback without it, each socket held.</li>
 *   <li>SIM: {@link io.vsocksim.vsock.VsockCounters} count what the kernel leaves to tracepoints.</li>
 * </ul>
 */
package io.vsocksim.vsock;
