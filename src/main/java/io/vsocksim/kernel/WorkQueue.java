package io.vsocksim.kernel;

import io.vsocksim.Linux;

/**
 * A workqueue ({@code struct workqueue_struct}): the execution context of deferred kernel work. This
 * is one of the two scheduling seams (the other is {@link Clock}); protocol code only queues work and
 * asserts {@link #inContext()}, and never knows whether real threads ({@link ThreadedWorkQueue}) or a
 * test ({@link ManualWorkQueue}) run it.
 *
 * <p>Guarantees, as in the kernel: queueing a pending work is a no-op returning false; a work item
 * never runs concurrently with itself on its queue; with one worker, work runs in queueing order.
 * Cancelling and flushing a single work are methods of {@link Work} and {@link DelayedWork}, because
 * the kernel functions take only the work.
 */
@Linux(file = "kernel/workqueue.c", fn = "struct workqueue_struct")
public interface WorkQueue extends AutoCloseable {
    /** The queue's name, as in {@code alloc_workqueue(name, ...)}. */
    String name();

    /** The clock that delayed work on this queue is timed by. */
    Clock clock();

    /**
     * Queues {@code work}; false if it was already pending. Allocation-free.
     *
     * @throws IllegalStateException if the queue is closed, or the work belongs to another queue
     */
    @Linux(file = "include/linux/workqueue.h", fn = "queue_work")
    boolean queueWork(Work work);

    /**
     * Arms {@code dwork}'s timer for {@code delayJiffies} ticks from now (0 queues it at once); false if
     * it was already pending.
     */
    @Linux(file = "include/linux/workqueue.h", fn = "queue_delayed_work")
    boolean queueDelayedWork(DelayedWork dwork, long delayJiffies);

    /** SIM: {@link #queueDelayedWork} with a delay in nanoseconds of this queue's clock. */
    boolean queueDelayedWorkNanos(DelayedWork dwork, long delayNanos);

    /**
     * Queues {@code dwork} with a new delay whether or not it is pending (re-arming its timer or
     * taking it back off the queue); true if it was pending, false if it was idle and is now queued.
     */
    @Linux(file = "include/linux/workqueue.h", fn = "mod_delayed_work")
    boolean modDelayedWork(DelayedWork dwork, long delayJiffies);

    /**
     * Waits until every work queued before this call has finished. Must not be called from this
     * queue's context. A {@link ManualWorkQueue} runs that work in the calling thread instead.
     */
    @Linux(file = "kernel/workqueue.c", fn = "__flush_workqueue")
    void flush();

    /** True if the calling thread is running work of this queue (for {@code assert}s at entry points). */
    boolean inContext();

    /**
     * Destroys the queue: disarms pending timers (their works are cancelled), runs what is already
     * queued (and what that work chains onto this queue), then stops. Idempotent.
     */
    @Linux(file = "kernel/workqueue.c", fn = "destroy_workqueue")
    @Override
    void close();
}
