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
 * from a descheduled owner for long on a small machine. Reentrancy, conditions and
 * {@link #isHeldByCurrentThread()} are {@code ReentrantLock}'s.
 */
@Linux(file = "kernel/locking/mutex.c", fn = "mutex_optimistic_spin")
public final class Mutex extends ReentrantLock {
    private static final long serialVersionUID = 1L;

    /** Spin iterations before queueing: about ten microseconds of {@code cpu_relax()} at most. */
    static final int SPINS = 512;

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
        super.lock();
    }
}
