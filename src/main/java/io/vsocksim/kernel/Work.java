package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A deferred function, created once by its owner and queued as often as needed ({@code struct
 * work_struct}). Queueing is allocation-free: the work is linked into its queue through its own
 * fields.
 *
 * <p>The PENDING bit is set by a successful queue and cleared just before the function starts, so
 * queueing a work that is already pending is a no-op that returns false, while queueing it from inside
 * its own function (or while it runs elsewhere) schedules one more run. The bit is flipped with atomic
 * read-modify-writes, like {@code test_and_set_bit()}: whoever finds it already set is guaranteed that
 * the coming run sees everything it wrote before queueing.
 *
 * <p>SIM: a work belongs to the first queue it is queued on; queueing it on another one is a caller
 * bug ({@link IllegalStateException}). The kernel allows moving an idle work between workqueues, but
 * no owner in the modelled code does.
 *
 * <p>Fields other than the PENDING bit are guarded by the owning queue's lock.
 */
@Linux(file = "include/linux/workqueue_types.h", fn = "struct work_struct")
public final class Work {
    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(Work.class, "pending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Runnable func;
    final String name;
    /** The delayed work embedding this one, or null ({@code to_delayed_work()}). */
    final DelayedWork dwork;
    @SuppressWarnings("unused") // accessed through PENDING
    private volatile int pending;

    // Guarded by wq.lock.
    volatile WorkerPool wq;
    Work prev;
    Work next;
    boolean onList;
    /** Queue sequence number of the instance on the list (or deferred behind its running twin). */
    long seq;
    boolean running;
    Thread runner;
    long runningSeq;
    /** Sequence number of the last instance that finished running. */
    long doneSeq = -1;
    /** Picked while running on another worker; the running worker runs it again (non-reentrancy). */
    boolean rerun;
    /** Number of cancel_work_sync() calls waiting on this work; queueing fails meanwhile. */
    int canceling;

    /**
     * Creates a work ({@code INIT_WORK}).
     *
     * @param name for logs and thread dumps, e.g. {@code "virtio_vsock.tx_work"}
     * @param func runs in the queue's context each time the work is executed
     */
    @Linux(file = "include/linux/workqueue.h", fn = "INIT_WORK")
    public Work(String name, Runnable func) {
        this(name, func, null);
    }

    Work(String name, Runnable func, DelayedWork dwork) {
        this.name = Objects.requireNonNull(name, "name");
        this.func = Objects.requireNonNull(func, "func");
        this.dwork = dwork;
    }

    /** True while queued (or its timer armed) and not yet started ({@code work_pending()}). */
    @Linux(file = "include/linux/workqueue.h", fn = "work_pending")
    public boolean pending() {
        return (int) PENDING.getVolatile(this) != 0;
    }

    /**
     * Cancels a pending instance and waits for a running one to finish. Returns true if the work was
     * pending. Must not be called from the work itself.
     */
    @Linux(file = "kernel/workqueue.c", fn = "cancel_work_sync")
    public boolean cancelSync() {
        WorkerPool q = wq;
        return q != null && q.cancelWork(this, true);
    }

    /** Cancels a pending instance without waiting for a running one; true if it was pending. */
    @Linux(file = "kernel/workqueue.c", fn = "cancel_work")
    public boolean cancel() {
        WorkerPool q = wq;
        return q != null && q.cancelWork(this, false);
    }

    /**
     * Waits until the last queued instance has finished running; false if there was nothing to wait
     * for. A {@link ManualWorkQueue} runs the queue up to that instance in the calling thread instead.
     */
    @Linux(file = "kernel/workqueue.c", fn = "flush_work")
    public boolean flush() {
        WorkerPool q = wq;
        return q != null && q.flushWork(this);
    }

    @Override
    public String toString() {
        return "Work[" + name + (pending() ? ", pending" : "") + "]";
    }

    /** Atomically sets PENDING; true if this call set it. */
    boolean testAndSetPending() {
        return (int) PENDING.getAndBitwiseOr(this, 1) == 0;
    }

    /** Atomically clears PENDING (before the function runs, or when a cancel steals the work). */
    void clearPending() {
        PENDING.getAndBitwiseAnd(this, 0);
    }
}
