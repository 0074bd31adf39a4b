package io.vsocksim.user.bridge;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One side of a bridged connection: a stream channel on its {@link SelectorLoop}, the ring it reads that
 * channel into ({@code rx}, for the other side) and the ring it writes to that channel ({@code tx}, from
 * the other side). Both sides run this same code; only the loop and the channel differ.
 *
 * <p>Flow control: the channel is read only while {@code rx} has room, so a side that cannot write (its
 * peer reads slowly) stops the other side from reading, and the sender behind that one is held back by
 * its own transport: vsock credit for a guest, the Unix socket buffer for a host program.
 *
 * <p>End of stream travels as a half-close: EOF read here shuts {@code rx} down, and the other side
 * shuts its channel's output once it has written everything ({@code shutdownOutput}, i.e. SHUT_WR). A
 * side closes its channel when both directions are finished. An I/O error on either side aborts the
 * connection: both channels are closed without waiting for data in flight.
 */
final class Endpoint implements SelectorLoop.Handler, Runnable {
    private final Splice splice;
    private final SelectorLoop loop;
    private final SocketChannel ch;
    private final ByteRing rx;
    private final ByteRing tx;
    private final AtomicBoolean kicked = new AtomicBoolean();
    private Endpoint peer;
    // Loop thread only:
    private SelectionKey key;
    private boolean readEof;
    private boolean outputShut;
    private boolean closed;

    Endpoint(Splice splice, SelectorLoop loop, SocketChannel ch, ByteRing rx, ByteRing tx) {
        this.splice = splice;
        this.loop = loop;
        this.ch = ch;
        this.rx = rx;
        this.tx = tx;
    }

    void peer(Endpoint p) {
        this.peer = p;
    }

    SocketChannel channel() {
        return ch;
    }

    /**
     * Starts moving bytes: on the loop's thread, takes over {@code existing} (a key this channel already
     * has with the loop's selector, e.g. from reading the CONNECT line) or registers the channel.
     */
    void start(SelectionKey existing) {
        loop.execute(() -> {
            try {
                if (existing != null) {
                    existing.attach(this);
                    key = existing;
                } else {
                    ch.configureBlocking(false);
                    key = ch.register(loop.selector(), 0, this);
                }
            } catch (IOException | RuntimeException e) {
                fail();
                return;
            }
            pump();
        });
    }

    /** Asks this side's loop to look at the rings again (the other side added or took bytes). */
    void kick() {
        if (!kicked.getAndSet(true)) {
            loop.execute(this);
        }
    }

    /** A kick arriving on the loop's thread. */
    @Override
    public void run() {
        kicked.set(false);
        if (key != null) {
            pump();
        }
    }

    @Override
    public void ready(SelectionKey k) {
        pump();
    }

    private void pump() {
        if (closed) {
            return;
        }
        if (splice.aborted()) {
            close();
            return;
        }
        try {
            fill();
            drain();
        } catch (IOException e) {
            fail();
            return;
        }
        if (readEof && outputShut) {
            close();
            return;
        }
        key.interestOps((!readEof && rx.free() > 0 ? SelectionKey.OP_READ : 0)
                | (tx.size() > 0 ? SelectionKey.OP_WRITE : 0));
    }

    private void fill() throws IOException {
        while (!readEof && rx.free() > 0) {
            int n = rx.readFrom(ch);
            if (n == 0) {
                return;
            }
            if (n < 0) {
                readEof = true;
                rx.shutdown();
            }
            peer.kick();
        }
    }

    private void drain() throws IOException {
        while (tx.size() > 0) {
            int n = tx.writeTo(ch);
            if (n == 0) {
                return;
            }
            peer.kick(); // room again: the other side may read its channel
        }
        if (!outputShut && tx.drained()) {
            outputShut = true;
            ch.shutdownOutput();
        }
    }

    private void fail() {
        splice.abort();
        close();
        peer.kick();
    }

    /** Closes the channel (which cancels its key); once per side. Loop thread, or after the loop stopped. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            ch.close();
        } catch (IOException ignored) {
            // the descriptor is gone either way
        }
        splice.sideClosed();
    }
}
