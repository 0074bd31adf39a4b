/**
 * The NIO face of the simulator: {@link io.vsocksim.user.nio.VsockSelectorProvider} opens
 * {@code SocketChannel}s, {@code ServerSocketChannel}s and {@code Selector}s that are descriptors of a
 * simulated {@link io.vsocksim.user.UserProcess}, so that a program written for JDK TCP channels (a
 * single-threaded selector loop, junixsocket's or Netty's NIO transport code) runs on simulated vsock with
 * {@link io.vsocksim.user.VsockAddress} in place of {@code InetSocketAddress}.
 *
 * <p>Each class follows its JDK 17 (Linux) counterpart: {@code SocketChannelImpl},
 * {@code ServerSocketChannelImpl}, {@code EPollSelectorImpl}, {@code SelectionKeyImpl}; every system call goes
 * through the process's descriptor face, so errno values come from the simulated kernel and become the
 * exceptions the JDK makes of them ({@code NioErrors}).
 *
 * <p>Where it differs from the JDK:
 * <ul>
 *   <li>Waking a thread blocked in a channel that another thread closes: the JDK dup2's a dead socket onto
 *       the descriptor and signals the thread. Here a blocking read or write is woken by shutdown(2)
 *       (SHUT_RDWR) of the connection, and a blocking accept, connect or finishConnect waits in poll(2) on
 *       the socket and a wake-up eventfd of the channel (made when first needed, closed with the channel),
 *       which close writes to. Either way the thread finds the channel closed and throws
 *       {@code AsynchronousCloseException}.</li>
 *   <li>A Java interrupt is the simulator's signal: it ends the blocked system call with EINTR; the channel
 *       is closed by the JDK's interrupt hook, so the thread throws {@code ClosedByInterruptException} as
 *       with the JDK.</li>
 *   <li>An unconnected socket channel's descriptor is O_NONBLOCK even in blocking mode, so that connect
 *       waits in poll(2) (wakeable by close) instead of inside connect(2); the 2-s vsock connect timeout
 *       still applies, from the kernel's connect work.</li>
 *   <li>Socket options, as on the java.net face: {@code SO_RCVBUF} and {@code SO_SNDBUF} both set vsock's
 *       one buffer size ({@code SO_VM_SOCKETS_BUFFER_SIZE}); {@code SO_LINGER}, {@code SO_KEEPALIVE} and
 *       {@code SO_REUSEADDR} are the SOL_SOCKET options (stored by vsock; only linger acts);
 *       {@code TCP_NODELAY} is accepted and ignored (reads {@code true}: no Nagle); {@code IP_TOS} and
 *       {@code SO_REUSEPORT} are not supported ({@code NioOptions}). A server channel does not turn
 *       {@code SO_REUSEADDR} on at creation as the JDK's does for TCP (vsock has no TIME_WAIT).</li>
 *   <li>{@code socket()} gives adaptors that follow JDK 17's {@code SocketAdaptor} and {@code ServerSocketAdaptor}
 *       ({@code VsockSocketAdaptor}, {@code VsockServerSocketAdaptor}; Netty's NIO transport uses them for
 *       addresses, options and half-closes), with {@link io.vsocksim.user.VsockAddress}es where the JDK's have
 *       {@code InetSocketAddress}es: {@code getInetAddress()} and {@code getLocalAddress()} are null and the
 *       ports are vsock's, as on the java.net face. SO_TIMEOUT and connect timeouts run on the machine's
 *       clock. No datagram channels or pipes ({@code UnsupportedOperationException}).</li>
 *   <li>vsock refuses a connection to a port nobody listens on with a reset, so connect and finishConnect
 *       fail with {@code ConnectException("Connection reset by peer")} where TCP gives
 *       {@code ConnectException("Connection refused")}: the class TCP code catches for "not up yet", with
 *       the kernel's text (the JDK's own table would make ECONNRESET a plain {@code SocketException}).</li>
 * </ul>
 */
package io.vsocksim.user.nio;
