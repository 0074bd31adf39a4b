package io.vsocksim.kernel;

import io.vsocksim.Linux;

/**
 * A deterministic workqueue: nothing runs until a test calls {@link #runPending()} or
 * {@link #runUntilIdle()}, and then work runs in the calling thread, in queueing order (Netty's
 * {@code EmbeddedChannel.runPendingTasks}). Delayed work joins the queue once the clock (normally a
 * {@link VirtualClock}) has reached its deadline, checked whenever the queue is run.
 *
 * <p>SIM: flushing ({@link #flush()}, {@link Work#flush()}) runs the queue up to the awaited work in
 * the flushing thread, since no worker would ever run it. A work function that throws propagates out
 * of the call that ran it, after the queue's state is consistent again.
 */
@Linux(file = "include/linux/workqueue.h", fn = "alloc_ordered_workqueue")
public final class ManualWorkQueue extends WorkerPool {
    /** Default bound on {@link #runUntilIdle()}: far above any legitimate chain of requeues. */
    public static final int DEFAULT_MAX_RUNS = 100_000;

    private final int maxRuns;

    /** A manual queue with the default {@link #DEFAULT_MAX_RUNS} guard. */
    public ManualWorkQueue(String name, Clock clock) {
        this(name, clock, DEFAULT_MAX_RUNS);
    }

    /**
     * A manual queue.
     *
     * @param maxRuns how many works {@link #runUntilIdle()} may run before it declares an endless
     *                self-requeue
     */
    public ManualWorkQueue(String name, Clock clock, int maxRuns) {
        super(name, clock);
        if (maxRuns < 1) {
            throw new IllegalArgumentException("maxRuns must be positive: maxRuns=" + maxRuns);
        }
        this.maxRuns = maxRuns;
    }

    /**
     * Runs the work queued now, including delayed work whose deadline the clock has reached, but not
     * what that work queues in turn.
     *
     * @return how many work functions ran
     * @throws IllegalStateException if called from a work of this queue
     */
    public int runPending() {
        lock.lock();
        try {
            if (runningInCallerLocked()) {
                throw new IllegalStateException("runPending from inside a work: wq=" + name);
            }
            fireDueTimersLocked();
            long mark = lastSeqLocked();
            int ran = 0;
            Work w;
            while ((w = popLocked(mark)) != null) {
                runLocked(w);
                ran++;
            }
            return ran;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs only the oldest queued work (after moving due timers onto the list), so a scheduler can
     * interleave single work items of several machines. FIFO, as one worker takes its pool's list.
     *
     * @return 1 if a work ran, 0 if none was queued
     * @throws IllegalStateException if called from a work of this queue
     */
    public int runOne() {
        lock.lock();
        try {
            if (runningInCallerLocked()) {
                throw new IllegalStateException("runOne from inside a work: wq=" + name);
            }
            fireDueTimersLocked();
            Work w = popLocked(lastSeqLocked());
            if (w == null) {
                return 0;
            }
            runLocked(w);
            return 1;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs work until none is queued (armed timers that are not yet due do not count).
     *
     * @return how many work functions ran
     * @throws IllegalStateException if more than {@code maxRuns} ran: work that keeps requeueing
     *                               itself would never let the queue go idle
     */
    public int runUntilIdle() {
        int total = 0;
        int ran;
        while ((ran = runPending()) > 0) {
            total += ran;
            if (total > maxRuns) {
                throw new IllegalStateException("queue not idle after maxRuns=" + maxRuns + " works: wq=" + name
                        + " (work that requeues itself endlessly?)");
            }
        }
        return total;
    }

    /** True while the calling thread runs a work of this queue (inside {@link #runPending()}). */
    @Override
    public boolean inContext() {
        return runningInCaller();
    }

    @Override
    void awaitFlushProgressLocked() {
        Work w = popLocked(Long.MAX_VALUE);
        if (w != null) {
            runLocked(w);
        } else {
            progress.awaitUninterruptibly(); // the awaited work runs in another thread's runPending()
        }
    }

    @Override
    void workFailedLocked(Work w, Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("work threw: work=" + w.name, t);
    }

    @Override
    void drain() {
        if (inContext()) {
            throw new IllegalStateException("destroy_workqueue from its own work: wq=" + name);
        }
        runUntilIdle();
    }
}
