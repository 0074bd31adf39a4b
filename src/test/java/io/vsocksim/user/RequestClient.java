package io.vsocksim.user;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The client of {@link RequestServer}, written for JDK TCP channels and nothing else: blocking connections
 * that write a batch of requests with one gathering write and read the answers, and one non-blocking
 * connection driven by its own selector (OP_CONNECT, then OP_WRITE and OP_READ).
 */
final class RequestClient {
    private final SelectorProvider provider;
    private final SocketAddress server;

    RequestClient(SelectorProvider provider, SocketAddress server) {
        this.provider = provider;
        this.server = server;
    }

    /** {@code connections} blocking connections, each sending {@code requests} lines; the answers, in order. */
    List<String> runBlocking(int connections, int requests) throws IOException {
        List<String> answers = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            try (SocketChannel ch = provider.openSocketChannel()) {
                ch.connect(server);
                ByteBuffer[] batch = new ByteBuffer[requests];
                for (int r = 0; r < requests; r++) {
                    batch[r] = StandardCharsets.US_ASCII.encode("conn" + c + " req" + r + "\n");
                }
                while (batch[requests - 1].hasRemaining()) {
                    ch.write(batch);
                }
                answers.addAll(readLines(ch, requests));
            }
        }
        return answers;
    }

    private static List<String> readLines(SocketChannel ch, int count) throws IOException {
        List<String> lines = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        ByteBuffer in = ByteBuffer.allocateDirect(16);
        while (lines.size() < count) {
            in.clear();
            if (ch.read(in) < 0) {
                throw new IOException("end of stream after " + lines.size() + " answers");
            }
            sb.append(StandardCharsets.US_ASCII.decode(in.flip()));
            for (int nl; (nl = sb.indexOf("\n")) >= 0; ) {
                lines.add(sb.substring(0, nl));
                sb.delete(0, nl + 1);
            }
        }
        return lines;
    }

    /** One non-blocking connection on its own selector: connect, send {@code text}, read the one answer. */
    String runNonBlocking(String text) throws IOException {
        try (Selector sel = provider.openSelector(); SocketChannel ch = provider.openSocketChannel()) {
            ch.configureBlocking(false);
            ByteBuffer out = StandardCharsets.US_ASCII.encode(text + "\n");
            StringBuilder got = new StringBuilder();
            SelectionKey k = ch.register(sel, ch.connect(server) ? SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT);
            while (got.indexOf("\n") < 0) {
                sel.select();
                sel.selectedKeys().clear();
                if (k.isConnectable() && ch.finishConnect()) {
                    k.interestOps(SelectionKey.OP_WRITE);
                } else if (k.isWritable()) {
                    ch.write(out);
                    if (!out.hasRemaining()) {
                        k.interestOps(SelectionKey.OP_READ);
                    }
                } else if (k.isReadable()) {
                    ByteBuffer in = ByteBuffer.allocate(64);
                    if (ch.read(in) < 0) {
                        throw new IOException("end of stream");
                    }
                    got.append(StandardCharsets.US_ASCII.decode(in.flip()));
                }
            }
            return got.substring(0, got.indexOf("\n"));
        }
    }
}
