package io.vsocksim.kernel;

import io.vsocksim.Linux;

/**
 * A {@link Work} with a timer in front of it ({@code struct delayed_work}): queueing with a delay arms
 * the timer, and the work goes on its queue when the queue's clock reaches the deadline. The PENDING
 * bit of {@link #work()} covers both phases, so a delayed work is queued at most once at a time.
 *
 * <p>Deadlines of jiffy delays fall on tick boundaries ({@code expires = jiffies + delay}), as the
 * kernel's timer wheel does; nanosecond delays (an hrtimer-like convenience) do not.
 *
 * <p>Timer fields are guarded by the owning queue's lock.
 */
@Linux(file = "include/linux/workqueue.h", fn = "struct delayed_work")
public final class DelayedWork {
    private final Work work;

    // Guarded by work.wq.lock: the queue's sorted timer list.
    boolean timerArmed;
    long deadline;
    DelayedWork timerPrev;
    DelayedWork timerNext;

    /** Creates a delayed work ({@code INIT_DELAYED_WORK}). */
    @Linux(file = "include/linux/workqueue.h", fn = "INIT_DELAYED_WORK")
    public DelayedWork(String name, Runnable func) {
        this.work = new Work(name, func, this);
    }

    /** The embedded work ({@code dwork->work}), e.g. for {@link Work#pending()}. */
    public Work work() {
        return work;
    }

    /** True while the timer is armed or the work is queued and not yet started. */
    @Linux(file = "include/linux/workqueue.h", fn = "delayed_work_pending")
    public boolean pending() {
        return work.pending();
    }

    /** Disarms the timer or dequeues the work; does not wait for a running instance. */
    @Linux(file = "kernel/workqueue.c", fn = "cancel_delayed_work")
    public boolean cancel() {
        WorkerPool q = work.wq;
        return q != null && q.cancelWork(work, false);
    }

    /** Like {@link #cancel()}, then waits for a running instance to finish. */
    @Linux(file = "kernel/workqueue.c", fn = "cancel_delayed_work_sync")
    public boolean cancelSync() {
        WorkerPool q = work.wq;
        return q != null && q.cancelWork(work, true);
    }

    /** Fires an armed timer now, then waits for the work as {@link Work#flush()} does. */
    @Linux(file = "kernel/workqueue.c", fn = "flush_delayed_work")
    public boolean flush() {
        WorkerPool q = work.wq;
        return q != null && q.flushDelayedWork(this);
    }

    @Override
    public String toString() {
        return "DelayedWork[" + work.name + (timerArmed ? ", timer " + deadline : "") + "]";
    }
}
