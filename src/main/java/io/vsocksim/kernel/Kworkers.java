package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Worker threads shared by the work queues of many machines: the kernel's per-CPU worker pools, which
 * serve every workqueue of the system rather than one thread set per device. A machine's
 * {@link ThreadedWorkQueue} keeps its own work list, timers and ordering; it only borrows a thread
 * from here while it has something to run, so a thousand idle guests cost no threads.
 *
 * <p><b>Scheduling.</b> A queue with runnable work and fewer threads on it than its
 * {@code max_active} puts itself on the ready list; a worker takes the oldest ready queue, runs its
 * works in order and, after {@link #BATCH} works while other queues wait, puts it back at the tail, so
 * one busy guest cannot starve the rest. A worker that finishes one machine's work and finds another's
 * ready takes it without sleeping: the wake-up a per-machine thread set pays for every hand-off between
 * a guest and its host is saved whenever a worker is awake anyway.
 *
 * <p><b>Concurrency management</b> ({@code wq_worker_sleeping}): the pool keeps {@code nr_running}
 * workers able to run at {@link #concurrency} or below. A worker that blocks inside a work (a contended
 * {@link Mutex}, a flush, a wait on a clock) stops counting; if work is ready and no worker is idle,
 * another worker starts, as the kernel's pool manager creates one. Workers beyond {@link #concurrency}
 * that stay idle for {@link #IDLE_TIMEOUT_NANOS} exit ({@code idle_worker_timeout}), so the number of
 * threads follows what blocks, never the number of machines.
 *
 * <p><b>Timers.</b> Delayed work is kept by its queue; idle workers wait for the earliest deadline of
 * every queue whose clock runs by itself (real time, a self-running virtual clock), and a manual
 * {@link VirtualClock} tells the pool when it is advanced ({@link VirtualClock#onAdvance}).
 *
 * <p>Lock order: a queue's lock, then this pool's lock. A worker never holds this pool's lock while it
 * takes a queue's lock.
 */
public final class Kworkers implements AutoCloseable {
    /** Works one worker runs from one queue before it lets other ready queues go first. */
    static final int BATCH = 32;
    /** How long a worker beyond {@link #concurrency} stays idle before it exits. */
    static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** How often the manager looks at busy workers while ready work waits (the kernel's mayday timer: HZ/100). */
    static final long MANAGER_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Workers at most, blocked ones included (the kernel has no fixed bound; this one catches runaways). */
    static final int MAX_WORKERS = 512;

    private static final class Common {
        static final Kworkers POOL = new Kworkers("kworker", Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    /** A worker thread: the queue it serves now (for {@link ThreadedWorkQueue#inContext()}). */
    static final class Kworker extends Thread {
        final Kworkers pool;
        /** The queue this worker runs works of, or null between queues. Written and read by this thread. */
        ThreadedWorkQueue serving;
        /** True while this worker does not count in {@code nr_running} (blocked inside a work). */
        boolean sleeping;
        /** True while this worker waits for work in {@link #next} (guarded by the pool's lock). */
        boolean idle;

        Kworker(Kworkers pool, String name) {
            super(name);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            pool.workerLoop(this);
        }
    }

    private final String name;
    private final int concurrency;
    private final ReentrantLock lock = new Mutex(false);
    /** The manager sleeps until told that work waits with no idle worker. Guarded by lock. */
    private boolean managerWaits;
    /** Workers parked for work, most recently idle last (the kernel's idle_list). Guarded by lock. */
    private Kworker[] idleList = new Kworker[4];
    private final Condition exited = lock.newCondition();
    /** Signalled when work waits with no idle worker: the manager looks for blocked workers. */
    private final Condition starved = lock.newCondition();
    private final Thread manager;
    private final List<Kworker> all = new ArrayList<>(); // guarded by lock
    // Guarded by lock.
    private final ArrayDeque<ThreadedWorkQueue> ready = new ArrayDeque<>();
    private int nrWorkers;
    private int nrIdle;
    private boolean closed;
    private int nextId;
    /** Moves on every change a sleeping worker must look at again (a timer, an advanced clock). */
    private final AtomicLong timerEpoch = new AtomicLong();
    private final AtomicInteger nrRunning = new AtomicInteger();
    /** Queues that have, or recently had, an armed timer: what idle workers look at. */
    private final Set<ThreadedWorkQueue> timerQueues = ConcurrentHashMap.newKeySet();
    /** Measures how long an extra worker has been idle (the only real time the pool reads). */
    private final RealClock realTime = new RealClock();
    private final AtomicLong started = new AtomicLong();

    /**
     * A pool with {@code concurrency} workers (started now) and room for more while some block.
     *
     * @param concurrency workers that may run at once, the CPUs of the simulated system
     */
    public Kworkers(String name, int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("a pool needs a worker: concurrency=" + concurrency);
        }
        this.name = name;
        this.concurrency = concurrency;
        this.manager = new Thread(this::managerLoop, name + "/manager");
        manager.setDaemon(true);
        manager.start();
        lock.lock();
        try {
            for (int i = 0; i < concurrency; i++) {
                startWorkerLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The pool every machine of the JVM shares unless given another: one worker per available
     * processor (two at least). It is never closed; its threads are daemons.
     */
    public static Kworkers common() {
        return Common.POOL;
    }

    /** Worker threads alive now, idle and blocked ones included. */
    public int workers() {
        lock.lock();
        try {
            return nrWorkers;
        } finally {
            lock.unlock();
        }
    }


    /** Worker threads ever started (diagnostics). */
    public long started() {
        return started.get();
    }

    /** The queue the calling thread serves as a worker of any pool, or null. */
    static ThreadedWorkQueue servingQueue() {
        return Thread.currentThread() instanceof Kworker k ? k.serving : null;
    }

    // ---- what queues call ---------------------------------------------------------------------------

    /** {@code q} has runnable work and room for one more worker: puts it on the ready list. */
    void schedule(ThreadedWorkQueue q) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            ready.addLast(q);
            wakeWorkerLocked();
        } finally {
            lock.unlock();
        }
    }

    /** {@code q} armed a timer or its earliest deadline moved: idle workers recompute their wait. */
    void timersChanged(ThreadedWorkQueue q) {
        timerQueues.add(q);
        poke();
    }

    /** Forgets {@code q} (closed). */
    void forget(ThreadedWorkQueue q) {
        timerQueues.remove(q);
        lock.lock();
        try {
            ready.removeIf(r -> r == q);
        } finally {
            lock.unlock();
        }
    }

    /** Time moved on a clock some queue waits on, or a deadline changed: idle workers look again. */
    void poke() {
        timerEpoch.incrementAndGet();
        lock.lock();
        try {
            wakeAllIdleLocked(); // they look at the deadlines again
        } finally {
            lock.unlock();
        }
    }

    // ---- blocking inside a work (wq_worker_sleeping / wq_worker_running) ----------------------------

    /** The calling thread is about to block; a worker of a pool then stops counting as running. */
    static void sleeping() {
        if (Thread.currentThread() instanceof Kworker k && !k.sleeping) {
            k.sleeping = true;
            k.pool.workerSleeping();
        }
    }

    /** The calling thread is back from the block {@link #sleeping()} announced. */
    static void running() {
        if (Thread.currentThread() instanceof Kworker k && k.sleeping) {
            k.sleeping = false;
            k.pool.nrRunning.incrementAndGet();
        }
    }

    @Linux(file = "kernel/workqueue.c", fn = "wq_worker_sleeping")
    private void workerSleeping() {
        nrRunning.decrementAndGet();
        lock.lock();
        try {
            if (!ready.isEmpty() && !closed) {
                wakeWorkerLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Work is ready: an idle worker takes it if a CPU is free ({@code need_more_worker}: fewer workers
     * running than {@link #concurrency}); otherwise a busy worker takes it when its batch ends, and the
     * manager is told, which steps in only if every busy worker stays blocked. Threads are never started
     * on the hot path.
     */
    private void wakeWorkerLocked() {
        if (nrIdle > 0 && nrRunning.get() < concurrency) {
            wakeOneIdleLocked();
        } else if (managerWaits) {
            managerWaits = false;
            starved.signal();
        }
    }

    // ---- workers ------------------------------------------------------------------------------------

    /** Puts {@code k} on the idle list ({@code worker_enter_idle}). */
    private void idleLocked(Kworker k) {
        if (nrIdle == idleList.length) {
            idleList = java.util.Arrays.copyOf(idleList, nrIdle * 2);
        }
        idleList[nrIdle++] = k;
        k.idle = true;
    }

    private void unidleLocked(Kworker k) {
        for (int i = 0; i < nrIdle; i++) {
            if (idleList[i] == k) {
                System.arraycopy(idleList, i + 1, idleList, i, nrIdle - i - 1);
                idleList[--nrIdle] = null;
                break;
            }
        }
        k.idle = false;
    }

    /** Wakes the most recently idle worker ({@code wake_up_worker}: the cache-warm one). */
    private void wakeOneIdleLocked() {
        Kworker k = idleList[--nrIdle];
        idleList[nrIdle] = null;
        k.idle = false;
        LockSupport.unpark(k);
    }

    private void wakeAllIdleLocked() {
        while (nrIdle > 0) {
            wakeOneIdleLocked();
        }
    }

    private void startWorkerLocked() {
        Kworker w = new Kworker(this, name + "/" + nextId++);
        all.add(w);
        nrWorkers++;
        nrRunning.incrementAndGet();
        started.incrementAndGet();
        w.start();
    }

    /**
     * A worker's life: take the next ready queue (idle meanwhile), let it run its works
     * ({@link ThreadedWorkQueue#serve}), requeue it if it has more; exit when told to.
     */
    @Linux(file = "kernel/workqueue.c", fn = "worker_thread")
    private void workerLoop(Kworker me) {
        try {
            for (;;) {
                ThreadedWorkQueue q = next(me);
                if (q == null) {
                    return;
                }
                if (q.serve(me)) {
                    schedule(q); // more to do after its batch: back at the tail
                }
            }
        } finally {
            lock.lock();
            try {
                nrWorkers--;
                all.remove(me);
                nrRunning.decrementAndGet();
                exited.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The next ready queue, waiting for one (and firing due timers) meanwhile; null to exit. */
    private ThreadedWorkQueue next(Kworker me) {
        long idleSince = realTime.nanoTime();
        for (;;) {
            long epoch = timerEpoch.get();
            lock.lock();
            try {
                if (closed) {
                    return null;
                }
                ThreadedWorkQueue q = ready.pollFirst();
                if (q != null) {
                    return q;
                }
            } finally {
                lock.unlock();
            }
            // Timers: with no lock of this pool held, since firing takes the queues' locks.
            long wait = fireDueTimers();
            lock.lock();
            try {
                if (closed) {
                    return null;
                }
                if (!ready.isEmpty() || timerEpoch.get() != epoch) {
                    continue;
                }
                if (nrWorkers > concurrency && realTime.nanoTime() - idleSince >= IDLE_TIMEOUT_NANOS) {
                    return null; // an extra worker started for a block that is over
                }
                if (nrWorkers > concurrency) {
                    wait = Math.min(wait, IDLE_TIMEOUT_NANOS);
                }
                idleLocked(me);
                nrRunning.decrementAndGet();
                lock.unlock();
                try {
                    // SIM (performance): a park on the idle list, not a Condition await, which allocates
                    // a node per sleep. No lost wake-up: a waker takes the worker off the list under the
                    // lock before it unparks it, and an unpark before the park leaves the permit.
                    if (wait == Long.MAX_VALUE) {
                        LockSupport.park(this);
                    } else {
                        LockSupport.parkNanos(this, wait);
                    }
                    Thread.interrupted(); // nobody interrupts workers on purpose; look again
                } finally {
                    lock.lock();
                    if (me.idle) {
                        unidleLocked(me); // timed out or woken spuriously: off the list by itself
                    }
                    nrRunning.incrementAndGet();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * The pool manager ({@code maybe_create_worker}, woken as the kernel's mayday timer is): while work
     * is ready it looks every {@link #MANAGER_TICK_NANOS} at the busy workers, and if all of them are
     * parked or blocked inside a work (a wait the pool cannot see, such as a latch), it wakes an idle
     * worker or starts one more. The kernel learns of every sleep from the scheduler
     * ({@code wq_worker_sleeping}); a Java thread's state is the nearest thing.
     */
    @Linux(file = "kernel/workqueue.c", fn = "maybe_create_worker")
    private void managerLoop() {
        lock.lock();
        try {
            while (!closed) {
                if (ready.isEmpty()) {
                    managerWaits = true;
                    starved.awaitUninterruptibly();
                    managerWaits = false;
                    continue;
                }
                try {
                    starved.awaitNanos(MANAGER_TICK_NANOS);
                } catch (InterruptedException e) {
                    // nobody interrupts the manager on purpose
                }
                if (closed || ready.isEmpty() || !busyWorkersAllBlockedLocked()) {
                    continue;
                }
                // Work has waited a tick while every worker that is not idle is stuck in a wait the pool
                // cannot see: an idle one takes it even though the running count says the CPUs are taken,
                // or, with none idle, a new one.
                if (nrIdle > 0) {
                    wakeOneIdleLocked();
                } else if (nrWorkers < MAX_WORKERS) {
                    startWorkerLocked();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** True if every worker not idle in {@link #next} is parked or blocked (not runnable). */
    private boolean busyWorkersAllBlockedLocked() {
        for (Kworker k : all) {
            if (k.idle) {
                continue;
            }
            Thread.State st = k.getState();
            if (st == Thread.State.RUNNABLE || st == Thread.State.NEW) {
                return false;
            }
        }
        return true;
    }

    /**
     * Moves due timers of every queue with armed timers onto its work list (which schedules it) and
     * returns how long, in real nanoseconds, an idle worker may sleep before the next one is due
     * ({@code Long.MAX_VALUE}: until a queue or a clock says otherwise).
     */
    private long fireDueTimers() {
        long wait = Long.MAX_VALUE;
        for (ThreadedWorkQueue q : timerQueues) {
            long left = q.fireDueTimersAndTimeLeft();
            if (left < 0) {
                timerQueues.remove(q);
                if (q.hasTimers()) { // armed again meanwhile
                    timerQueues.add(q);
                    wait = 0;
                }
            } else if (left != Long.MAX_VALUE) {
                wait = Math.min(wait, Math.max(left, 1));
            }
        }
        return wait;
    }

    /** Stops every worker once it has finished what it runs (a private pool closed with its queue). */
    @Override
    public void close() {
        lock.lock();
        try {
            if (this == Common.POOL) {
                throw new IllegalStateException("the common pool is never closed");
            }
            closed = true;
            wakeAllIdleLocked();
            managerWaits = false;
            starved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every worker of a closed pool has exited. */
    void awaitTermination() {
        lock.lock();
        try {
            while (nrWorkers > 0) {
                exited.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Kworkers{" + name + ", concurrency=" + concurrency + ", workers=" + workers() + "}";
    }
}
