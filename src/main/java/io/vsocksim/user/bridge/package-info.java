/**
 * Hybrid vsock: a guest's AF_VSOCK exposed through a Unix-domain socket on the real machine, with
 * Firecracker's protocol (Firecracker docs/vsock.md; its muxer, {@code unix/muxer.rs}, and connection
 * state machine, {@code csm/connection.rs}), so that a program outside the JVM talks to a simulated guest.
 * {@link io.vsocksim.user.bridge.HybridVsock#expose} is the entry point.
 *
 * <p><b>Shape.</b> {@code HybridVsock} owns a Unix listener at {@code PATH}, a host process
 * ({@code UserProcess.spawn(host, "hybrid-vsock")}) whose descriptors are its vsock sockets, and two
 * {@code SelectorLoop}s: one thread on a JDK selector for every Unix channel, one on the host process's
 * {@code VsockSelectorProvider} selector for every vsock channel. A connection is a {@code Splice}: two
 * {@code Endpoint}s (one per loop, the same code) joined by two single-producer single-consumer
 * {@code ByteRing}s. An endpoint reads its channel only while the ring it fills has room and kicks the
 * other loop when it adds or frees bytes; a channel is only ever touched by its own loop's thread.
 * {@code HostInitiated} accepts Unix clients and reads their {@code CONNECT} line ({@code ConnectCommand});
 * {@code GuestInitiated} takes guest requests; {@code HostPorts} hands out host ports.
 *
 * <p><b>How a guest connect to a port nobody listens on is found.</b> The host here is a real kernel
 * model (vhost and af_vsock on CID 2), where such a REQUEST gets an RST before any program hears of it.
 * Firecracker's device is the VMM itself, so it sees the REQUEST and tries {@code PATH_<port>} first.
 * The bridge installs the device's {@link io.vsocksim.vsock.vhost.UnboundRequestHook} (SIM, listed in
 * docs/faithfulness.md): consulted by the host kernel only where Linux would send that RST. The hook
 * connects to {@code PATH_<port>} without blocking; if that fails it refuses and the kernel's RST goes
 * out, as Firecracker's {@code handle_peer_request_pkt} enqueues one. If it succeeds it names the
 * bridge's own listener (one socket, bound on the host CID to a port the kernel picked), and the kernel
 * completes the handshake there, the child keeping {@code (2, port)} as its local address. So the hook
 * makes no socket in kernel context, the bridge needs no listener per port, and nothing changes for
 * sockets a host program binds itself. Rejected alternatives: a listener per possible port (2^32), and
 * watching the file system for {@code PATH_*} files (racy, and a stale file would accept then close
 * instead of resetting).
 *
 * <p><b>Bounds.</b> Two threads per bridge. Each connection holds two rings of
 * {@value io.vsocksim.user.bridge.HybridVsock#RING_BYTES} bytes; at most
 * {@value io.vsocksim.user.bridge.HybridVsock#MAX_CONNECTIONS} connections (Firecracker's limit), counting
 * clients still sending their line (32 bytes each) and guest requests waiting for their accept: at most
 * 1023 × 128 KiB of buffered data. Beyond a full ring the sender is held back by its own transport:
 * the guest by vsock credit (its send blocks, or fails with EAGAIN when non-blocking), a host program
 * by its Unix socket buffer.
 *
 * <p><b>Outcomes</b> (each counted in {@link io.vsocksim.user.bridge.HybridVsock.Counter}):
 * <table>
 *   <caption>What each side sees</caption>
 *   <tr><th>case</th><th>Unix client</th><th>guest</th></tr>
 *   <tr><td>{@code CONNECT p\n}, guest listens on p</td><td>{@code OK <host port>\n}, then data</td>
 *       <td>accept returns a socket from {@code (2, host port)}</td></tr>
 *   <tr><td>nobody listens on p</td><td>closed, nothing written (RST from the guest)</td><td>nothing</td></tr>
 *   <tr><td>guest never answers</td><td>closed after vsock's 2-s connect timeout</td><td>nothing</td></tr>
 *   <tr><td>malformed line (not {@code connect <u32>}, not UTF-8)</td><td>closed, nothing written</td><td>nothing</td></tr>
 *   <tr><td>32 bytes without a newline</td><td>closed, nothing written</td><td>nothing</td></tr>
 *   <tr><td>client silent, or half a line</td><td>stays open (no timeout, as Firecracker) until it or the
 *       bridge closes; other clients are served meanwhile</td><td>nothing</td></tr>
 *   <tr><td>client closes before its line</td><td>-</td><td>nothing</td></tr>
 *   <tr><td>{@code MAX_CONNECTIONS} reached</td><td>accepted and closed at once</td><td>-</td></tr>
 *   <tr><td>client half-closes (SHUT_WR)</td><td>can still read</td><td>EOF after the data; can still send</td></tr>
 *   <tr><td>guest half-closes</td><td>EOF after the data; can still write</td><td>can still receive</td></tr>
 *   <tr><td>client vanishes mid-stream</td><td>-</td><td>the bridge's write fails, both sides are closed:
 *       the guest's recv returns 0 and its send fails with EPIPE</td></tr>
 *   <tr><td>guest closes</td><td>EOF once every byte the guest sent is written</td><td>-</td></tr>
 *   <tr><td>client writes to a guest that closed, or the vsock side fails (a reset)</td><td>the bridge's
 *       write or read fails: closed at once, bytes still in the bridge dropped (as a TCP reset drops
 *       them)</td><td>-</td></tr>
 *   <tr><td>guest connects to (2, P), a program listens on {@code PATH_P}</td><td>accept returns the connection</td>
 *       <td>connect succeeds</td></tr>
 *   <tr><td>nobody listens on {@code PATH_P} (no file, stale file, backlog full)</td><td>-</td>
 *       <td>connect fails with ECONNRESET</td></tr>
 *   <tr><td>guest connects with SOCK_SEQPACKET</td><td>-</td><td>connect fails with ECONNRESET</td></tr>
 *   <tr><td>guest connects to the bridge's own listener port</td><td>-</td><td>connected, then EOF</td></tr>
 *   <tr><td>bridge or guest closed</td><td>every connection closed, {@code PATH} removed</td>
 *       <td>every bridged socket shut down (EOF, EPIPE)</td></tr>
 * </table>
 *
 * <p><b>The vsock_test suite through the bridge.</b> {@code vsocksim serve --workload vsock-test-server}
 * runs the suite's server role in the guest with its control channel on TCP, so the client role can be a
 * program outside the JVM whose "vsock socket" is a Unix connection to the bridge. That stands for the
 * client's socket only where the client does nothing but connect, send, receive and close: of the
 * kernel's tests, 4 (multiple connections), 5 (MSG_PEEK) and 14 (virtio skb merge), whose server roles
 * then pass (ServeCommandTest runs them with such a client). The others cannot run this way:
 * <ul>
 *   <li>SOCK_SEQPACKET tests (6–9, 11, 13, 15, 19, 25): the bridge carries streams only;</li>
 *   <li>tests of the client's own socket: its options, errno or flags (10 SO_RCVLOWAT, 12 a NULL buffer,
 *       16 and 17 SIGPIPE, 18 and 20 MSG_ZEROCOPY and MSG_ERRQUEUE, 24 SIOCOUTQ, 26 and 27 the zerocopy
 *       receive mapping), its address (21 binds its own port) or its credit (22, 23);</li>
 *   <li>tests that tell a reset or a full close from a half-close (0 and 1 expect ECONNRESET, 2 and 3
 *       EPIPE after the peer's close): a Unix client sees a refused CONNECT only as a closed connection,
 *       its close reaches the guest as a half-close (SHUTDOWN SEND, see below), and its writes after the
 *       guest closed succeed until the bridge's own write fails.</li>
 * </ul>
 *
 * <p><b>Where it differs from Firecracker</b> (as read in its muxer and connection code):
 * <ul>
 *   <li>Half-close is carried both ways (SHUT_WR becomes VIRTIO_VSOCK_SHUTDOWN_SEND and back).
 *       Firecracker answers a Unix EOF with SHUTDOWN of both directions, and keeps the Unix socket fully
 *       open after a guest's SHUT_WR.</li>
 *   <li>The command line is read without blocking; Firecracker reads it with blocking reads on its event
 *       loop (half a line stalls the whole device), and parses 32 bytes without a newline instead of
 *       refusing them.</li>
 *   <li>The guest-initiated Unix connect is non-blocking: a full backlog at {@code PATH_P} refuses (RST)
 *       where Firecracker's blocking connect would wait.</li>
 *   <li>Host ports are real host-kernel ports: one a host program already holds is skipped.</li>
 *   <li>No kill queue: a connection whose peers both finished is closed at once; Firecracker sends RST
 *       after a graceful shutdown or after {@code CONN_SHUTDOWN_TIMEOUT_MS} (2 s). Here the host kernel
 *       does its own close handshake.</li>
 *   <li>SOCK_STREAM only (Firecracker can also run SEQPACKET with a seqpacket Unix socket).</li>
 * </ul>
 */
package io.vsocksim.user.bridge;
