package io.vsocksim.kernel;

import static io.vsocksim.uapi.Errno.ERESTARTSYS;

import io.vsocksim.Linux;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Where user threads sleep until a condition holds ({@code struct wait_queue_head}), e.g. a socket's
 * {@code sk_wq}. Wakers change state first, then call {@link #wakeUp()}; sleepers re-check their
 * condition after every wake-up, with timeouts read from the machine's {@link Clock}.
 *
 * <p>No lost wake-ups, without evaluating the condition under this queue's lock: a sleeper notes the
 * wake-up count before it evaluates its condition and parks only if no wake-up happened since (the
 * {@code WQ_FLAG_WOKEN} idea of {@code wait_woken()}). So conditions may take socket or transport locks
 * freely, and wakers may call {@link #wakeUp()} while holding them.
 *
 * <p>SIM: Java interruption models a pending signal. Like a signal it stays pending: the interrupt
 * status is left set when {@code -ERESTARTSYS} is returned, for the syscall edge to turn into EINTR.
 * Timeouts and the remaining time are in nanoseconds of the clock rather than jiffies.
 */
@Linux(file = "include/linux/wait.h", fn = "struct wait_queue_head")
public final class WaitQueueHead {
    /** An infinite timeout ({@code MAX_SCHEDULE_TIMEOUT} = {@code LONG_MAX}). */
    @Linux(file = "include/linux/sched.h", fn = "MAX_SCHEDULE_TIMEOUT")
    public static final long MAX_SCHEDULE_TIMEOUT = Long.MAX_VALUE;

    private final Clock clock;
    private final ReentrantLock lock = new Mutex();
    private final Condition woken = lock.newCondition();
    // Guarded by lock. wakeups is also read without it by a sleeper coming back from park().
    private volatile long wakeups;
    private int waiters;
    /**
     * Sleepers without a timeout, parked (SIM, performance: a Condition await allocates a node per
     * sleep; timed sleepers still await {@link #woken} through the clock). Guarded by lock.
     */
    private Thread[] parked = new Thread[2];
    /** {@link TimeDomain} standing of each parked thread (null entries outside a domain). */
    private TimeDomain.Participant[] parkedWho = new TimeDomain.Participant[2];
    private int nrParked;
    /**
     * Entries with a wake function: non-exclusive ones ({@code add_wait_queue}) first, then exclusive
     * ones ({@code add_wait_queue_exclusive}). Guarded by lock; replaced, never changed in place.
     */
    private WaitQueueEntry[] entries = new WaitQueueEntry[0];
    private boolean[] exclusive = new boolean[0];

    /** A wait queue whose timeouts are measured on {@code clock} ({@code init_waitqueue_head}). */
    @Linux(file = "include/linux/wait.h", fn = "init_waitqueue_head")
    public WaitQueueHead(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Wakes every sleeper so it re-checks its condition ({@code wake_up_interruptible_all}). Call it
     * after making the condition true.
     */
    @Linux(file = "include/linux/wait.h", fn = "wake_up_interruptible_all")
    public void wakeUp() {
        wakeUp(0);
    }

    /**
     * {@link #wakeUp()} with a key ({@code wake_up_interruptible_poll}): the poll events that became
     * true, which entries with a wake function use to ignore wake-ups they do not care about (an
     * epoll item watching EPOLLIN is not woken by write space). Sleepers in a wait are woken anyway.
     */
    @Linux(file = "include/linux/wait.h", fn = "wake_up_interruptible_poll")
    public void wakeUp(int key) {
        lock.lock();
        try {
            wakeups++;
            WaitQueueEntry[] es = entries;
            boolean[] ex = exclusive;
            for (int i = 0; i < es.length; i++) {
                // Each takes only its own lock; an exclusive one that woke someone ends the walk.
                if (es[i].wake(key) && ex[i]) {
                    break;
                }
            }
            if (waiters > 0) {
                clock.signalAll(woken);
                // Paired with sleepUntimed(): the count moves and the list empties in one critical
                // section, so a sleeper that reads a new count is off the list.
                for (int i = 0; i < nrParked; i++) {
                    TimeDomain.wake(parkedWho[i]);
                    LockSupport.unpark(parked[i]);
                    parked[i] = null;
                    parkedWho[i] = null;
                }
                nrParked = 0;
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code waitqueue_active}: whether an entry or a sleeper is on the queue (a wake-up would reach someone). */
    @Linux(file = "include/linux/wait.h", fn = "waitqueue_active")
    public boolean active() {
        lock.lock();
        try {
            return entries.length > 0 || waiters > 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code add_wait_queue} / {@code add_wait_queue_exclusive}: {@code w} is woken by every
     * {@link #wakeUp()} until removed; exclusive entries come after the others, and the first that
     * wakes someone ends the wake-up.
     */
    @Linux(file = "kernel/sched/wait.c", fn = "add_wait_queue")
    @Linux(file = "kernel/sched/wait.c", fn = "add_wait_queue_exclusive")
    public void addEntry(WaitQueueEntry w, boolean exclusiveEntry) {
        lock.lock();
        try {
            int n = entries.length;
            WaitQueueEntry[] es = Arrays.copyOf(entries, n + 1);
            boolean[] ex = Arrays.copyOf(exclusive, n + 1);
            int at = n;
            if (!exclusiveEntry) {
                at = 0;
                while (at < n && !ex[at]) {
                    at++;
                }
                System.arraycopy(entries, at, es, at + 1, n - at);
                System.arraycopy(exclusive, at, ex, at + 1, n - at);
            }
            es[at] = w;
            ex[at] = exclusiveEntry;
            entries = es;
            exclusive = ex;
        } finally {
            lock.unlock();
        }
    }

    /** {@code remove_wait_queue}. */
    @Linux(file = "kernel/sched/wait.c", fn = "remove_wait_queue")
    public void removeEntry(WaitQueueEntry w) {
        lock.lock();
        try {
            for (int i = 0; i < entries.length; i++) {
                if (entries[i] == w) {
                    int n = entries.length - 1;
                    WaitQueueEntry[] es = new WaitQueueEntry[n];
                    boolean[] ex = new boolean[n];
                    System.arraycopy(entries, 0, es, 0, i);
                    System.arraycopy(entries, i + 1, es, i, n - i);
                    System.arraycopy(exclusive, 0, ex, 0, i);
                    System.arraycopy(exclusive, i + 1, ex, i, n - i);
                    entries = es;
                    exclusive = ex;
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** SIM: the number of threads inside a wait on this queue ({@link #active()} as a count). */
    public int waiters() {
        lock.lock();
        try {
            return waiters;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sleeps until {@code cond} holds, the timeout expires or the thread is interrupted.
     *
     * @param timeoutNanos relative timeout, or {@link #MAX_SCHEDULE_TIMEOUT}
     * @return the remaining time if {@code cond} became true (at least 1, even when it did so exactly at
     *     the timeout), 0 on timeout, {@code -ERESTARTSYS} if interrupted; the condition wins over the
     *     timeout, and both win over the interrupt, as in the kernel macro
     */
    @Linux(file = "include/linux/wait.h", fn = "wait_event_interruptible_timeout")
    public long waitEventInterruptibleTimeout(BooleanSupplier cond, long timeoutNanos) {
        return waitEvent(null, cond, timeoutNanos);
    }

    /**
     * Like {@link #waitEventInterruptibleTimeout(BooleanSupplier, long)}, for a caller holding
     * {@code lockHeld} (the socket lock): it is released while the thread sleeps and re-acquired
     * before every evaluation of {@code cond}, and it is held again on return, as with
     * {@code release_sock()} / {@code lock_sock()} around the sleep in {@code sk_wait_event()}.
     */
    @Linux(file = "include/net/sock.h", fn = "sk_wait_event")
    public long waitEventInterruptibleTimeout(Lock lockHeld, BooleanSupplier cond, long timeoutNanos) {
        Objects.requireNonNull(lockHeld, "lockHeld");
        assert !(lockHeld instanceof ReentrantLock rl) || rl.isHeldByCurrentThread() : "lockHeld not held";
        return waitEvent(lockHeld, cond, timeoutNanos);
    }

    private long waitEvent(Lock lockHeld, BooleanSupplier cond, long timeoutNanos) {
        if (timeoutNanos < 0) {
            throw new IllegalArgumentException("timeout must not be negative: timeoutNanos=" + timeoutNanos);
        }
        boolean forever = timeoutNanos == MAX_SCHEDULE_TIMEOUT;
        long deadline = forever ? Long.MAX_VALUE : Clock.deadline(clock.nanoTime(), timeoutNanos);
        long seen;
        lock.lock();
        try {
            waiters++;
            seen = wakeups;
        } finally {
            lock.unlock();
        }
        try {
            for (;;) {
                long remaining = forever ? MAX_SCHEDULE_TIMEOUT : Math.max(0, deadline - clock.nanoTime());
                if (cond.getAsBoolean()) {
                    return Math.max(remaining, 1);
                }
                if (remaining == 0) {
                    return 0;
                }
                if (Thread.currentThread().isInterrupted()) {
                    return -ERESTARTSYS;
                }
                if (lockHeld != null) {
                    lockHeld.unlock();
                }
                try {
                    TaskWork.beforeSleep(lockHeld); // what this thread queued must not wait for its wake-up
                    seen = sleep(seen, deadline);
                } finally {
                    if (lockHeld != null) {
                        lockHeld.lock();
                    }
                }
            }
        } finally {
            lock.lock();
            try {
                waiters--;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Parks unless a wake-up happened since {@code seen}; returns the wake-up count to check against next. */
    private long sleep(long seen, long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return sleepUntimed(seen);
        }
        lock.lock();
        try {
            if (wakeups == seen) {
                if (deadline == Long.MAX_VALUE) {
                    woken.await();
                } else {
                    clock.awaitUntil(lock, woken, deadline);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // a pending signal stays pending
        } finally {
            seen = wakeups;
            lock.unlock();
        }
        return seen;
    }

    /**
     * {@link #sleep} without a deadline: parks on {@link #parked}. No lost wake-up: the sleeper joins
     * the list under {@link #lock} only if the count is still {@code seen}; paired with
     * {@link #wakeUp()}, which bumps the count and unparks and empties the list under the same lock
     * (an unpark before the park leaves the permit). Coming back with a new count, the sleeper is
     * already off the list and does not retake the lock; on a spurious return or an interrupt (which
     * stays pending, as with the await) it takes itself off.
     */
    private long sleepUntimed(long seen) {
        Thread me = Thread.currentThread();
        TimeDomain.Participant who;
        lock.lock();
        try {
            if (wakeups != seen || me.isInterrupted()) {
                return wakeups;
            }
            if (nrParked == parked.length) {
                parked = Arrays.copyOf(parked, nrParked * 2);
                parkedWho = Arrays.copyOf(parkedWho, nrParked * 2);
            }
            who = TimeDomain.sleeping(clock);
            parkedWho[nrParked] = who;
            parked[nrParked++] = me;
        } finally {
            lock.unlock();
        }
        LockSupport.park(this);
        long now = wakeups;
        if (now != seen) {
            TimeDomain.awake(who);
            return now;
        }
        lock.lock();
        try {
            for (int i = 0; i < nrParked; i++) {
                if (parked[i] == me) {
                    int tail = nrParked - i - 1;
                    System.arraycopy(parked, i + 1, parked, i, tail);
                    System.arraycopy(parkedWho, i + 1, parkedWho, i, tail);
                    parked[--nrParked] = null;
                    parkedWho[nrParked] = null;
                    break;
                }
            }
            return wakeups;
        } finally {
            lock.unlock();
            TimeDomain.awake(who);
        }
    }
}
