package io.vsocksim.kernel;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * The JVM's monotonic clock, for threaded runs and benchmarks. This is the only class in
 * {@code src/main} that reads system time (style guide §6.7; {@code NoSystemTimeTest} enforces it).
 * Stateless apart from its boot instant, so one instance may serve a whole machine.
 */
public final class RealClock implements Clock {
    private final long bootNanos = System.nanoTime();

    /** A clock whose boot is now. */
    public RealClock() {
    }

    @Override
    public long nanoTime() {
        return System.nanoTime() - bootNanos;
    }

    /**
     * The wall clock ({@code CLOCK_REALTIME}) in nanoseconds since the epoch, millisecond precision:
     * only for labelling what leaves the simulation (capture file timestamps), never for timing.
     */
    public static long epochNanos() {
        return System.currentTimeMillis() * 1_000_000L;
    }

    @Override
    public void awaitUntil(Lock lock, Condition cond, long deadlineNanos) throws InterruptedException {
        if (deadlineNanos == Long.MAX_VALUE) {
            cond.await();
            return;
        }
        long remaining = deadlineNanos - nanoTime();
        if (remaining > 0) {
            cond.awaitNanos(remaining);
        }
    }
}
