package io.vsocksim.user.bridge;

import io.vsocksim.sim.Guest;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.user.VsockAddress;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.user.nio.VsockSelectorProvider;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A guest's vsock exposed the way Firecracker exposes it (Firecracker docs/vsock.md, "hybrid vsock"):
 * through a Unix-domain socket at {@code path} on the real machine, so that a program outside the JVM
 * (socat, an agent in any language) talks to the simulated guest.
 *
 * <ul>
 *   <li>Host-initiated: connect to {@code path}, write {@code CONNECT <port>\n}, read
 *       {@code OK <host port>\n} once the guest's listener on that port accepted; then the connection
 *       carries bytes both ways, half-closes included. No listener: the Unix connection is closed.</li>
 *   <li>Guest-initiated: a guest's {@code connect(2, P)} reaches the program listening on
 *       {@code <path>_<P>}; with nobody there, the guest's connect is reset (ECONNRESET), as on
 *       Firecracker.</li>
 * </ul>
 *
 * <pre>
 *   try (Host host = Host.virtualTime("host")) {
 *       Guest guest = host.startGuest(3);
 *       HybridVsock bridge = HybridVsock.expose(guest, Path.of("/tmp/vm.sock")); // closed with the guest
 *       ...
 *   }
 * </pre>
 *
 * <p>Threads: two per bridge, whatever the number of connections: one selector loop for the Unix side
 * (the JDK's {@code UnixDomainSocketAddress} channels) and one for the vsock side (descriptors of a host
 * process, {@code VsockSelectorProvider}). Memory: each connection holds two rings of
 * {@link #RING_BYTES} (one each way), and at most {@link #MAX_CONNECTIONS} connections exist (counting
 * those still reading their CONNECT line, a 32-byte buffer each), so the bridge buffers at most
 * {@code MAX_CONNECTIONS * 2 * RING_BYTES} bytes (128 KiB per connection, under 128 MiB in all).
 *
 * <p>The package documentation lists every outcome of the protocol and what differs from Firecracker.
 */
public final class HybridVsock implements AutoCloseable {
    /** Bytes one direction of one connection may hold in the bridge. */
    public static final int RING_BYTES = 64 * 1024;
    /** Connections at once, as Firecracker's {@code MAX_CONNECTIONS} (unix/mod.rs). */
    public static final int MAX_CONNECTIONS = 1023;

    /** What the bridge counts: every outcome of the protocol, good or bad. */
    public enum Counter {
        /** Unix clients accepted on {@code path}. */
        HOST_ACCEPTED,
        /** Unix clients closed at once because {@link #MAX_CONNECTIONS} were open. */
        HOST_TOO_MANY,
        /** Clients that closed (or failed) before a whole command line. */
        HOST_GONE_BEFORE_COMMAND,
        /** Command lines that were not {@code CONNECT <u32>}. */
        HOST_MALFORMED,
        /** 32 bytes without a newline. */
        HOST_OVERSIZED,
        /** Connects the guest refused (reset: no listener) or that timed out. */
        HOST_REFUSED,
        /** Host-initiated connections established ({@code OK} sent). */
        HOST_CONNECTED,
        /** Guest requests joined to a program listening on {@code <path>_<port>}. */
        GUEST_FORWARDED,
        /** Guest requests refused (nobody listening on {@code <path>_<port>}, or the bridge full). */
        GUEST_REFUSED,
        /** Children of the bridge's listener with no Unix channel waiting for them, closed. */
        GUEST_STRAY,
        /** Connections ended by an I/O error on either side (both channels closed at once). */
        ABORTED
    }

    private final Guest guest;
    private final Path path;
    private final int guestCid;
    private final UserProcess process;
    private final VsockSelectorProvider nio;
    private final SelectorLoop udsLoop;
    private final SelectorLoop vsockLoop;
    private final GuestInitiated guestInitiated;
    private final HostPorts ports = new HostPorts();
    private final Set<Splice> splices = ConcurrentHashMap.newKeySet();
    private final AtomicInteger slots = new AtomicInteger();
    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);
    private boolean closed;

    private HybridVsock(Guest guest, Path path, ServerSocketChannel uds, UserProcess process) throws IOException {
        this.guest = guest;
        this.path = path;
        this.guestCid = guest.cid();
        this.process = process;
        this.nio = VsockSelectorProvider.of(process);
        ServerSocketChannel vsListener = nio.openServerSocketChannel();
        // The host CID, not any: a host program's loopback connect (CID 1) cannot reach it.
        vsListener.bind(VsockAddress.of(VsockAddress.CID_HOST, VsockAddress.PORT_ANY), MAX_CONNECTIONS);
        vsListener.configureBlocking(false);
        this.guestInitiated = new GuestInitiated(this, vsListener);
        Selector vsSelector = nio.openSelector();
        vsListener.register(vsSelector, SelectionKey.OP_ACCEPT, guestInitiated);
        Selector udsSelector = Selector.open();
        uds.configureBlocking(false);
        uds.register(udsSelector, SelectionKey.OP_ACCEPT, new HostInitiated(this, uds));
        String name = path.getFileName().toString();
        this.udsLoop = new SelectorLoop("hybrid-vsock-uds " + name, udsSelector);
        this.vsockLoop = new SelectorLoop("hybrid-vsock-vsock " + name, vsSelector);
    }

    /**
     * Listens on the Unix socket {@code path} for {@code guest} and forwards guest requests to
     * {@code <path>_<port>}, until {@link #close()} or the guest's close.
     *
     * @throws java.net.BindException if {@code path} exists (as Firecracker fails to start on a stale
     *     socket file), or another I/O error binding it
     */
    public static HybridVsock expose(Guest guest, Path path) throws IOException {
        Objects.requireNonNull(guest, "guest");
        ServerSocketChannel uds = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        UserProcess process = UserProcess.spawn(guest.host(), "hybrid-vsock");
        HybridVsock b;
        try {
            uds.bind(UnixDomainSocketAddress.of(path));
            // One descriptor per connection, plus the listener, epoll and eventfd.
            UserInternals.files(process).setRlimitNofile(MAX_CONNECTIONS + 16);
            b = new HybridVsock(guest, path, uds, process);
        } catch (IOException | RuntimeException e) {
            closeQuietly(uds);
            process.close();
            throw e;
        }
        b.udsLoop.start();
        b.vsockLoop.start();
        SimInternals.vhost(guest).setUnboundRequestHook(b.guestInitiated);
        guest.closeWith(b);
        return b;
    }

    /** The Unix socket a guest's connect to host port {@code port} is forwarded to: {@code <path>_<port>}. */
    public static Path portPath(Path path, int port) {
        return Path.of(path + "_" + Integer.toUnsignedString(port));
    }

    /** The Unix socket of host-initiated connections. */
    public Path path() {
        return path;
    }

    /** The guest's CID. */
    public int guestCid() {
        return guestCid;
    }

    /**
     * The host port of the bridge's own listener, which takes the guest's requests the host kernel hands
     * it. A guest that connects to this port itself is accepted and closed ({@link Counter#GUEST_STRAY}).
     */
    public int listenerPort() {
        return guestInitiated.listenerPort();
    }

    /** Connections moving bytes now. */
    public int connections() {
        return splices.size();
    }

    /** Bytes held in the bridge's rings now, all connections and both directions. */
    public long bufferedBytes() {
        long n = 0;
        for (Splice s : splices) {
            n += s.buffered();
        }
        return n;
    }

    /** How many times {@code c} happened. */
    public long count(Counter c) {
        return counters.get(c.ordinal());
    }

    /** Host ports of host-initiated connections in use. */
    int hostPortsInUse() {
        return ports.inUse();
    }

    /** Guest requests connected on the Unix side and not yet accepted on the vsock side. */
    int pendingGuestRequests() {
        return guestInitiated.pending();
    }

    /**
     * Stops listening, closes every connection (both channels at once, as a VMM that exits), the Unix
     * socket file and the bridge's host process, and ends its two threads. Idempotent.
     */
    @Override
    public void close() throws InterruptedException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        SimInternals.vhost(guest).setUnboundRequestHook(null);
        guest.forgetCloseWith(this);
        guestInitiated.close();
        udsLoop.stop();
        vsockLoop.stop();
        for (Splice s : splices) {
            s.closeNow();
        }
        closeAll(udsLoop.selector());
        closeAll(vsockLoop.selector());
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // someone else's file now; nothing of ours is left in it
        }
        process.close();
    }

    private static void closeAll(Selector sel) {
        for (SelectionKey k : sel.keys()) {
            closeQuietly(k.channel());
        }
        closeQuietly(sel);
    }

    // ---- for the package ----------------------------------------------------------------------------

    void inc(Counter c) {
        counters.incrementAndGet(c.ordinal());
    }

    boolean tryAcquireSlot() {
        for (;;) {
            int n = slots.get();
            if (n >= MAX_CONNECTIONS) {
                return false;
            }
            if (slots.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void releaseSlot() {
        slots.decrementAndGet();
    }

    /** {@code s} moves bytes from now on; when both its sides close, {@code andThen} runs and its slot goes. */
    void started(Splice s, Runnable andThen) {
        splices.add(s);
        s.onDone(() -> {
            if (s.aborted()) {
                inc(Counter.ABORTED);
            }
            splices.remove(s);
            andThen.run();
            releaseSlot();
        });
    }

    SelectorLoop udsLoop() {
        return udsLoop;
    }

    SelectorLoop vsockLoop() {
        return vsockLoop;
    }

    VsockSelectorProvider nio() {
        return nio;
    }

    HostPorts ports() {
        return ports;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing is the last thing done with it
        }
    }
}
