package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work queued by a thread that will soon reach a point where it holds no lock, run by that thread
 * there instead of waking a worker: a system call's own thread on its way back to user mode (or
 * before it sleeps), a worker between two works. The kernel's shapes for the same idea are
 * {@code task_work} (callbacks a task runs on return to user mode) and softirqs run at
 * {@code irq_exit()} / {@code local_bh_enable()} on the CPU that raised them: loopback TCP delivers a
 * packet in the sender's own context that way.
 *
 * <p>SIM (performance): a real vhost worker or guest vCPU picks queued work up on another CPU within a
 * few microseconds; waking a parked Java thread costs a futex call and a scheduling delay of tens of
 * microseconds on a loaded 2-core machine, and a request/response crossed five of them (sender, vhost
 * worker, guest RX work, reader, and back). Running the work in the queuing thread at its next
 * lock-free point is one of the schedules a real kernel can take (the work runs after it was queued,
 * never concurrently with itself, never under a lock of the queuer), so every observable result stays
 * the kernel's; only which thread executes it changes. A worker that is awake anyway may still take
 * the work first, and a work already running elsewhere is run again by its runner, as always.
 *
 * <p>Only a thread inside a scope defers: the syscall edge opens one around each call that moves data
 * ({@link #enter(WorkQueue)} / {@link #enterSend(WorkQueue)}), and a pool worker opens one for the
 * queue whose works it runs. Elsewhere (machine set-up, tests, timers firing) queueing wakes a worker as
 * before, and a {@link ManualWorkQueue} never defers.
 *
 * <p>A scope belongs to one machine (named by its work queue) and defers only that machine's work.
 * Work the call queues on another machine — the interrupt a host's vhost handler raises in a guest,
 * the kick a guest driver sends to vhost — wakes that machine's workers, as an interrupt or a VM exit
 * reaches another CPU: a host system call never runs guest code, so it never waits on a guest's lock
 * (a non-blocking host call stays non-blocking whatever a guest does), and the reverse.
 *
 * <p>How far a drain reaches: before a sleep and in a worker, it also runs the works that the works it
 * ran queued (the thread has nothing better to do). At a syscall exit it does so too, except for a
 * <em>streaming</em> sender (a send right after a send on the same thread): there it runs only what
 * the call itself queued (the device's work) and hands what that queues (the peer's receive work) to
 * the peer's workers, so the receive side batches packets while the sender keeps sending, as it does
 * on real CPUs; a request/response keeps the whole path in its threads.
 *
 * <p>Rules that keep it deadlock-free: (1) deferred work runs only where the thread holds no lock:
 * at the outermost {@link #exit()}, after a worker's work returned, and in {@link #beforeSleep(Lock)}
 * once the one lock the sleeper held is released (if the thread still holds it, the works go to
 * workers instead); (2) a thread about to wait for work to finish ({@code flush},
 * {@code cancel_work_sync}) first hands its deferred works to workers; (3) at most {@link #MAX_INLINE}
 * works run per drain, the rest go to workers, as {@code __do_softirq()} hands its remainder to
 * ksoftirqd after {@code MAX_SOFTIRQ_RESTART} rounds, and a work that other threads keep queueing
 * while it runs here goes to a worker after {@link #MAX_RERUNS} runs in a row.
 */
@Linux(file = "kernel/task_work.c", fn = "task_work_run")
public final class TaskWork {
    /** Works one drain runs in its thread before handing the rest to workers. */
    static final int MAX_INLINE = 64;
    /**
     * Runs in a row of one work that other threads keep queueing while this thread runs it; then it
     * goes to a worker, so a system call does not stay a worker for another thread's traffic.
     */
    static final int MAX_RERUNS = 16;

    private static final ThreadLocal<TaskWork> CURRENT = ThreadLocal.withInitial(TaskWork::new);

    private Work[] works = new Work[8];
    private int count;
    /** Open scopes on this thread (a syscall: 1; a worker: 1 while it serves a queue). */
    private int depth;
    /** The outermost open scope is a send. */
    private boolean sending;
    /** The previous outermost scope was a send. */
    private boolean lastWasSend;
    /** True while this thread drains: works queued meanwhile join the same drain. */
    private boolean draining;
    /**
     * The machine the outermost scope belongs to, named by its work queue: only that queue's work is
     * deferred here. Another machine's work always wakes that machine's workers.
     */
    private WorkQueue owner;

    private TaskWork() {}

    /**
     * Opens a scope on the calling thread for a system call of the machine whose work queue is
     * {@code machine}: work the call queues there from now on may wait for {@link #exit()}. A nested
     * scope keeps the outermost one's machine.
     */
    public static void enter(WorkQueue machine) {
        CURRENT.get().open(false, machine);
    }

    /** {@link #enter(WorkQueue)} for a call that sends data (see the streaming rule in the class comment). */
    public static void enterSend(WorkQueue machine) {
        CURRENT.get().open(true, machine);
    }

    /**
     * Closes the calling thread's scope; the outermost exit runs what was deferred. The caller must
     * hold no lock.
     *
     * @throws IllegalStateException without a matching enter
     */
    public static void exit() {
        TaskWork tw = CURRENT.get();
        if (tw.depth <= 0) {
            throw new IllegalStateException("TaskWork.exit without enter");
        }
        try {
            if (tw.depth == 1) {
                boolean streaming = tw.sending && tw.lastWasSend;
                tw.lastWasSend = tw.sending;
                tw.run(!streaming);
            }
        } finally {
            if (--tw.depth == 0) {
                tw.owner = null;
            }
        }
    }

    /**
     * Called by a sleeper after it released {@code released} (null if it held none) and before it
     * parks: runs the deferred work if the thread now holds no lock, hands it to workers otherwise.
     * Either way nothing the sleeper queued waits for its wake-up.
     */
    public static void beforeSleep(Lock released) {
        TaskWork tw = CURRENT.get();
        if (tw.count == 0) {
            return;
        }
        if (released instanceof ReentrantLock rl && rl.isHeldByCurrentThread()) {
            tw.handOff(); // still held (taken twice): not a lock-free point
        } else {
            tw.run(true);
        }
    }

    /** Hands the calling thread's deferred works to workers (before it waits for work to finish). */
    static void handOffCurrent() {
        TaskWork tw = CURRENT.get();
        if (tw.count != 0) {
            tw.handOff(); // also mid-drain: a work that waits must not wait for the works behind it
        }
    }

    /**
     * The calling thread's deferral list if it is in a scope of {@code wq}'s machine, else null. A
     * queue that gets non-null links the work without waking a worker and then {@link #add}s it.
     */
    static TaskWork active(WorkQueue wq) {
        TaskWork tw = CURRENT.get();
        return tw.depth > 0 && tw.owner == wq ? tw : null;
    }

    /**
     * A pool worker about to run {@code wq}'s works: a scope of that machine until {@link #exitWorker()},
     * drained with {@link #runAll()} after each work.
     */
    static TaskWork enterWorker(WorkQueue wq) {
        TaskWork tw = CURRENT.get();
        tw.open(false, wq);
        return tw;
    }

    /** Ends the scope {@link #enterWorker} opened; anything still deferred goes to workers. */
    static void exitWorker() {
        TaskWork tw = CURRENT.get();
        try {
            if (tw.count != 0) {
                tw.handOff();
            }
        } finally {
            if (--tw.depth == 0) {
                tw.owner = null;
            }
        }
    }

    /** Runs everything deferred, chains included (a worker between two works). */
    void runAll() {
        run(true);
    }

    /** Remembers {@code w}, just queued without a wake-up, for this thread's next lock-free point. */
    void add(Work w) {
        if (count == works.length) {
            works = Arrays.copyOf(works, count * 2);
        }
        works[count++] = w;
    }

    private void open(boolean send, WorkQueue machine) {
        if (depth++ == 0) {
            sending = send;
            owner = Objects.requireNonNull(machine, "machine");
        }
    }

    /**
     * Runs the deferred works in queueing order, up to the budget; with {@code chain} also those they
     * queue, else those go to workers.
     */
    private void run(boolean chain) {
        if (draining || count == 0) {
            return;
        }
        draining = true;
        try {
            int ran = 0;
            int own = count;
            for (int i = 0; i < count; i++) {
                Work w = works[i];
                works[i] = null;
                WorkerPool pool = w.wq;
                if (ran < MAX_INLINE && (chain || i < own) && pool.runDeferred(w)) {
                    ran++;
                } else {
                    pool.handOff(w);
                }
            }
            count = 0;
        } finally {
            draining = false;
            if (count != 0) { // failed part-way: what is left goes to workers
                handOff();
            }
        }
    }

    private void handOff() {
        for (int i = 0; i < count; i++) {
            Work w = works[i];
            works[i] = null;
            if (w != null) { // null: already taken by a drain that failed part-way
                w.wq.handOff(w);
            }
        }
        count = 0;
    }
}
