package io.vsocksim.kernel;

import io.vsocksim.Linux;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A workqueue run by real threads, for threaded runs and benchmarks. Its threads are borrowed from a
 * {@link Kworkers} pool while it has work (the kernel's per-CPU worker pools serve every workqueue):
 * by default the pool every machine of the JVM shares, so machines cost no threads while idle. At most
 * {@code maxActive} of them run its works at once; with 1 it is ordered
 * ({@code alloc_ordered_workqueue()}), the shape of a vhost worker.
 *
 * <p>Delayed work waits on the queue's clock: the pool's idle workers sleep until the earliest deadline
 * of a clock that runs by itself, and a manual {@link VirtualClock} tells the pool when a test advances
 * it past one, so timers fire exactly when virtual time crosses them. There is no timer thread.
 *
 * <p>SIM: a work function that throws would oops the kernel; here the worker logs it, keeps going,
 * and {@link #close()} rethrows the first such failure so tests cannot miss it.
 */
@Linux(file = "kernel/workqueue.c", fn = "alloc_workqueue")
public final class ThreadedWorkQueue extends WorkerPool {
    private static final Logger log = LoggerFactory.getLogger(ThreadedWorkQueue.class);

    private final Kworkers pool;
    /** True if {@link #pool} was made for this queue alone and closes with it. */
    private final boolean ownPool;
    private final int maxActive;
    /** Tells the pool that the virtual clock moved, so due timers are looked at. */
    private final Runnable clockMoved;
    // Guarded by lock.
    /** Pool workers running this queue's works now. */
    private int active;
    /** On the pool's ready list. */
    private boolean ready;
    private Throwable firstFailure;

    /**
     * A queue on the pool all machines share ({@link Kworkers#common()}).
     *
     * @param maxActive works that may run at once: 1 for an ordered queue, more for a concurrent one
     */
    public static ThreadedWorkQueue shared(String name, int maxActive, Clock clock) {
        return new ThreadedWorkQueue(name, maxActive, clock, Kworkers.common(), false);
    }

    /**
     * A queue with {@code threads} worker threads of its own, closed with it: for tests that need to
     * know which threads run a machine's work.
     *
     * @param threads 1 for an ordered queue (vhost worker); more for a concurrent one
     */
    public ThreadedWorkQueue(String name, int threads, Clock clock) {
        this(name, threads, clock, new Kworkers(name, requireThreads(threads)), true);
    }

    /** A queue on {@code pool}, at most {@code maxActive} works at once. */
    public ThreadedWorkQueue(String name, int maxActive, Clock clock, Kworkers pool) {
        this(name, maxActive, clock, pool, false);
    }

    private ThreadedWorkQueue(String name, int maxActive, Clock clock, Kworkers pool, boolean ownPool) {
        super(name, clock);
        this.maxActive = requireThreads(maxActive);
        this.pool = pool;
        this.ownPool = ownPool;
        this.clockMoved = pool::poke;
        if (clock instanceof VirtualClock vc) {
            vc.onAdvance(clockMoved); // an advance or a time-domain jump may make a timer due at once
        }
    }

    private static int requireThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("a queue needs a worker: threads=" + n);
        }
        return n;
    }

    /**
     * True on a pool worker while it runs this queue's works, and on a thread running one of its works
     * in place of a worker ({@link TaskWork}).
     */
    @Override
    public boolean inContext() {
        return Kworkers.servingQueue() == this || runningInCaller();
    }

    @Override
    boolean defersToCaller() {
        return true;
    }

    @Override
    boolean mayRunOutOfLineLocked(Work w) {
        return maxActive > 1 || (nothingRunningLocked() && headIsLocked(w));
    }

    /**
     * Runs this queue's works on worker {@code me} (taken from the ready list) until none is left or
     * it has run a batch while more wait; true if it should go back on the ready list. The part of
     * {@code worker_thread} (in {@link Kworkers}) that runs the works: SIM, one pool of workers serves
     * every queue of every machine.
     */
    boolean serve(Kworkers.Kworker me) {
        TaskWork deferred = TaskWork.enterWorker(this); // what a work queues runs here next, without a wake-up
        me.serving = this;
        lock.lock();
        try {
            ready = false;
            if (active >= maxActive) {
                return false; // raced with another worker that took it; the busy ones see the work
            }
            active++;
            boolean again = false;
            try {
                for (int n = 1; ; n++) {
                    fireDueTimersLocked();
                    Work w = popLocked(Long.MAX_VALUE);
                    if (w == null) {
                        break;
                    }
                    wakeOneLocked(); // more queued and room for a worker: process_one_work's need_more_worker
                    runLocked(w);
                    lock.unlock();
                    try {
                        deferred.runAll();
                    } finally {
                        lock.lock();
                    }
                    if (n >= Kworkers.BATCH && queuedLocked() > 0) {
                        again = true; // let other machines' ready work go first
                        break;
                    }
                }
            } finally {
                active--;
                progress.signalAll();
            }
            if (!again && queuedLocked() > 0 && active < maxActive) {
                again = true; // linked meanwhile by a thread that counted on this worker
            }
            if (again) {
                if (ready) {
                    return false;
                }
                ready = true;
            }
            return again;
        } finally {
            lock.unlock();
            me.serving = null;
            TaskWork.exitWorker();
        }
    }

    /**
     * For the pool's idle workers: moves due timers onto the list and returns the real nanoseconds
     * until the next one, {@code Long.MAX_VALUE} if this queue's clock moves only when advanced, or
     * -1 if no timer is armed.
     */
    long fireDueTimersAndTimeLeft() {
        lock.lock();
        try {
            fireDueTimersLocked();
            long d = timerDeadlineLocked();
            if (d < 0) {
                return -1;
            }
            return clock.runsByItself() ? Math.max(0, d - clock.nanoTime()) : Long.MAX_VALUE;
        } finally {
            lock.unlock();
        }
    }

    /** True if a timer is armed. */
    boolean hasTimers() {
        return nextTimerDeadline() >= 0;
    }

    /** Work was queued: a worker of the pool comes for it unless enough are here already. */
    @Override
    void wakeOneLocked() {
        if (!ready && active < maxActive && queuedLocked() > 0) {
            ready = true;
            pool.schedule(this);
        }
    }

    /** A timer was armed (or the queue stops): the pool's idle workers look at the deadlines again. */
    @Override
    void wakeAllLocked() {
        wakeOneLocked();
        if (timerDeadlineLocked() >= 0) {
            pool.timersChanged(this);
        }
    }

    @Override
    void awaitFlushProgressLocked() {
        Kworkers.sleeping();
        try {
            progress.awaitUninterruptibly();
        } finally {
            Kworkers.running();
        }
    }

    @Override
    void workFailedLocked(Work w, Throwable t) {
        log.error("work {} on {} threw", w.name, name, t);
        if (firstFailure == null) {
            firstFailure = t;
        }
    }

    @Override
    void drain() {
        if (inContext()) {
            throw new IllegalStateException("destroy_workqueue from its own worker: wq=" + name);
        }
        lock.lock();
        try {
            while (queuedLocked() > 0 || !nothingRunningLocked() || active > 0) {
                wakeOneLocked();
                awaitFlushProgressLocked();
            }
        } finally {
            lock.unlock();
        }
        if (clock instanceof VirtualClock vc) {
            vc.removeAdvanceListener(clockMoved);
        }
        pool.forget(this);
        if (ownPool) {
            pool.close();
            pool.awaitTermination();
        }
        lock.lock();
        try {
            if (firstFailure != null) {
                throw new IllegalStateException("work failed on " + name, firstFailure);
            }
        } finally {
            lock.unlock();
        }
    }
}
