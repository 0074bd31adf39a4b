package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A workqueue run by real threads, for threaded runs and benchmarks. With one thread it is ordered
 * ({@code alloc_ordered_workqueue()}), which is also the shape of a vhost worker: one thread per
 * device running its work items in queueing order.
 *
 * <p>Idle workers wait for work or for the earliest armed timer through {@link Clock#awaitUntil}, so
 * delayed work really waits with a {@link RealClock} and fires exactly when a test advances a
 * {@link VirtualClock} past its deadline. There is no separate timer thread.
 *
 * <p>SIM: a work function that throws would oops the kernel; here the worker logs it, keeps going,
 * and {@link #close()} rethrows the first such failure so tests cannot miss it.
 */
@Linux(file = "kernel/workqueue.c", fn = "alloc_workqueue")
public final class ThreadedWorkQueue extends WorkerPool {
    private static final Logger log = LoggerFactory.getLogger(ThreadedWorkQueue.class);

    private final Thread[] workers;
    // Guarded by lock.
    private boolean stopping;
    /** Workers parked without a timer to wait for, most recent last (the kernel's idle_list). */
    private final Thread[] idle;
    private int nrIdle;
    private Throwable firstFailure;

    /**
     * Starts {@code threads} daemon workers named {@code name/i}.
     *
     * @param threads 1 for an ordered queue (vhost worker); more for a concurrent one
     */
    public ThreadedWorkQueue(String name, int threads, Clock clock) {
        super(name, clock);
        if (threads < 1) {
            throw new IllegalArgumentException("a queue needs a worker: threads=" + threads);
        }
        workers = new Thread[threads];
        idle = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(this::workerLoop, name + "/" + i);
            workers[i].setDaemon(true);
        }
        for (Thread t : workers) {
            t.start();
        }
    }

    /**
     * True on this queue's worker threads, and on a thread running one of its works in place of a
     * worker ({@link TaskWork}).
     */
    @Override
    public boolean inContext() {
        Thread me = Thread.currentThread();
        for (Thread t : workers) {
            if (t == me) {
                return true;
            }
        }
        return runningInCaller();
    }

    @Override
    boolean defersToCaller() {
        return true;
    }

    @Override
    boolean mayRunOutOfLineLocked(Work w) {
        return workers.length > 1 || (nothingRunningLocked() && headIsLocked(w));
    }

    @Linux(file = "kernel/workqueue.c", fn = "worker_thread")
    private void workerLoop() {
        TaskWork deferred = TaskWork.enterForever(this); // what a work queues runs here next, without a wake-up
        lock.lock();
        try {
            for (;;) {
                fireDueTimersLocked();
                Work w = popLocked(Long.MAX_VALUE);
                if (w != null) {
                    runLocked(w);
                    lock.unlock();
                    try {
                        deferred.runAll();
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                if (stopping) {
                    return;
                }
                long deadline = nextTimerDeadline();
                if (deadline < 0) {
                    idleLocked();
                    continue;
                }
                try {
                    clock.awaitUntil(lock, workAvailable, deadline);
                } catch (InterruptedException e) {
                    // Nobody interrupts workers on purpose; re-check the queue and carry on.
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sleeps until work is queued, a timer is armed or the queue stops. SIM (performance): a parked
     * thread on the idle list rather than a Condition await, which allocates a node per sleep.
     *
     * <p>No lost wake-up: the worker found the list empty and puts itself on the idle list under
     * {@link #lock}; paired with {@link #wakeOneLocked()} / {@link #wakeAllLocked()}, which a queuer
     * calls under the same lock after linking its work and which take the worker off the list before
     * unparking it. An unpark that comes before the park leaves the permit, so the park returns at
     * once. A worker woken otherwise (spurious return) takes itself off the list.
     */
    @Linux(file = "kernel/workqueue.c", fn = "worker_enter_idle")
    private void idleLocked() {
        Thread me = Thread.currentThread();
        idle[nrIdle++] = me;
        lock.unlock();
        try {
            LockSupport.park(this);
            Thread.interrupted(); // nobody interrupts workers on purpose; as the await did, drop it
        } finally {
            lock.lock();
        }
        for (int i = 0; i < nrIdle; i++) {
            if (idle[i] == me) {
                System.arraycopy(idle, i + 1, idle, i, nrIdle - i - 1);
                idle[--nrIdle] = null;
                break;
            }
        }
    }

    @Override
    void wakeOneLocked() {
        if (nrIdle > 0) {
            Thread t = idle[--nrIdle];
            idle[nrIdle] = null;
            LockSupport.unpark(t);
        } else {
            // A worker waiting for a timer deadline. All of them: the one that wakes re-checks, and a
            // time domain sees exactly the threads it marked running wake up.
            clock.signalAll(workAvailable);
        }
    }

    @Override
    void wakeAllLocked() {
        while (nrIdle > 0) {
            Thread t = idle[--nrIdle];
            idle[nrIdle] = null;
            LockSupport.unpark(t);
        }
        clock.signalAll(workAvailable);
    }

    @Override
    void awaitFlushProgressLocked() {
        progress.awaitUninterruptibly();
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
            stopping = true;
            wakeAllLocked();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
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
