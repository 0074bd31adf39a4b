package io.vsocksim.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * Time that a program can move: in its manual form ({@link #VirtualClock()}) it stands still until a
 * test calls {@link #advance} (gVisor's {@code faketime.ManualClock}, Netty's {@code advanceTimeBy});
 * in its self-running form ({@link #selfRunning()}) it runs at least as fast as real time, and
 * {@link #advance} moves it further ahead, so no wait with a timeout can hang even if nobody ever
 * advances it.
 *
 * <p>Threads parked through {@link #awaitUntil} are registered here with their deadline; an advance
 * that reaches a deadline signals that sleeper's condition under its own lock, so blocked user calls
 * time out and {@link ThreadedWorkQueue} timers fire exactly when virtual time crosses them.
 * {@link ManualWorkQueue} needs no signal: it compares its timers with {@link #nanoTime()} whenever a
 * test runs it.
 *
 * <p>Locking: the clock's monitor guards {@code now} updates and the sleeper list. It is never held
 * while taking a sleeper's lock, so a sleeper may hold its lock while registering (lock order:
 * sleeper lock, then clock monitor).
 */
public final class VirtualClock implements Clock {
    private record Sleeper(Lock lock, Condition cond, long deadline, TimeDomain.Participant who) {
    }

    /** Manual: the time. Self-running: how far {@link #advance} has moved ahead of {@link #floor}. */
    private volatile long now;
    /** Self-running: the real time this clock never falls behind; null for a manual clock. */
    private final Clock floor;
    private final List<Sleeper> sleepers = new ArrayList<>(); // guarded by this
    /** Told after every {@link #advance}: the worker pools whose queues keep timers on this clock. */
    private final List<Runnable> advanceListeners = new CopyOnWriteArrayList<>();
    /** The machines this clock jumps with (self-running clocks only), or null. */
    private volatile TimeDomain domain;

    /** A manual clock at boot time (0 ns, jiffy 0): it moves only when {@link #advance}d. */
    public VirtualClock() {
        this(null);
    }

    private VirtualClock(Clock floor) {
        this.floor = floor;
    }

    /**
     * A clock at boot time that follows real time ({@link RealClock}) and jumps ahead by whatever
     * {@link #advance} adds: timeouts expire in real time at the latest, sooner when a program
     * advances the clock.
     */
    public static VirtualClock selfRunning() {
        return new VirtualClock(new RealClock());
    }

    /** The time domain this clock jumps with, or null. */
    public TimeDomain domain() {
        return domain;
    }

    void joinDomain(TimeDomain d) {
        if (d != null && domain != null && domain != d) {
            throw new IllegalStateException("clock is in another time domain already: " + domain);
        }
        domain = d;
    }

    /** Marks the threads asleep on {@code cond} as running in the time domain, then signals them. */
    @Override
    public void signalAll(Condition cond) {
        if (domain != null) {
            synchronized (this) {
                for (Sleeper s : sleepers) {
                    if (s.cond == cond) {
                        TimeDomain.wake(s.who);
                    }
                }
            }
        }
        cond.signalAll();
    }

    /** True if this clock follows real time on its own ({@link #selfRunning()}). */
    public boolean isSelfRunning() {
        return floor != null;
    }

    @Override
    public boolean runsByItself() {
        return floor != null;
    }

    /**
     * Runs {@code listener} after every {@link #advance} from now on (outside the clock's monitor): how
     * a work queue's timers, kept by shared worker threads rather than a thread parked on this clock,
     * learn that time moved. {@link #removeAdvanceListener} undoes it.
     */
    public void onAdvance(Runnable listener) {
        advanceListeners.add(listener);
    }

    /** Stops telling {@code listener} about advances. */
    public void removeAdvanceListener(Runnable listener) {
        advanceListeners.remove(listener);
    }

    @Override
    public long nanoTime() {
        return floor == null ? now : Clock.deadline(floor.nanoTime(), now);
    }

    /**
     * Moves time forward by {@code nanos} and wakes every sleeper whose deadline is now reached.
     *
     * @throws IllegalArgumentException if {@code nanos} is negative (time never goes back)
     */
    public void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time never goes back: nanos=" + nanos);
        }
        List<Sleeper> due = new ArrayList<>();
        synchronized (this) {
            now = Clock.deadline(now, nanos);
            long t = nanoTime();
            for (Sleeper s : sleepers) {
                if (s.deadline <= t) {
                    TimeDomain.wake(s.who); // running from now on, before the signal reaches it
                    due.add(s);
                }
            }
        }
        // Outside the monitor: a sleeper holds its lock while registering (see class comment).
        for (Sleeper s : due) {
            s.lock.lock();
            try {
                s.cond.signalAll();
            } finally {
                s.lock.unlock();
            }
        }
        for (Runnable l : advanceListeners) {
            l.run();
        }
    }

    /** Moves time forward by {@code j} jiffies. */
    public void advanceJiffies(long j) {
        advance(Clock.jiffiesToNanos(j));
    }

    /**
     * Test synchronisation: blocks until at least {@code n} threads are parked on this clock (in
     * {@link #awaitUntil}), so a test advances time only once its waiters are really asleep. Has no
     * timeout of its own: bound it with JUnit's {@code @Timeout}, which interrupts the test thread.
     */
    public synchronized void awaitSleepers(int n) throws InterruptedException {
        while (sleepers.size() < n) {
            wait(); // notified by every registration in awaitUntil
        }
    }

    /**
     * Test synchronisation: the earliest deadline (ns) among the threads parked on this clock, or
     * {@code Long.MAX_VALUE} if none is parked, so a test can check how long a waiter sleeps.
     */
    public synchronized long earliestDeadline() {
        long min = Long.MAX_VALUE;
        for (Sleeper s : sleepers) {
            min = Math.min(min, s.deadline);
        }
        return min;
    }

    /** Number of threads currently parked on this clock. */
    public synchronized int sleepers() {
        return sleepers.size();
    }

    @Override
    public void awaitUntil(Lock lock, Condition cond, long deadlineNanos) throws InterruptedException {
        long left;
        Sleeper s;
        synchronized (this) {
            left = deadlineNanos == Long.MAX_VALUE ? Long.MAX_VALUE : deadlineNanos - nanoTime();
            if (left <= 0) {
                return;
            }
            s = new Sleeper(lock, cond, deadlineNanos, domain == null ? null : TimeDomain.sleeping(this));
            sleepers.add(s);
            notifyAll();
        }
        try {
            if (floor == null || left == Long.MAX_VALUE) {
                cond.await();
            } else {
                cond.awaitNanos(left); // real time runs this clock at least as fast
            }
        } finally {
            synchronized (this) {
                sleepers.remove(s);
            }
            TimeDomain.awake(s.who);
        }
    }
}
