/**
 * vsocksim: a pure-Java, kernel-faithful model of Linux 6.12.117's VM sockets (AF_VSOCK) over virtio.
 *
 * <p><b>The API</b> is what this module exports:
 * <ul>
 *   <li>{@link io.vsocksim.sim}: machines, each saying which clock it keeps
 *       ({@code Host.virtualTime(name)}, {@code Host.realTime}, {@code Host.manualTime};
 *       {@code host.startGuest(cid)}; {@code Machine.virtualTime(name, memory)}), packet capture;</li>
 *   <li>{@link io.vsocksim.user}: what a program touches: processes ({@code UserProcess.spawn(machine, name)},
 *       the C calls by descriptor), sockets ({@code VsockSocket.open(machine, type)}), addresses, the
 *       java.net face, faults; {@link io.vsocksim.user.nio} the NIO face; {@link io.vsocksim.user.bridge} a
 *       guest behind a Unix socket;</li>
 *   <li>{@link io.vsocksim.uapi}: the kernel's numbers and structs, the user ABI
 *       ({@code Sock}, {@code VmSockets}, {@code Errno}, {@code ErrnoException}, ...);</li>
 *   <li>{@link io.vsocksim}: the {@code @Linux} and {@code @NotUpstream} citations the API carries, and the
 *       pinned kernel version.</li>
 * </ul>
 * Everything else is the kernel model (memory, kernel context, rings, af_vsock, transports, socket calls),
 * the {@code vsock_test} port, deterministic simulation and the command line: read it next to Linux, do
 * not build on it. The module's own code, tests included, reaches a machine's or a process's inside
 * through the unexported {@code io.vsocksim.sim.internal} and {@code io.vsocksim.user.internal}.
 *
 * <p>The library logs through SLF4J only. picocli (the command line) and java.management ({@code vsocksim
 * scale}) are needed only by {@code io.vsocksim.tools}, which runs from the class path ({@code ./vsocksim});
 * JUnit only by the test extension.
 */
module io.vsocksim {
    requires org.slf4j;
    requires static info.picocli;
    requires static java.management;
    requires static org.junit.jupiter.api;

    exports io.vsocksim;
    exports io.vsocksim.sim;
    exports io.vsocksim.uapi;
    exports io.vsocksim.user;
    exports io.vsocksim.user.bridge;
    exports io.vsocksim.user.nio;
    exports io.vsocksim.user.junit;

    // picocli fills the command classes' option fields reflectively (vsock-test's are in testsuite).
    opens io.vsocksim.testsuite to info.picocli;
    opens io.vsocksim.tools to info.picocli;
}
