package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * A machine's sense of time: a monotonic nanosecond clock since the machine "booted", the jiffies
 * derived from it, and the one way any code in the simulator sleeps until a deadline.
 *
 * <p>This is one of the two scheduling seams (the other is {@link WorkQueue}): {@link RealClock} reads
 * the JVM's monotonic clock and really waits; {@link VirtualClock} only moves when a test advances it,
 * and wakes sleepers whose deadline it crosses. Protocol code never asks the JVM for the time.
 *
 * <p>SIM: jiffies start at 0 at boot; the kernel starts them at {@code INITIAL_JIFFIES} (five minutes
 * before a 32-bit wrap) to flush out wrap bugs. Our jiffies are 64-bit, as on x86-64, and callers
 * compare them with {@link #timeAfter} / {@link #timeAfterEq} anyway.
 */
public interface Clock {
    /**
     * Ticks per second. Debian builds its amd64 kernels with {@code CONFIG_HZ_250=y} (Debian kernel
     * config {@code debian/config/config}, visible as {@code CONFIG_HZ=250} in
     * {@code /boot/config-6.12.*-amd64}), so every jiffies-based timeout of the pinned kernel is a
     * multiple of 4 ms.
     */
    int HZ = 250;

    /** Nanoseconds per jiffy ({@code TICK_NSEC}): 4 000 000 at {@code HZ = 250}. */
    long TICK_NSEC = TimeUnit.SECONDS.toNanos(1) / HZ;

    /** Largest relative timeout in jiffies the kernel accepts (jiffies.h: {@code (LONG_MAX >> 1) - 1}). */
    long MAX_JIFFY_OFFSET = (Long.MAX_VALUE >> 1) - 1;

    /** Nanoseconds since this machine booted; never negative, never goes backwards. */
    long nanoTime();

    /**
     * Parks the calling thread, which holds {@code lock}, on {@code cond} (a condition of {@code lock})
     * until the condition is signalled, the thread is interrupted, or this clock reaches
     * {@code deadlineNanos}. May return early (spuriously); callers re-check their condition and the
     * time in a loop. {@code Long.MAX_VALUE} means no deadline.
     *
     * <p>Returns immediately if the deadline has already passed. The registration with the clock and
     * the time check are atomic with respect to {@link VirtualClock#advance}, so an advance is never
     * lost between the caller's check and its park.
     *
     * @throws InterruptedException if the thread is interrupted while parked (interrupt status cleared)
     */
    void awaitUntil(Lock lock, Condition cond, long deadlineNanos) throws InterruptedException;

    /**
     * Wakes every thread parked on {@code cond} through {@link #awaitUntil} (the caller holds the
     * condition's lock). A clock that lets time jump ({@link VirtualClock} in a {@link TimeDomain})
     * first counts them as running, so a wake-up on its way is never taken for idleness.
     */
    default void signalAll(Condition cond) {
        cond.signalAll();
    }

    /**
     * True if this clock moves on its own as real time passes (a {@link RealClock}, a self-running
     * {@link VirtualClock}): a deadline on it is at most that far away in real time. False for a manual
     * clock, which moves only when advanced.
     */
    default boolean runsByItself() {
        return true;
    }

    /** The current tick count. */
    @Linux(file = "include/linux/jiffies.h", fn = "jiffies")
    default long jiffies() {
        return nanoTime() / TICK_NSEC;
    }

    /**
     * Converts milliseconds to jiffies, rounding up so a timeout is never shortened; a value that does
     * not fit the kernel's {@code unsigned int} argument as a non-negative {@code int} becomes
     * {@link #MAX_JIFFY_OFFSET}, as in the kernel.
     */
    @Linux(file = "include/linux/jiffies.h", fn = "msecs_to_jiffies")
    static long msecsToJiffies(long m) {
        if (m < 0 || m > Integer.MAX_VALUE) {
            return MAX_JIFFY_OFFSET;
        }
        long msPerTick = 1000 / HZ; // HZ divides 1000, so the kernel takes its simplest branch
        return (m + msPerTick - 1) / msPerTick;
    }

    /** Converts microseconds to jiffies, rounding up ({@code DIV_ROUND_UP} as in sock_set_timeout()). */
    @Linux(file = "include/linux/jiffies.h", fn = "usecs_to_jiffies")
    static long usecsToJiffies(long u) {
        if (u < 0 || u > Integer.MAX_VALUE) {
            return MAX_JIFFY_OFFSET;
        }
        long usPerTick = 1_000_000 / HZ;
        return (u + usPerTick - 1) / usPerTick;
    }

    /** Converts jiffies to milliseconds. */
    @Linux(file = "kernel/time/time.c", fn = "jiffies_to_msecs")
    static long jiffiesToMsecs(long j) {
        return j * (1000 / HZ);
    }

    /**
     * Converts jiffies to nanoseconds. SIM: saturates at {@code Long.MAX_VALUE} (an infinite timeout
     * here) where the kernel's u64 product would wrap; {@link #MAX_JIFFY_OFFSET} therefore stays
     * "forever".
     */
    @Linux(file = "include/linux/jiffies.h", fn = "jiffies_to_nsecs")
    static long jiffiesToNanos(long j) {
        if (j > Long.MAX_VALUE / TICK_NSEC) {
            return Long.MAX_VALUE;
        }
        return j * TICK_NSEC;
    }

    /**
     * Converts nanoseconds to jiffies, rounding up so a timeout is never shortened, as the kernel's
     * user-timeout conversions ({@code timespec64_to_jiffies()}, {@code sock_set_timeout()}) do. Note
     * that the kernel's {@code nsecs_to_jiffies()} truncates instead; use {@code ns / TICK_NSEC}
     * where that one is mirrored. Negative input yields 0.
     */
    @Linux(file = "kernel/time/time.c", fn = "timespec64_to_jiffies")
    static long nanosToJiffies(long ns) {
        if (ns <= 0) {
            return 0;
        }
        return (ns - 1) / TICK_NSEC + 1;
    }

    /** True if jiffies value {@code a} is after {@code b}, robust to wrap. */
    @Linux(file = "include/linux/jiffies.h", fn = "time_after")
    static boolean timeAfter(long a, long b) {
        return b - a < 0;
    }

    /** True if jiffies value {@code a} is after or equal to {@code b}, robust to wrap. */
    @Linux(file = "include/linux/jiffies.h", fn = "time_after_eq")
    static boolean timeAfterEq(long a, long b) {
        return a - b >= 0;
    }

    /** {@code now + delta}, saturating at {@code Long.MAX_VALUE} (which every waiter reads as "never"). */
    static long deadline(long now, long deltaNanos) {
        long d = now + deltaNanos;
        return (deltaNanos >= 0 && d < now) ? Long.MAX_VALUE : d;
    }
}
