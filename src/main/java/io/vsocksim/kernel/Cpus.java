package io.vsocksim.kernel;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether a machine's CPUs run. A VMM that stops a VM (QEMU's {@code stop}, a migration's last phase,
 * Firecracker's {@code Paused} state) stops its vCPUs: no thread of the guest enters its kernel until
 * they run again, however long that takes.
 *
 * <p>Every system call passes {@link #enter()} before it does anything; with the CPUs running that is
 * one volatile read. SIM: a thread that is already inside a call when the CPUs stop finishes that call
 * (a Java thread cannot be frozen mid-instruction), and the machine's own work (timers, bottom halves)
 * still runs; what that work sends waits in the rings, whose device side the VMM stops with the CPUs.
 */
public final class Cpus {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition running = lock.newCondition();
    private volatile boolean stopped;
    /** Threads held at {@link #enter()} right now (diagnostics and tests). */
    private int held; // guarded by lock

    /** Stops the CPUs: calls that begin from now on wait in {@link #enter()}. */
    public void stop() {
        stopped = true;
    }

    /** Lets the CPUs run again and releases every thread held at {@link #enter()}. */
    public void start() {
        lock.lock();
        try {
            stopped = false;
            running.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** True while the CPUs are stopped. */
    public boolean stopped() {
        return stopped;
    }

    /**
     * The start of a system call: returns at once while the CPUs run, else waits until they run again.
     * The wait cannot be interrupted (nothing reaches a stopped vCPU); the thread's interrupt status is
     * kept for when it runs.
     */
    public void enter() {
        if (stopped) {
            awaitRunning();
        }
    }

    private void awaitRunning() {
        lock.lock();
        try {
            held++;
            try {
                while (stopped) {
                    running.awaitUninterruptibly();
                }
            } finally {
                held--;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Number of threads waiting in {@link #enter()} for the CPUs to run. */
    public int held() {
        lock.lock();
        try {
            return held;
        } finally {
            lock.unlock();
        }
    }
}
