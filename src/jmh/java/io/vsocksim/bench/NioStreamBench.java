package io.vsocksim.bench;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockAddress;
import io.vsocksim.user.nio.VsockSelectorProvider;
import io.vsocksim.user.VsockSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
 * What a face costs: one op = 64 KiB written guest → host on an established connection, while a host
 * thread drains it in 64 KiB reads, through the NIO face (blocking {@code SocketChannel.write}/{@code read}
 * of processes' descriptors) or the object face ({@link VsockSocket#send}/{@code recv}). Same machines,
 * same kernel path; the difference is the face. MB/s = ops/s × 65536 / 10⁶.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class NioStreamBench {
    private static final int SIZE = 65536;
    private static final int PORT = 1234;

    @Param({"nio", "object"})
    public String face;

    private Host host;
    private ByteBuffer buf;
    private Thread drain;
    // the NIO face
    private SocketChannel tx;
    private SocketChannel rx;
    // the object face
    private VsockSocket txSock;
    private VsockSocket rxSock;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        host = SimInternals.newHost(KernelContext.threaded("host", 256L << 20, 2), true);
        Guest guest = SimInternals.startGuest(host, 3, KernelContext.threaded("guest3", 256L << 20, 2), Guest.Options.DEFAULTS);
        buf = ByteBuffer.allocateDirect(SIZE);
        if ("nio".equals(face)) {
            VsockSelectorProvider hostSide = VsockSelectorProvider.of(UserProcess.spawn(host, "bench"));
            try (ServerSocketChannel l = hostSide.openServerSocketChannel()) {
                l.bind(VsockAddress.ofAnyCIDPort(PORT));
                tx = VsockSelectorProvider.of(UserProcess.spawn(guest, "bench")).openSocketChannel();
                tx.connect(VsockAddress.ofHostPort(PORT));
                rx = l.accept();
            }
        } else {
            try (VsockSocket l = UserProcess.spawn(host, "bench").socket(SOCK_STREAM)) {
                l.bind(VMADDR_CID_ANY, PORT);
                l.listen(1);
                txSock = UserProcess.spawn(guest, "bench").socket(SOCK_STREAM);
                txSock.connect(VMADDR_CID_HOST, PORT);
                rxSock = l.accept();
            }
        }
        drain = new Thread(this::drain, "bench-drain");
        drain.setDaemon(true);
        drain.start();
    }

    private void drain() {
        ByteBuffer b = ByteBuffer.allocateDirect(SIZE);
        try {
            if (rx != null) {
                while (rx.read(b.clear()) > 0) {
                    // drained
                }
            } else {
                while (rxSock.recv(b.clear(), 0) > 0) {
                    // drained
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Benchmark
    public int send() throws IOException {
        buf.clear();
        int n = 0;
        while (buf.hasRemaining()) {
            n += tx != null ? tx.write(buf) : txSock.send(buf, 0);
        }
        return n;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException, ErrnoException {
        if (tx != null) {
            tx.close();
        } else {
            txSock.close();
        }
        drain.join(10_000);
        if (rx != null) {
            rx.close();
        } else {
            rxSock.close();
        }
        host.close();
    }
}
