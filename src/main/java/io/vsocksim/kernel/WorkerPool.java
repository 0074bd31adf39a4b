package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mechanics both work queues share ({@code struct worker_pool}): the FIFO worklist, the sorted
 * timer list of delayed work, the PENDING protocol, cancel and flush. Subclasses only decide who runs
 * the work and how a flusher waits.
 *
 * <p>Locking: {@link #lock} ({@code pool->lock}) guards both lists and the per-work fields other than
 * PENDING. It is a leaf lock: no work function and no clock wait runs with it held except a
 * {@link Clock#awaitUntil} on its own condition. Sequence numbers ({@link Work#seq}) order instances
 * so flushes wait for exactly the instances queued before them, like the kernel's flush colours.
 */
@Linux(file = "kernel/workqueue.c", fn = "struct worker_pool")
abstract class WorkerPool implements WorkQueue {
    final String name;
    final Clock clock;
    final ReentrantLock lock = new Mutex();
    /** Signalled when work is queued or a timer is armed; idle workers wait on it. */
    final Condition workAvailable = lock.newCondition();
    /** Signalled when a work finishes or a racing queuer has linked its work. */
    final Condition progress = lock.newCondition();

    // Guarded by lock.
    private Work head;
    private Work tail;
    private int queued;
    private DelayedWork timerHead;
    private long nextSeq;
    private final ArrayList<Work> running = new ArrayList<>();
    private boolean closed;

    WorkerPool(String name, Clock clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Clock clock() {
        return clock;
    }

    @Override
    public final boolean queueWork(Work w) {
        bind(w);
        if (!w.testAndSetPending()) {
            return false; // the pending instance has not started, so it will see the caller's writes
        }
        TaskWork deferTo = defersToCaller() ? TaskWork.active(this) : null;
        TimeDomain.queued(clock);
        lock.lock();
        try {
            if (!admitLocked(w)) {
                return false;
            }
            insertLocked(w, deferTo == null);
        } finally {
            lock.unlock();
        }
        if (deferTo != null) {
            deferTo.add(w);
        }
        return true;
    }

    @Override
    public final boolean queueDelayedWork(DelayedWork dwork, long delayJiffies) {
        requireNonNegative(delayJiffies);
        return queueDelayed(dwork, delayJiffies == 0 ? -1 : jiffyDeadline(delayJiffies));
    }

    @Override
    public final boolean queueDelayedWorkNanos(DelayedWork dwork, long delayNanos) {
        requireNonNegative(delayNanos);
        return queueDelayed(dwork, delayNanos == 0 ? -1 : Clock.deadline(clock.nanoTime(), delayNanos));
    }

    private boolean queueDelayed(DelayedWork dwork, long deadline) {
        Work w = dwork.work();
        bind(w);
        TimeDomain.queued(clock);
        if (!w.testAndSetPending()) {
            return false;
        }
        lock.lock();
        try {
            if (!admitLocked(w)) {
                return false;
            }
            startLocked(dwork, deadline);
        } finally {
            lock.unlock();
        }
        return true;
    }

    @Override
    public final boolean modDelayedWork(DelayedWork dwork, long delayJiffies) {
        requireNonNegative(delayJiffies);
        Work w = dwork.work();
        bind(w);
        TimeDomain.queued(clock);
        lock.lock();
        try {
            if (w.canceling > 0) {
                return false;
            }
            if (closed && !inContext()) {
                throw new IllegalStateException("queue is closed: wq=" + name + " work=" + w.name);
            }
            boolean wasPending = grabPendingLocked(w);
            startLocked(dwork, delayJiffies == 0 ? -1 : jiffyDeadline(delayJiffies));
            return wasPending;
        } finally {
            lock.unlock();
        }
    }

    /** Backs {@link Work#cancel()}, {@link Work#cancelSync()} and the delayed variants. */
    @Linux(file = "kernel/workqueue.c", fn = "__cancel_work_sync")
    final boolean cancelWork(Work w, boolean sync) {
        if (sync) {
            TaskWork.handOffCurrent();
        }
        lock.lock();
        try {
            boolean wasPending = grabPendingLocked(w);
            w.clearPending();
            if (sync) {
                if (w.running && w.runner == Thread.currentThread()) {
                    throw new IllegalStateException("cancel_work_sync from the work itself: work=" + w.name);
                }
                // The kernel disables the work meanwhile so a running instance cannot requeue itself.
                w.canceling++;
                try {
                    while (w.running) {
                        progress.awaitUninterruptibly();
                    }
                } finally {
                    w.canceling--;
                }
            }
            return wasPending;
        } finally {
            lock.unlock();
        }
    }

    /** Backs {@link Work#flush()}. */
    @Linux(file = "kernel/workqueue.c", fn = "__flush_work")
    final boolean flushWork(Work w) {
        TaskWork.handOffCurrent();
        lock.lock();
        try {
            long target;
            if (w.onList || w.rerun) {
                target = w.seq;
            } else if (w.running) {
                target = w.runningSeq;
            } else {
                return false; // idle, or only its timer is armed
            }
            if (w.running && w.runner == Thread.currentThread()) {
                throw new IllegalStateException("flush_work from the work itself: work=" + w.name);
            }
            while (outstandingLocked(w, target)) {
                awaitFlushProgressLocked();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Backs {@link DelayedWork#flush()}. */
    final boolean flushDelayedWork(DelayedWork dwork) {
        lock.lock();
        try {
            if (dwork.timerArmed) {
                unlinkTimerLocked(dwork);
                insertLocked(dwork.work());
            }
        } finally {
            lock.unlock();
        }
        return flushWork(dwork.work());
    }

    @Override
    public final void flush() {
        TaskWork.handOffCurrent();
        lock.lock();
        try {
            // A timer the clock has already passed has fired (the tick ran when time moved): its work
            // is queued before this flush, even if no worker has woken up to notice yet.
            fireDueTimersLocked();
            long mark = nextSeq - 1;
            for (Work r : running) {
                if (r.runner == Thread.currentThread() && outstandingLocked(r, mark)) {
                    throw new IllegalStateException("flush_workqueue from its own work: wq=" + name);
                }
            }
            while (anyOutstandingLocked(mark)) {
                awaitFlushProgressLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public final void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            cancelTimersLocked();
        } finally {
            lock.unlock();
        }
        drain();
        lock.lock();
        try {
            cancelTimersLocked(); // armed by work that ran during the drain
        } finally {
            lock.unlock();
        }
    }

    /**
     * True when no work is queued or running (armed timers that are not yet due do not count). Tests
     * flush until this holds, because a flush does not wait for work queued by the work it waited for.
     */
    public final boolean idle() {
        lock.lock();
        try {
            fireDueTimersLocked();
            return queued == 0 && running.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Number of works on the list now (not counting armed timers). */
    public final int queued() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    /** Deadline (clock nanoseconds) of the earliest armed timer, or -1 if none is armed. */
    public final long nextTimerDeadline() {
        lock.lock();
        try {
            return timerHead == null ? -1 : timerHead.deadline;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + "]";
    }

    /** Wakes one idle worker: work was queued. {@link #lock} held. */
    void wakeOneLocked() {
        workAvailable.signal();
    }

    /** Wakes every idle worker: a timer was armed, or the queue stops. {@link #lock} held. */
    void wakeAllLocked() {
        workAvailable.signalAll();
    }

    /** Waits, with {@link #lock} held, for a flush to make progress (or makes it, in manual mode). */
    abstract void awaitFlushProgressLocked();

    /** Reports a work function that threw; called with {@link #lock} held after the work's state is reset. */
    abstract void workFailedLocked(Work w, Throwable t);

    /** Runs what is queued until the queue is empty, then stops its workers (if any). */
    abstract void drain();

    /** True if the calling thread is running a work of this pool; takes the lock. */
    final boolean runningInCaller() {
        lock.lock();
        try {
            return runningInCallerLocked();
        } finally {
            lock.unlock();
        }
    }

    /** True if the calling thread is running a work of this pool. */
    final boolean runningInCallerLocked() {
        for (Work r : running) {
            if (r.runner == Thread.currentThread()) {
                return true;
            }
        }
        return false;
    }

    /**
     * True if a thread in a {@link TaskWork} scope may run this queue's work itself instead of waking
     * a worker. False for queues that only run when a test drives them.
     */
    boolean defersToCaller() {
        return false;
    }

    /**
     * Runs {@code w} in the calling thread if it is still queued and may run now ({@link TaskWork});
     * true if this call ran it or found it already taken, false if a worker must take it.
     */
    final boolean runDeferred(Work w) {
        lock.lock();
        try {
            if (!w.onList) {
                return true; // a worker took it, or it was cancelled
            }
            if (!mayRunOutOfLineLocked(w)) {
                return false;
            }
            unlinkLocked(w);
            runLocked(w, TaskWork.MAX_RERUNS);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes a worker for {@code w} if it is still queued. */
    final void handOff(Work w) {
        lock.lock();
        try {
            if (w.onList) {
                wakeOneLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a queued {@code w} may run in a thread that is not one of this queue's workers. An
     * ordered queue keeps its order: only its oldest work, and only while nothing else of it runs.
     */
    boolean mayRunOutOfLineLocked(Work w) {
        return true;
    }

    final boolean headIsLocked(Work w) {
        return head == w;
    }

    final boolean nothingRunningLocked() {
        return running.isEmpty();
    }

    /** Moves timers whose deadline the clock has reached onto the worklist, in deadline order. */
    final void fireDueTimersLocked() {
        if (timerHead == null) {
            return;
        }
        long now = clock.nanoTime();
        while (timerHead != null && timerHead.deadline <= now) {
            DelayedWork dw = timerHead;
            unlinkTimerLocked(dw);
            insertLocked(dw.work());
        }
    }

    /** Works on the list now. {@link #lock} held. */
    final int queuedLocked() {
        return queued;
    }

    /** Deadline of the earliest armed timer, or -1. {@link #lock} held. */
    final long timerDeadlineLocked() {
        return timerHead == null ? -1 : timerHead.deadline;
    }

    /** Sequence number of the newest instance queued so far. */
    final long lastSeqLocked() {
        return nextSeq - 1;
    }

    /** Unlinks and returns the oldest queued work if it was queued at or before {@code mark}. */
    final Work popLocked(long mark) {
        Work w = head;
        if (w == null || w.seq > mark) {
            return null;
        }
        unlinkLocked(w);
        return w;
    }

    /**
     * Runs {@code w}, already unlinked, with the lock released around its function. If another thread
     * is running it, hands it to that thread instead (the kernel's collision handling in
     * {@code process_one_work()}), so a work never runs concurrently with itself.
     */
    @Linux(file = "kernel/workqueue.c", fn = "process_one_work")
    final void runLocked(Work w) {
        runLocked(w, Integer.MAX_VALUE);
    }

    /**
     * {@link #runLocked(Work)} for at most {@code maxRuns} runs in a row: a work that others keep
     * queueing while it runs goes back on the list (waking a worker) after that many, so a thread that
     * is not a worker ({@link TaskWork}) does not turn into one for as long as someone keeps queueing.
     */
    final void runLocked(Work w, int maxRuns) {
        if (w.running) {
            w.rerun = true;
            return;
        }
        int runs = 0;
        do {
            if (runs++ == maxRuns) {
                w.rerun = false;
                requeueLocked(w); // PENDING is still set by whoever asked for this run
                return;
            }
            w.rerun = false;
            w.clearPending(); // before the function: a queue from now on means "run again"
            w.running = true;
            w.runner = Thread.currentThread();
            w.runningSeq = w.seq;
            running.add(w);
            Throwable failure = null;
            lock.unlock();
            try {
                w.func.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                lock.lock();
                w.running = false;
                w.runner = null;
                w.doneSeq = w.runningSeq;
                running.remove(w);
                progress.signalAll();
            }
            if (failure != null) {
                if (w.rerun) {
                    w.rerun = false;
                    insertLocked(w);
                }
                workFailedLocked(w, failure);
                return;
            }
        } while (w.rerun);
    }

    private void bind(Work w) {
        WorkerPool owner = w.wq;
        if (owner == null) {
            w.wq = this;
        } else if (owner != this) {
            throw new IllegalStateException("work belongs to another queue: work=" + w.name
                    + " queue=" + owner.name + " this=" + name);
        }
    }

    /**
     * Admits a queueing whose caller set PENDING: false (PENDING dropped again) while a
     * cancel_work_sync() holds the work disabled, as the kernel's disabled works refuse queueing.
     */
    private boolean admitLocked(Work w) {
        if (w.canceling > 0) {
            w.clearPending();
            return false;
        }
        if (closed && !inContext()) {
            w.clearPending();
            throw new IllegalStateException("queue is closed: wq=" + name + " work=" + w.name);
        }
        return true;
    }

    private long jiffyDeadline(long delayJiffies) {
        long expires = clock.jiffies() + Math.min(delayJiffies, Clock.MAX_JIFFY_OFFSET);
        return Clock.jiffiesToNanos(expires);
    }

    private void startLocked(DelayedWork dwork, long deadline) {
        if (deadline < 0) {
            insertLocked(dwork.work());
        } else {
            armTimerLocked(dwork, deadline);
        }
    }

    /** Takes ownership of PENDING ({@code try_to_grab_pending()}): true if it stole a pending instance. */
    @Linux(file = "kernel/workqueue.c", fn = "try_to_grab_pending")
    private boolean grabPendingLocked(Work w) {
        for (;;) {
            if (w.testAndSetPending()) {
                return false;
            }
            if (w.onList) {
                unlinkLocked(w);
                return true;
            }
            if (w.rerun) {
                w.rerun = false;
                return true;
            }
            DelayedWork dw = w.dwork;
            if (dw != null && dw.timerArmed) {
                unlinkTimerLocked(dw);
                return true;
            }
            // A queuer set PENDING but has not linked the work yet; it signals once it has.
            progress.awaitUninterruptibly();
        }
    }

    private boolean outstandingLocked(Work w, long mark) {
        return ((w.onList || w.rerun) && w.seq <= mark) || (w.running && w.runningSeq <= mark);
    }

    private boolean anyOutstandingLocked(long mark) {
        if (head != null && head.seq <= mark) {
            return true;
        }
        for (Work r : running) {
            if (outstandingLocked(r, mark)) {
                return true;
            }
        }
        return false;
    }

    private void insertLocked(Work w) {
        insertLocked(w, true);
    }

    /** Links {@code w} at the tail; {@code wake} false when the queuer will run it ({@link TaskWork}). */
    private void insertLocked(Work w, boolean wake) {
        w.seq = nextSeq++;
        w.onList = true;
        w.next = null;
        w.prev = tail;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        queued++;
        if (wake) {
            wakeOneLocked();
        }
        progress.signalAll();
    }

    private void unlinkLocked(Work w) {
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.onList = false;
        queued--;
    }

    /**
     * Puts back on the list, for a worker, an instance that was waiting to rerun: it keeps its sequence
     * number, so flushes that wait for it still do, and goes where that number belongs (the list stays
     * in sequence order).
     */
    private void requeueLocked(Work w) {
        Work after = tail;
        while (after != null && after.seq > w.seq) {
            after = after.prev;
        }
        w.onList = true;
        w.prev = after;
        w.next = after == null ? head : after.next;
        if (w.next == null) {
            tail = w;
        } else {
            w.next.prev = w;
        }
        if (after == null) {
            head = w;
        } else {
            after.next = w;
        }
        queued++;
        wakeOneLocked();
        progress.signalAll();
    }

    /** Sorted insert; equal deadlines keep arming order, as timers of one jiffy do. */
    private void armTimerLocked(DelayedWork dw, long deadline) {
        dw.deadline = deadline;
        dw.timerArmed = true;
        DelayedWork prev = null;
        DelayedWork cur = timerHead;
        while (cur != null && cur.deadline <= deadline) {
            prev = cur;
            cur = cur.timerNext;
        }
        dw.timerPrev = prev;
        dw.timerNext = cur;
        if (prev == null) {
            timerHead = dw;
        } else {
            prev.timerNext = dw;
        }
        if (cur != null) {
            cur.timerPrev = dw;
        }
        wakeAllLocked(); // a sleeping worker may now have an earlier deadline to wait for
        progress.signalAll();
    }

    private void unlinkTimerLocked(DelayedWork dw) {
        if (dw.timerPrev == null) {
            timerHead = dw.timerNext;
        } else {
            dw.timerPrev.timerNext = dw.timerNext;
        }
        if (dw.timerNext != null) {
            dw.timerNext.timerPrev = dw.timerPrev;
        }
        dw.timerPrev = null;
        dw.timerNext = null;
        dw.timerArmed = false;
    }

    private void cancelTimersLocked() {
        while (timerHead != null) {
            DelayedWork dw = timerHead;
            unlinkTimerLocked(dw);
            dw.work().clearPending();
        }
    }

    private static void requireNonNegative(long delay) {
        if (delay < 0) {
            throw new IllegalArgumentException("delay must not be negative: delay=" + delay);
        }
    }
}
