package io.vsocksim.tools;

import io.vsocksim.sim.Guest;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockAddress;
import io.vsocksim.user.nio.VsockSelectorProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The {@code serve --workload echo} program: a guest process that listens on a vsock port and sends back
 * every byte each connection sends it, half-closing its side when the peer has, written against NIO only
 * (one selector thread for every connection, 64 KiB per connection).
 */
final class GuestEcho implements AutoCloseable {
    /** The port the echo listens on: vsock_test's DEFAULT_PEER_PORT, the port Firecracker's examples use too. */
    static final int PORT = 1234;

    private final UserProcess process;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final Thread thread;
    private volatile boolean stopping;

    GuestEcho(Guest guest, int port) throws IOException {
        this.process = UserProcess.spawn(guest, "echo");
        VsockSelectorProvider nio = VsockSelectorProvider.of(process);
        try {
            selector = nio.openSelector();
            listener = nio.openServerSocketChannel();
            listener.bind(VsockAddress.ofAnyCIDPort(port), 64);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            process.close();
            throw e;
        }
        thread = new Thread(this::loop, "guest-echo");
        thread.setDaemon(true);
        thread.start();
    }

    /** One connection: what was read and not yet sent back, and whether the peer has finished sending. */
    private static final class Conn {
        final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        boolean eof;
    }

    private void loop() {
        try {
            while (!stopping) {
                selector.select();
                for (SelectionKey k : selector.selectedKeys()) {
                    if (k.isValid() && k.isAcceptable()) {
                        accept();
                    } else if (k.isValid()) {
                        serve(k);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | java.nio.channels.ClosedSelectorException e) {
            // closed under us: the workload is stopping
        }
    }

    private void accept() throws IOException {
        for (SocketChannel c; (c = listener.accept()) != null;) {
            c.configureBlocking(false);
            c.register(selector, SelectionKey.OP_READ, new Conn());
        }
    }

    private static void serve(SelectionKey k) {
        SocketChannel c = (SocketChannel) k.channel();
        Conn s = (Conn) k.attachment();
        try {
            if (!s.eof && s.buf.hasRemaining() && c.read(s.buf) < 0) {
                s.eof = true;
            }
            s.buf.flip();
            c.write(s.buf);
            s.buf.compact();
            if (s.eof && s.buf.position() == 0) {
                c.shutdownOutput();
                c.close();
                return;
            }
            k.interestOps((!s.eof && s.buf.hasRemaining() ? SelectionKey.OP_READ : 0)
                    | (s.buf.position() > 0 ? SelectionKey.OP_WRITE : 0));
        } catch (IOException e) {
            try {
                c.close();
            } catch (IOException ignored) {
                // gone either way
            }
        }
    }

    /** Stops the thread and ends the process (every connection and the listener close with it). */
    @Override
    public void close() throws InterruptedException {
        stopping = true;
        selector.wakeup();
        thread.join();
        for (SelectionKey k : selector.keys()) {
            try {
                k.channel().close();
            } catch (IOException ignored) {
                // the process's exit closes it anyway
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // as above
        }
        process.close();
    }
}
