package io.vsocksim.user;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;

/**
 * A request/response server written for JDK TCP channels and nothing else: one thread, one selector,
 * OP_ACCEPT/OP_READ/OP_WRITE and a {@link Conn} attached to each connection. A request is a line of text;
 * the answer is {@code "<n>:<LINE IN UPPER CASE>\n"}, n counting the connection's requests from 1.
 */
final class RequestServer implements Runnable {
    private final Selector selector;
    private final ServerSocketChannel listener;
    private volatile boolean running = true;
    /** Connections accepted and requests answered, for the test to compare. */
    volatile int accepted;
    volatile int answered;

    /** Per-connection state: bytes of an unfinished request, answers not yet written. */
    private static final class Conn {
        final StringBuilder partial = new StringBuilder();
        ByteBuffer out = ByteBuffer.allocate(0);
        int requests;
    }

    RequestServer(SelectorProvider provider, SocketAddress bindTo) throws IOException {
        selector = provider.openSelector();
        listener = provider.openServerSocketChannel();
        listener.bind(bindTo);
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
    }

    SocketAddress localAddress() throws IOException {
        return listener.getLocalAddress();
    }

    /** Ends the loop from another thread. */
    void stop() {
        running = false;
        selector.wakeup();
    }

    @Override
    public void run() {
        try {
            while (running) {
                selector.select();
                for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isAcceptable()) {
                        accept();
                    } else {
                        if (k.isReadable()) {
                            read(k);
                        }
                        if (k.isValid() && k.isWritable()) {
                            write(k);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            close();
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = listener.accept()) != null) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ, new Conn());
            accepted++;
        }
    }

    private void read(SelectionKey k) throws IOException {
        SocketChannel ch = (SocketChannel) k.channel();
        Conn c = (Conn) k.attachment();
        ByteBuffer in = ByteBuffer.allocate(64);
        int n = ch.read(in);
        if (n < 0) {
            ch.close();
            return;
        }
        c.partial.append(StandardCharsets.US_ASCII.decode(in.flip()));
        StringBuilder answers = new StringBuilder();
        for (int nl; (nl = c.partial.indexOf("\n")) >= 0; ) {
            String line = c.partial.substring(0, nl);
            c.partial.delete(0, nl + 1);
            answers.append(++c.requests).append(':').append(line.toUpperCase(Locale.ROOT)).append('\n');
            answered++;
        }
        if (answers.length() > 0) {
            ByteBuffer more = StandardCharsets.US_ASCII.encode(answers.toString());
            c.out = ByteBuffer.allocate(c.out.remaining() + more.remaining()).put(c.out).put(more).flip();
            k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
    }

    private static void write(SelectionKey k) throws IOException {
        Conn c = (Conn) k.attachment();
        ((SocketChannel) k.channel()).write(c.out);
        if (!c.out.hasRemaining()) {
            k.interestOps(SelectionKey.OP_READ);
        }
    }

    private void close() {
        try {
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
            selector.close();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
