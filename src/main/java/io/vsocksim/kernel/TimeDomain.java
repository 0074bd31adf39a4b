package io.vsocksim.kernel;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Machines whose self-running clocks move together (a host and its guests), and the rule that lets
 * their time jump: when every thread that uses them is asleep in the simulation, waits outside it or
 * is gone, nothing but a timer can happen next, so the clocks skip straight to the earliest deadline.
 * A 2-s connect timeout or an 8-s close timeout then costs a few milliseconds of wall time. This is
 * the kernel's tickless idle (NO_HZ: with every CPU idle, the next event is the next timer) applied to
 * a whole simulated world; between jumps the clocks follow real time ({@link VirtualClock#selfRunning()}).
 *
 * <p>Who counts. Each machine's work queue is busy while a work is queued, running or due. A
 * <em>participant</em> is a thread that made a system call on a machine of the domain; it is OUTSIDE
 * (not in a call), RUNNING (in a call) or ASLEEP (parked in a simulation wait: a wait queue or a clock
 * wait). A waker marks the threads it wakes RUNNING before it wakes them, so a wake-up still on its way
 * to a thread never looks like idleness. The domain counts RUNNING participants; at zero, a keeper
 * thread waits {@link #GRACE_NANOS} of real time, then checks that every queue is idle, that every
 * OUTSIDE participant is parked or blocked outside (not runnable) and that nothing changed meanwhile
 * (a change counter moves on every wake-up and every queued work), and advances every clock by the
 * distance to the earliest deadline. A thread that waits on a lock inside a call stays RUNNING, so a
 * domain with a lock hand-off in flight never jumps.
 *
 * <p>What it cannot see: a thread that never called into the domain. A program whose unknown thread is
 * about to call in after more than {@link #GRACE_NANOS} of idleness may find a timeout expired that
 * real time would not yet have expired; its result is still one a loaded real machine can produce.
 */
public final class TimeDomain implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TimeDomain.class);

    /**
     * Real time the whole domain must stay idle, unchanged, before its clocks jump: long enough for a
     * thread that was just started, or just woken outside the simulation, to make its first call.
     */
    public static final long GRACE_NANOS = 10_000_000L;

    static final int OUTSIDE = 0;
    static final int RUNNING = 1;
    static final int ASLEEP = 2;

    /** One thread's standing in one domain. */
    static final class Participant {
        final Thread thread;
        final TimeDomain domain;
        final AtomicInteger state;
        /** Nested calls on the owning thread (thread-confined). */
        int depth;

        Participant(Thread thread, TimeDomain domain, int initial) {
            this.thread = thread;
            this.domain = domain;
            this.state = new AtomicInteger(initial);
        }
    }

    /**
     * The calling thread's participant in the domain it used last (a cache in front of the map); weak,
     * so that a thread that outlives a host does not keep it, its guests and their memory reachable.
     */
    private static final ThreadLocal<WeakReference<Participant>> LAST = new ThreadLocal<>();

    private final String name;
    private final List<VirtualClock> clocks = new CopyOnWriteArrayList<>();
    private final List<WorkerPool> queues = new CopyOnWriteArrayList<>();
    private final Map<Thread, Participant> participants = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    /** Moves on every transition to RUNNING and every new participant: the keeper's change detector. */
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong jumps = new AtomicLong();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong jumpedNanos = new AtomicLong();
    private final Thread keeper;
    /** Set while the keeper sleeps until the running count reaches zero: the one time it needs a wake-up. */
    private final AtomicBoolean keeperWaits = new AtomicBoolean();
    private volatile boolean closed;

    /** A domain with no clocks yet; its keeper thread runs until {@link #close()}. */
    public TimeDomain(String name) {
        this.name = name;
        this.keeper = new Thread(this::keeperLoop, name + "/time");
        keeper.setDaemon(true);
        keeper.start();
    }

    /**
     * Adds a machine: its self-running clock jumps with the others from now on, and its work queue
     * (queued or running work, timers) counts as activity.
     */
    public void add(VirtualClock clock, WorkQueue queue) {
        if (!clock.isSelfRunning()) {
            throw new IllegalArgumentException("only a self-running clock can join a time domain: domain=" + name);
        }
        if (queue.clock() != clock) {
            throw new IllegalArgumentException("queue must run on the clock: domain=" + name);
        }
        clock.joinDomain(this);
        clocks.add(clock);
        if (queue instanceof WorkerPool wp) {
            queues.add(wp);
        }
        epoch.incrementAndGet();
    }

    /** Removes a machine that is going away; its clock goes on following real time alone. */
    public void remove(VirtualClock clock, WorkQueue queue) {
        clocks.remove(clock);
        if (queue instanceof WorkerPool wp) {
            queues.remove(wp);
        }
        clock.joinDomain(null);
        epoch.incrementAndGet();
    }

    /** Rounds of the keeper's loop, busy or idle (diagnostics and tests). */
    public long passes() {
        return passes.get();
    }

    /** Times the keeper found no participant running and looked closer (diagnostics and tests). */
    public long checks() {
        return checks.get();
    }

    /** Times the clocks jumped. */
    public long jumps() {
        return jumps.get();
    }

    /** Nanoseconds the clocks were moved ahead of real time by jumps. */
    public long jumpedNanos() {
        return jumpedNanos.get();
    }

    // ---- participants -------------------------------------------------------------------------------

    /** The domain of {@code clock}, or null (a manual clock, a real clock, or one outside any domain). */
    static TimeDomain of(Clock clock) {
        return clock instanceof VirtualClock vc ? vc.domain() : null;
    }

    /** The calling thread's participant in this domain, created OUTSIDE on first use. */
    Participant self() {
        WeakReference<Participant> last = LAST.get();
        Participant p = last == null ? null : last.get();
        if (p != null && p.domain == this) {
            return p;
        }
        Thread me = Thread.currentThread();
        p = participants.get(me);
        if (p == null) {
            p = new Participant(me, this, OUTSIDE);
            participants.put(me, p);
            epoch.incrementAndGet();
        }
        LAST.set(new WeakReference<>(p)); // weak: a thread's cache must not keep a closed domain's machines alive
        return p;
    }

    /** Work was queued on a machine whose clock is {@code clock}: activity the keeper must see. */
    static void queued(Clock clock) {
        TimeDomain d = of(clock);
        if (d != null) {
            d.epoch.incrementAndGet();
        }
    }

    /**
     * A system call on a machine whose clock is {@code clock} begins on the calling thread (nothing
     * happens outside a domain). Nested calls keep the outer state.
     */
    public static void enterCall(Clock clock) {
        TimeDomain d = of(clock);
        if (d != null) {
            Participant p = d.self();
            if (p.depth++ == 0 && p.state.compareAndSet(OUTSIDE, RUNNING)) {
                d.started(p);
            }
        }
    }

    /** Ends the call {@link #enterCall} began on the same clock. */
    public static void exitCall(Clock clock) {
        TimeDomain d = of(clock);
        if (d != null) {
            Participant p = d.self();
            if (p.depth > 0 && --p.depth == 0 && p.state.compareAndSet(RUNNING, OUTSIDE)) {
                d.stopped();
            }
        }
    }

    /** The calling thread is about to park in a simulation wait; null outside a domain. */
    static Participant sleeping(Clock clock) {
        TimeDomain d = of(clock);
        if (d == null) {
            return null;
        }
        Participant p = d.self();
        if (p.state.compareAndSet(RUNNING, ASLEEP)) {
            d.stopped();
            return p;
        }
        return null; // not in a call (a test thread waiting directly): it never counted as running
    }

    /** The calling thread is back from the park {@link #sleeping} announced (a waker may have marked it). */
    static void awake(Participant p) {
        if (p != null && p.state.compareAndSet(ASLEEP, RUNNING)) {
            p.domain.started(p);
        }
    }

    /** A waker is about to wake {@code p}: it counts as running from now on. */
    static void wake(Participant p) {
        if (p != null && p.state.compareAndSet(ASLEEP, RUNNING)) {
            p.domain.started(p);
        }
    }

    private Participant started(Participant p) {
        running.incrementAndGet();
        epoch.incrementAndGet();
        return p;
    }

    private void stopped() {
        if (running.decrementAndGet() == 0 && keeperWaits.compareAndSet(true, false)) {
            LockSupport.unpark(keeper); // at most one wake-up per idle spell, not one per call
        }
    }

    // ---- the keeper ---------------------------------------------------------------------------------

    private void keeperLoop() {
        while (!closed) {
            passes.incrementAndGet();
            if (running.get() > 0) {
                keeperWaits.set(true);
                if (running.get() > 0) { // re-checked after raising the flag: no lost wake-up
                    LockSupport.parkNanos(this, 50_000_000L);
                }
                keeperWaits.set(false);
                continue;
            }
            long seen = epoch.get();
            LockSupport.parkNanos(this, GRACE_NANOS);
            checks.incrementAndGet();
            // Every check after the snapshot, and the snapshot checked again last: a work that moved
            // from one queue to another while they were looked at, or a thread that woke, shows.
            if (closed || running.get() != 0 || !queuesIdle() || !outsideThreadsWaiting() || epoch.get() != seen) {
                continue;
            }
            if (!jump()) {
                LockSupport.parkNanos(this, 50_000_000L); // no deadline anywhere: wait for activity
            }
        }
    }

    private boolean queuesIdle() {
        for (WorkerPool q : queues) {
            if (!q.idle()) { // also moves due timers to the list
                return false;
            }
        }
        return true;
    }

    /** True if no participant outside a call is runnable (it could call in at any moment). */
    private boolean outsideThreadsWaiting() {
        for (Participant p : participants.values()) {
            if (p.state.get() != OUTSIDE) {
                continue;
            }
            switch (p.thread.getState()) {
                case TERMINATED -> participants.remove(p.thread, p);
                case WAITING, TIMED_WAITING, BLOCKED -> { }
                default -> {
                    return false;
                }
            }
        }
        return true;
    }

    /** Moves every clock to the earliest deadline; false if no clock has one. */
    private boolean jump() {
        long delta = Long.MAX_VALUE;
        for (VirtualClock c : clocks) {
            long d = c.earliestDeadline();
            if (d != Long.MAX_VALUE) {
                delta = Math.min(delta, d - c.nanoTime());
            }
        }
        for (WorkerPool q : queues) {
            long d = q.nextTimerDeadline(); // delayed work waits in its queue, not on the clock
            if (d >= 0) {
                delta = Math.min(delta, d - q.clock().nanoTime());
            }
        }
        if (delta == Long.MAX_VALUE) {
            return false;
        }
        if (delta > 0) {
            jumps.incrementAndGet(); // counted first: a woken sleeper may look at them at once
            jumpedNanos.addAndGet(delta);
            for (VirtualClock c : clocks) {
                c.advance(delta);
            }
            if (log.isTraceEnabled()) {
                log.trace("time domain {} jumped {} ns", name, delta);
            }
        }
        return true;
    }

    /** Stops the keeper; the clocks go on following real time. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(keeper);
    }

    @Override
    public String toString() {
        return "TimeDomain{" + name + ", running=" + running.get() + ", participants=" + participants.size()
                + ", jumps=" + jumps.get() + "}";
    }
}
