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
 * Stream throughput: one op = one {@code send()} of {@code size} bytes on an established connection
 * (default 256 KiB buffer), while a thread on the receiving machine drains it with recv() (copy) or
 * through a 64-page mapping (zerocopy). Bytes/s = ops/s × size. The credit window bounds the sender, so
 * in steady state the send rate is the receive rate.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class StreamBench {
    @Param({"h2g", "g2h"})
    public String direction;

    @Param({"64", "4096", "65536"})
    public int size;

    @Param({"copy", "zerocopy"})
    public String receive;

    private Fixture f;
    private Thread drain;
    private ByteBuffer buf;

    @Setup(Level.Trial)
    public void setUp() throws ErrnoException {
        f = new Fixture("g2h".equals(direction), "zerocopy".equals(receive));
        f.connect();
        drain = f.drain("zerocopy".equals(receive));
        buf = ByteBuffer.allocateDirect(size);
    }

    @Benchmark
    public int send() throws ErrnoException {
        return f.sendAll(buf);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        f.finish(drain);
    }
}
