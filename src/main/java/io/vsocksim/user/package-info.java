/**
 * The user's side of the simulator: everything a program that embeds it touches, as opposed to the
 * kernel model behind it. Together with the machines ({@link io.vsocksim.sim}) and the kernel's numbers
 * ({@link io.vsocksim.uapi}) this is the module's API; nothing here exposes a kernel type.
 *
 * <ul>
 *   <li>{@link io.vsocksim.user.UserProcess}: a process of a machine, with a descriptor table, an address
 *       space, credentials and signal handlers, making the system calls a C program makes and returning
 *       what they return ({@code >= 0} or {@code -errno}). {@link io.vsocksim.user.UserProcess#spawn} starts
 *       one; {@link io.vsocksim.user.UserProcess#embedder} is the machine's process that stands for the JVM
 *       (root, SIGPIPE ignored).</li>
 *   <li>{@link io.vsocksim.user.VsockSocket}: the socket object, a handle on one descriptor of a process
 *       whose methods are that process's calls and throw {@link io.vsocksim.uapi.ErrnoException} with the
 *       exact errno. {@link io.vsocksim.user.VsockSocket#open(io.vsocksim.sim.Machine, int)} makes one in
 *       the machine's embedder process. Zerocopy's user side is here too: {@code mmap} of a socket,
 *       {@code getsockopt(SO_VM_SOCKETS_ZEROCOPY)} and {@code madvise} (receive, the RFC),
 *       {@code MSG_ZEROCOPY} sends from a process's anonymous memory and
 *       {@link io.vsocksim.user.VsockSocket#recvErrqueue()} (send, upstream).</li>
 *   <li>{@link io.vsocksim.user.VsockAddress}: the {@code SocketAddress} of an AF_VSOCK endpoint.</li>
 *   <li>{@link io.vsocksim.user.VsockNet}: {@code java.net.Socket}s and {@code ServerSocket}s that are
 *       vsock sockets of a simulated process, behaving as JDK 17's TCP sockets do and throwing what they
 *       throw; {@link io.vsocksim.user.VsockNet#selectorProvider()} and
 *       {@link io.vsocksim.user.nio.VsockSelectorProvider} give NIO channels and selectors.</li>
 *   <li>{@link io.vsocksim.user.Faults}: what VMs meet in production — a pause, a migration, a device
 *       replug, memory pressure — injected on purpose, so a test can check the code around its
 *       connections.</li>
 *   <li>{@link io.vsocksim.user.VsockStats}: a machine's counters (bytes copied, packets by op, kicks,
 *       interrupts, resets) read into immutable {@link io.vsocksim.user.CounterSnapshot}s, with
 *       {@code minus} for what happened in between: the way to read counters.</li>
 *   <li>{@code io.vsocksim.user.junit}: the JUnit 5 extension ({@code @VsockSim}) that gives each test
 *       a host and guests and fails a test that leaks.</li>
 * </ul>
 *
 * <p><b>Where this sits.</b> The user floor is the top of the library: it uses the machines and, through
 * {@code io.vsocksim.sim.internal}, their kernels; nothing below imports it. A machine therefore has no
 * {@code socket()} or {@code process()} of its own: the factories are here
 * ({@code VsockSocket.open(machine, type)}, {@code UserProcess.spawn(machine, name)}). A machine's embedder
 * processes are user-space state kept with the machine (an attachment of its af_vsock core), made on
 * first use.
 *
 * <pre>
 *   tools (CLI)                 testsuite (vsock_test port), chaos
 *   ---------------------------------------------------------------------------------------------
 *   user      UserProcess, VsockSocket, VsockAddress, VsockNet, Faults,  user.nio   user.bridge
 *             VsockStats                                                 user.junit
 *             (user.internal: UserInternals, JdkErrors - not exported)
 *   ---------------------------------------------------------------------------------------------
 *   sim       Machine, Host, Guest, VsockCapture   (sim.internal: SimInternals - not exported)
 *   ---------------------------------------------------------------------------------------------
 *   kernel model: net, vsock.*, fs, virtio, vhost, kernel, mm                (not exported)
 *   uapi (exported), io.vsocksim (annotations, exported)
 * </pre>
 *
 * <p><b>Internals.</b> The module's own code (the {@code vsock_test} port, the tools, the tests) reaches a
 * process's credentials, descriptor table and address space and a socket object's kernel socket through
 * {@code io.vsocksim.user.internal.UserInternals}, which this package installs when
 * {@code UserProcess} is initialised (as the JDK's {@code SharedSecrets}); that package is not exported.
 */
package io.vsocksim.user;
