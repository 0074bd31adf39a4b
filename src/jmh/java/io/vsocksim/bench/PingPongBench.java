package io.vsocksim.bench;

import io.vsocksim.uapi.ErrnoException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * 1-byte round trip: the guest sends one byte to the host, an echo thread on the host sends it back,
 * the guest receives it ({@code vsock}); the same through a JDK Unix-domain SocketChannel pair
 * ({@code uds}) in the same run. SampleTime mode: JMH prints the median (p0.50).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PingPongBench {
    @Param({"vsock", "uds"})
    public String transport;

    private Fixture f;
    private Thread echo;
    private SocketChannel udsClient;
    private SocketChannel udsServer;
    private ServerSocketChannel udsListener;
    private Path udsDir;
    private final ByteBuffer one = ByteBuffer.allocateDirect(1);

    @Setup(Level.Trial)
    public void setUp() throws ErrnoException, IOException {
        if ("vsock".equals(transport)) {
            f = new Fixture(true, false); // guest connects to the host
            f.connect();
            echo = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(1);
                try {
                    while (f.rx.recv(b, 0) > 0) {
                        b.flip();
                        f.rx.send(b, 0);
                        b.clear();
                    }
                } catch (ErrnoException e) {
                    // closed
                }
            }, "vsock-echo");
        } else {
            udsDir = Files.createTempDirectory("vsocksim-pp");
            UnixDomainSocketAddress a = UnixDomainSocketAddress.of(udsDir.resolve("s"));
            udsListener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            udsListener.bind(a);
            udsClient = SocketChannel.open(a);
            udsServer = udsListener.accept();
            echo = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(1);
                try {
                    while (udsServer.read(b) > 0) {
                        b.flip();
                        udsServer.write(b);
                        b.clear();
                    }
                } catch (IOException e) {
                    // closed
                }
            }, "uds-echo");
        }
        echo.setDaemon(true);
        echo.start();
    }

    @Benchmark
    public int roundTrip() throws ErrnoException, IOException {
        one.clear();
        if (f != null) {
            f.tx.send(one, 0);
            one.clear();
            return f.tx.recv(one, 0);
        }
        udsClient.write(one);
        one.clear();
        return udsClient.read(one);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        if (f != null) {
            f.tx.close();
            f.tx = null;
            echo.join(5000);
            f.close();
        } else {
            udsClient.close();
            echo.join(5000);
            udsServer.close();
            udsListener.close();
            Files.deleteIfExists(udsDir.resolve("s"));
            Files.deleteIfExists(udsDir);
        }
    }
}
