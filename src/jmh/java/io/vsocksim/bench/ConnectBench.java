package io.vsocksim.bench;

import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.VsockSocket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Connection set-up and tear-down rate, guest → host: one op = socket, connect (REQUEST/RESPONSE over
 * virtio), accept on the host, then both ends closed (SHUTDOWN/RST). The host accepts in a thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ConnectBench {
    private Fixture f;
    private Thread acceptor;
    private volatile boolean running = true;

    @Setup(Level.Trial)
    public void setUp() throws ErrnoException {
        f = new Fixture(true, false);
        acceptor = new Thread(() -> {
            while (running) {
                try {
                    f.listener.accept().close();
                } catch (ErrnoException e) {
                    return;
                }
            }
        }, "bench-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @Benchmark
    public VsockSocket connectClose() throws ErrnoException {
        VsockSocket s = VsockSocket.open(f.sender, io.vsocksim.uapi.Sock.SOCK_STREAM);
        s.connect(f.receiverCid(), Fixture.PORT);
        s.close();
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        running = false;
        f.close();
        acceptor.join(5000);
    }
}
