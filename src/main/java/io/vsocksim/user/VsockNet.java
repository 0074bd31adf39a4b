package io.vsocksim.user;

import io.vsocksim.sim.Machine;
import java.io.Closeable;
import java.io.IOException;

/**
 * The java.net face of a simulated machine: {@link java.net.Socket}s and {@link java.net.ServerSocket}s
 * that are AF_VSOCK stream sockets of one simulated process, for code written against java.net (as
 * junixsocket's {@code AFVSOCKSocket} is for a real machine).
 *
 * <pre>{@code
 * try (VsockNet net = VsockNet.of(host);
 *      ServerSocket server = net.serverSocket(VsockAddress.ofAnyCIDPort(1234), 50)) { ... }
 * }</pre>
 *
 * <p>Each socket is a descriptor of the process ({@link UserProcess}): socket(2), connect(2), recv(2)
 * and the rest are its calls, so the sockets are the same socket files C-style code and the vsock_test
 * port use. Behaviour follows JDK 17's {@code NioSocketImpl} and its exceptions ({@code JdkErrors});
 * the differences vsock makes (no InetAddress, u32 ports, one buffer size for SO_RCVBUF and SO_SNDBUF,
 * no TCP_NODELAY or urgent data) are listed at {@link VsockNetSocket}.
 *
 * <p>Made from a machine, the face owns a process of its own ({@code "java"}) and {@link #close()}
 * ends it, closing every socket still open; made from a process, it leaves the process to its owner.
 */
public final class VsockNet implements AutoCloseable {
    /** The backlog of {@link #serverSocket(int)}, as {@code new ServerSocket(port)}'s. */
    public static final int DEFAULT_BACKLOG = 50;

    private final UserProcess process;
    private final boolean ownsProcess;

    private VsockNet(UserProcess process, boolean ownsProcess) {
        this.process = process;
        this.ownsProcess = ownsProcess;
    }

    /** The face of {@code machine}, with a new process of its own. */
    public static VsockNet of(Machine machine) {
        return new VsockNet(UserProcess.spawn(machine, "java"), true);
    }

    /** The face of {@code process}: its sockets are that process's descriptors. */
    public static VsockNet of(UserProcess process) {
        return new VsockNet(process, false);
    }

    /** The process whose descriptors the sockets are. */
    public UserProcess process() {
        return process;
    }

    /**
     * An unconnected socket, as {@code new Socket()}.
     *
     * @throws java.net.SocketException socket(2) failed (e.g. "Address family not supported by
     *     protocol" with vsock.ko unloaded, "Too many open files")
     */
    public VsockNetSocket socket() throws IOException {
        return VsockNetSocket.open(process);
    }

    /**
     * A socket connected to {@code connectTo}, as {@code new Socket(host, port)}; the socket is closed
     * if the connection fails.
     *
     * @throws java.net.ConnectException nobody listens there, or vsock's connect timeout passed
     */
    public VsockNetSocket socket(VsockAddress connectTo) throws IOException {
        return closedOnFailure(socket(), s -> s.connect(connectTo));
    }

    /** An unbound server socket, as {@code new ServerSocket()}. */
    public VsockNetServerSocket serverSocket() throws IOException {
        return VsockNetServerSocket.open(process);
    }

    /** A server socket listening on {@code port} of every CID, backlog {@value #DEFAULT_BACKLOG}, as {@code new ServerSocket(port)}. */
    public VsockNetServerSocket serverSocket(int port) throws IOException {
        return serverSocket(VsockAddress.ofAnyCIDPort(port), DEFAULT_BACKLOG);
    }

    /**
     * A server socket bound to {@code bindTo} and listening with {@code backlog}; closed again if bind
     * or listen fails.
     *
     * @throws java.net.BindException "Address already in use" and the other bind errors
     */
    public VsockNetServerSocket serverSocket(VsockAddress bindTo, int backlog) throws IOException {
        return closedOnFailure(serverSocket(), s -> s.bind(bindTo, backlog));
    }

    /** A step that makes a new socket usable. */
    @FunctionalInterface
    private interface Setup<T> {
        void run(T socket) throws IOException;
    }

    /** {@code socket} after {@code setup}; closed (as the JDK's constructors close it) if setup fails. */
    private static <T extends Closeable> T closedOnFailure(T socket, Setup<T> setup) throws IOException {
        try {
            setup.run(socket);
            return socket;
        } catch (IOException | RuntimeException e) {
            try {
                socket.close();
            } catch (IOException ce) {
                e.addSuppressed(ce);
            }
            throw e;
        }
    }

    /**
     * The NIO face over the same process: {@code SocketChannel}s, {@code ServerSocketChannel}s and
     * {@code Selector}s whose descriptors sit beside this factory's sockets.
     */
    public io.vsocksim.user.nio.VsockSelectorProvider selectorProvider() {
        return io.vsocksim.user.nio.VsockSelectorProvider.of(process());
    }

    /** Ends the face's own process (every socket it still has is closed); a borrowed process is left alone. */
    @Override
    public void close() {
        if (ownsProcess) {
            process.close();
        }
    }
}
