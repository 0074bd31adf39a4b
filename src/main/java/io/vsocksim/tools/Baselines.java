package io.vsocksim.tools;

import io.vsocksim.kernel.RealClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The transports a user would otherwise pick, measured with the same transfer: JDK loopback TCP and
 * Unix-domain {@link SocketChannel}s, blocking, fixed-size writes and reads, timed with a
 * {@link RealClock} like the simulated machines.
 */
final class Baselines {
    private static final RealClock CLOCK = new RealClock();

    private Baselines() {
    }

    static RxZerocopyCommand.Run tcp(long bytes, int chunk) {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return measure("JDK TCP loopback SocketChannel", ss, SocketChannel.open(ss.getLocalAddress()), bytes, chunk);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RxZerocopyCommand.Run unix(long bytes, int chunk) {
        try {
            Path dir = Files.createTempDirectory("vsocksim-uds");
            Path path = dir.resolve("s");
            try (ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                ss.bind(UnixDomainSocketAddress.of(path));
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(UnixDomainSocketAddress.of(path));
                return measure("JDK Unix-domain SocketChannel", ss, c, bytes, chunk);
            } finally {
                Files.deleteIfExists(path);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RxZerocopyCommand.Run measure(String label, ServerSocketChannel ss, SocketChannel client, long bytes, int chunk)
            throws IOException {
        try (SocketChannel server = ss.accept(); SocketChannel c = client) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(chunk);
                long sent = 0;
                try {
                    while (sent < bytes) {
                        buf.clear();
                        if (bytes - sent < chunk) {
                            buf.limit((int) (bytes - sent));
                        }
                        sent += server.write(buf);
                    }
                    server.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ByteBuffer rbuf = ByteBuffer.allocateDirect(chunk);
            long t0 = CLOCK.nanoTime();
            long got = 0;
            int n;
            while ((n = c.read(rbuf)) > 0) {
                got += n;
                rbuf.clear();
            }
            long t1 = CLOCK.nanoTime();
            writer.join();
            return new RxZerocopyCommand.Run(label, got, t1 - t0, null);
        }
    }
}
