package io.vsocksim.bench;

import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.Vsockmon;
import java.nio.ByteBuffer;
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
 * What packet capture costs on the packet path: 1 KiB sends host→guest (one RW packet each, as in
 * {@link AllocPerPacketBench}) with no vsockmon device ({@code off}: the tap path is a flag test and a
 * volatile read, and builds nothing) and with a vsockmon device up on the host and on the guest whose
 * reader discards each frame ({@code on}: every packet's frame is built twice). With {@code -prof gc},
 * {@code off} must allocate what the path allocates without capture.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CaptureBench {
    @Param({"off", "on"})
    public String capture;

    private Fixture f;
    private Thread drain;
    private Vsockmon[] devices = {};
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1024);

    @Setup(Level.Trial)
    public void setUp() throws ErrnoException {
        f = new Fixture(false, false);
        if ("on".equals(capture)) {
            devices = new Vsockmon[] {new Vsockmon(SimInternals.core(f.host)), new Vsockmon(SimInternals.core(f.guest))};
            for (Vsockmon d : devices) {
                d.addListener((frame, nanos) -> { });
                d.open();
            }
        }
        f.connect();
        drain = f.drain(false);
    }

    @Benchmark
    public int packet() throws ErrnoException {
        return f.sendAll(buf);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        for (Vsockmon d : devices) {
            d.stop();
        }
        f.finish(drain);
    }
}
