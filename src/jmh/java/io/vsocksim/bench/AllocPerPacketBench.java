package io.vsocksim.bench;

import io.vsocksim.uapi.ErrnoException;
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
 * Allocation per packet, for {@code -prof gc}: one op = one 1 KiB {@code send()} host→guest = one RW
 * packet on the wire (1 KiB fits one 3776-byte guest RX buffer and is above the 128-byte merge limit),
 * received with recv() by a drain thread in the guest. {@code gc.alloc.rate.norm} is then bytes
 * allocated per packet by all JVM threads (JMH's GC profiler sums every thread's allocated bytes), which
 * includes the drain thread, vhost's worker and the guest's RX work, and the credit updates the
 * receiver sends back (about one per 64 KiB read here).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AllocPerPacketBench {
    @Param({"h2g", "g2h"})
    public String direction;

    private Fixture f;
    private Thread drain;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1024);

    @Setup(Level.Trial)
    public void setUp() throws ErrnoException {
        f = new Fixture("g2h".equals(direction), false);
        f.connect();
        drain = f.drain(false);
    }

    @Benchmark
    public int packet() throws ErrnoException {
        return f.sendAll(buf);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        f.finish(drain);
    }
}
