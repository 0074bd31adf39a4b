package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The simulator's kernel lock ({@code struct mutex}, also standing in for {@code lock_sock} and
 * spinlocks): a {@link ReentrantLock} whose {@link #lock()} first spins a little while the lock is
 * held, as {@code mutex_optimistic_spin()} does while the owner runs on another CPU, and only then
 * queues and sleeps.
 *
 * <p>SIM (performance): the simulator's locks are held for a few hundred nanoseconds (a queue
 * operation, a header update), so a contender almost always gets the lock within the spin. That saves
 * the park/unpark pair, and the wait-queue node a contended {@code ReentrantLock} allocates each time
 * (the last per-packet allocation on the data path). The bound keeps a spinner from stealing a core
 * from a descheduled owner for long on a small machine. When the spin fails the owner is usually not
 * running at all — typically it has just woken this thread and the scheduler let the woken thread
 * preempt it — so the contender yields twice before it queues (the kernel stops spinning when the owner
 * is off its CPU for the same reason); that cut the remaining allocation per packet from 0.3–1.1 to
 * 0.05 bytes. Reentrancy, conditions and {@link #isHeldByCurrentThread()} are {@code ReentrantLock}'s.
 */
@Linux(file = "kernel/locking/mutex.c", fn = "mutex_optimistic_spin")
public final class Mutex extends ReentrantLock {
    private static final long serialVersionUID = 1L;

    /** Spin iterations before queueing: about ten microseconds of {@code cpu_relax()} at most. */
    static final int SPINS = 512;
    /** Yields to a preempted owner after the spin, before queueing. */
    static final int YIELDS = 2;

    /** Whether a pool worker that blocks here tells its pool (false for the pool's own lock). */
    private final boolean reportsSleep;

    /** A lock whose blocked pool workers let the pool run other ready work ({@link Kworkers}). */
    public Mutex() {
        this(true);
    }

    Mutex(boolean reportsSleep) {
        this.reportsSleep = reportsSleep;
    }

    @Override
    public void lock() {
        if (tryLock()) {
            return;
        }
        for (int i = 0; i < SPINS; i++) {
            Thread.onSpinWait();
            if (!isLocked() && tryLock()) {
                return;
            }
        }
        // The owner is not running: often it was preempted by this very thread, which it had just
        // woken. Give it the CPU before queueing.
        for (int i = 0; i < YIELDS; i++) {
            Thread.yield();
            if (!isLocked() && tryLock()) {
                return;
            }
        }
        if (!reportsSleep) {
            super.lock();
            return;
        }
        Kworkers.sleeping(); // a pool worker blocked here lets another run the ready work
        try {
            super.lock();
        } finally {
            Kworkers.running();
        }
    }
}
