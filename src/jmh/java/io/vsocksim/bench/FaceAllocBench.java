package io.vsocksim.bench;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.sim.Machine;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockAddress;
import io.vsocksim.user.nio.VsockSelectorProvider;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.uapi.ErrnoException;
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
 * One op = a 1-byte {@code send} and the {@code recv} that takes it back, over loopback, by the same
 * thread, through the object face ({@code VsockSocket} of the machine's embedder process, a handle over
 * the descriptor face), the descriptor face ({@code UserProcess} calls by descriptor, each a system call
 * with its signal and time-domain bookkeeping) or the NIO face (a non-blocking
 * {@code SocketChannel.write}, a blocking {@code read}: the channel's locks and state checks on top of
 * the descriptor face). With {@code -prof gc}, {@code gc.alloc.rate.norm} shows what a face adds per
 * call on top of the socket path (all should be 0).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FaceAllocBench {
    @Param({"object", "descriptor", "nio"})
    public String face;

    private Machine m;
    private VsockSocket tx;
    private VsockSocket rx;
    private UserProcess p;
    private int txFd;
    private int rxFd;
    private SocketChannel txCh;
    private SocketChannel rxCh;
    private final ByteBuffer one = ByteBuffer.allocateDirect(1);
    private final ByteBuffer in = ByteBuffer.allocateDirect(64);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        m = Machine.virtualTime("bench", 64L << 20);
        if ("object".equals(face)) {
            VsockSocket l = VsockSocket.open(m, SOCK_STREAM);
            l.bind(VMADDR_CID_ANY, 1000);
            l.listen(1);
            tx = VsockSocket.open(m, SOCK_STREAM);
            tx.connect(VMADDR_CID_LOCAL, 1000);
            rx = l.accept();
            l.close();
        } else if ("nio".equals(face)) {
            p = UserProcess.spawn(m, "bench");
            VsockSelectorProvider nio = VsockSelectorProvider.of(p);
            try (ServerSocketChannel l = nio.openServerSocketChannel()) {
                l.bind(VsockAddress.ofAnyCIDPort(1000));
                txCh = nio.openSocketChannel();
                txCh.connect(VsockAddress.ofLocalPort(1000));
                rxCh = l.accept();
            }
            txCh.configureBlocking(false);
        } else {
            p = UserProcess.spawn(m, "bench");
            int l = p.socket(AF_VSOCK, SOCK_STREAM, 0);
            p.bind(l, VMADDR_CID_ANY, 1000);
            p.listen(l, 1);
            txFd = p.socket(AF_VSOCK, SOCK_STREAM, 0);
            p.connect(txFd, VMADDR_CID_LOCAL, 1000);
            rxFd = p.accept4(l, 0);
            p.close(l);
        }
    }

    @Benchmark
    public long roundTrip() throws IOException {
        one.clear();
        in.clear();
        if (txCh != null) {
            txCh.write(one);
            return rxCh.read(in);
        }
        if (p == null) {
            tx.send(one, MSG_DONTWAIT);
            return rx.recv(in, 0);
        }
        p.send(txFd, one, MSG_DONTWAIT);
        return p.recv(rxFd, in, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (p != null) {
            p.close();
        } else {
            tx.close();
            rx.close();
        }
        m.close();
    }
}
