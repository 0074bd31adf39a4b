package io.vsocksim.kernel;

import static io.vsocksim.uapi.Errno.ERESTARTSYS;

import io.vsocksim.Linux;
import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One thread waiting on several wait queues at once ({@code struct poll_wqueues} with its
 * {@code pollwake} entries): poll and select register it on the queue of every file they look at,
 * then sleep until any of them is woken, the deadline passes or a signal is pending.
 *
 * <p>No lost wake-up: a queue's wake-up sets {@link #triggered} under this waiter's lock and signals;
 * the poller re-checks the files after registering and sleeps only while the flag is clear
 * ({@code poll_schedule_timeout}). Lock order: a queue's lock, then this waiter's lock, then the clock.
 */
@Linux(file = "include/linux/poll.h", fn = "struct poll_wqueues")
public final class PollWaiter implements WaitQueueEntry {
    private final Clock clock;
    private final ReentrantLock lock = new Mutex();
    private final Condition woken = lock.newCondition();
    private boolean triggered; // guarded by lock
    private WaitQueueHead[] queues = new WaitQueueHead[4];
    private int nrQueues;

    /** A waiter whose timeouts are measured on {@code clock} (the calling process's machine). */
    public PollWaiter(Clock clock) {
        this.clock = clock;
    }

    /** {@code poll_wait}: adds this waiter to {@code q} (once per queue). */
    @Linux(file = "fs/select.c", fn = "__pollwait")
    public void pollWait(WaitQueueHead q) {
        for (int i = 0; i < nrQueues; i++) {
            if (queues[i] == q) {
                return;
            }
        }
        if (nrQueues == queues.length) {
            queues = Arrays.copyOf(queues, nrQueues * 2);
        }
        queues[nrQueues++] = q;
        q.addEntry(this, false);
    }

    /** {@code pollwake}, called by a queue's wake-up under the queue's lock. */
    @Linux(file = "fs/select.c", fn = "pollwake")
    @Override
    public boolean wake(int key) {
        lock.lock();
        try {
            triggered = true;
            clock.signalAll(woken);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code poll_schedule_timeout}: sleeps until a registered queue is woken or the clock reaches
     * {@code deadlineNanos} ({@code Long.MAX_VALUE}: never). Returns 0, or {@code -ERESTARTSYS} if the
     * thread is interrupted (a pending signal: the interrupt status stays set).
     */
    @Linux(file = "fs/select.c", fn = "poll_schedule_timeout")
    public int sleep(long deadlineNanos) {
        lock.lock();
        try {
            if (!triggered && clock.nanoTime() < deadlineNanos) {
                if (Thread.currentThread().isInterrupted()) {
                    return -ERESTARTSYS;
                }
                clock.awaitUntil(lock, woken, deadlineNanos);
            }
            triggered = false;
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stays pending, as a signal does
            return -ERESTARTSYS;
        } finally {
            lock.unlock();
        }
    }

    /** {@code poll_freewait}: leaves every queue. */
    @Linux(file = "fs/select.c", fn = "poll_freewait")
    public void freeWait() {
        for (int i = 0; i < nrQueues; i++) {
            queues[i].removeEntry(this);
            queues[i] = null;
        }
        nrQueues = 0;
    }

    /** The clock the deadline is measured on. */
    public Clock clock() {
        return clock;
    }
}
