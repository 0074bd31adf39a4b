package io.vsocksim.user.bridge;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One bridged connection: a host program's Unix stream and a host vsock stream to the guest, each an
 * {@link Endpoint} on its own loop, joined by two {@link ByteRing}s of {@code ringBytes} each. That is
 * all the memory a connection holds in the bridge: {@code 2 * ringBytes}.
 */
final class Splice {
    /** Unix side to vsock side: what the host program sends to the guest. */
    final ByteRing toGuest;
    /** Vsock side to Unix side: what the guest sends to the host program. */
    final ByteRing toHost;
    private volatile Runnable onDone = () -> { };
    private final AtomicInteger openSides = new AtomicInteger(2);
    private volatile boolean aborted;
    private Endpoint unix;
    private Endpoint vsock;

    Splice(int ringBytes) {
        this.toGuest = new ByteRing(ringBytes);
        this.toHost = new ByteRing(ringBytes);
    }

    /** {@code r} runs once both sides are closed (on the thread that closed the last one). */
    void onDone(Runnable r) {
        onDone = r;
    }

    /**
     * Joins {@code uds} (on {@code udsLoop}, taking over {@code udsKey} if not null) and {@code vs} (on
     * {@code vsockLoop}, taking over {@code vsKey} if not null) and starts both sides.
     */
    void start(SelectorLoop udsLoop, SocketChannel uds, SelectionKey udsKey, SelectorLoop vsockLoop, SocketChannel vs,
            SelectionKey vsKey) {
        unix = new Endpoint(this, udsLoop, uds, toGuest, toHost);
        vsock = new Endpoint(this, vsockLoop, vs, toHost, toGuest);
        unix.peer(vsock);
        vsock.peer(unix);
        unix.start(udsKey);
        vsock.start(vsKey);
    }

    boolean aborted() {
        return aborted;
    }

    /** An I/O error on one side: the other side closes too, dropping what is in flight. */
    void abort() {
        aborted = true;
    }

    /** Bytes held in the bridge for this connection, both directions. */
    long buffered() {
        return toGuest.size() + (long) toHost.size();
    }

    void sideClosed() {
        if (openSides.decrementAndGet() == 0) {
            onDone.run();
        }
    }

    /** Closes both channels now; for the bridge's close, once neither loop runs. */
    void closeNow() {
        abort();
        if (unix != null) {
            unix.close();
            vsock.close();
        }
    }
}
