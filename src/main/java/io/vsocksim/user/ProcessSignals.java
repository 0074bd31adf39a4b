package io.vsocksim.user;

import static io.vsocksim.uapi.Signal.NSIG;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Signal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A process's signal actions and pending signals (kernel/signal.c), and what happens to an interrupted
 * system call on its way back to user mode (arch/x86/kernel/signal.c {@code handle_signal}).
 *
 * <p>SIM: a handler is a Java callback run on the thread whose call the signal interrupted (or, for a
 * signal that arrives while no thread of the process is in a call, on the next thread to enter or
 * leave a call: the simulator cannot interrupt user code). A default action that terminates the
 * process closes its descriptors and address space and records the signal ({@link UserProcess#exitSignal()}).
 */
final class ProcessSignals {
    /** One {@code struct k_sigaction}: SIG_DFL ({@code handler == null, ignore == false}), SIG_IGN, or a handler. */
    record Action(IntConsumer handler, boolean ignore, int flags) {
        static final Action DFL = new Action(null, false, 0);
        static final Action IGN = new Action(null, true, 0);
    }

    /** What delivering the pending signals did; {@code fatal} is the signal that kills the process, or 0. */
    record Delivery(boolean anySignal, boolean handlerRan, boolean allRestart, int fatal) {
        static final Delivery NONE = new Delivery(false, false, true, 0);
    }

    private final Action[] actions = new Action[NSIG + 1];
    private final AtomicLong pending = new AtomicLong();
    /**
     * The threads that made calls in this process, each with whether it is inside one now: where a
     * signal is delivered. A thread registers at its first call; entering and leaving a call then only
     * flip its flag, so the data path allocates nothing.
     */
    private final List<Caller> callers = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Caller> caller = ThreadLocal.withInitial(() -> {
        Caller c = new Caller(Thread.currentThread());
        callers.add(c);
        return c;
    });

    /** One thread of the process and whether it is inside a call. */
    private static final class Caller {
        final Thread thread;
        volatile boolean inCall;

        Caller(Thread thread) {
            this.thread = thread;
        }
    }

    ProcessSignals() {
        java.util.Arrays.fill(actions, Action.DFL);
    }

    /** A copy for fork: the child keeps the actions, none of the pending signals. */
    ProcessSignals fork() {
        ProcessSignals c = new ProcessSignals();
        synchronized (this) {
            System.arraycopy(actions, 0, c.actions, 0, actions.length);
        }
        return c;
    }

    /** sigaction(2): 0, or {@code -EINVAL} for a bad number or for SIGKILL/SIGSTOP. */
    @Linux(file = "kernel/signal.c", fn = "do_sigaction")
    synchronized int sigaction(int sig, Action act) {
        if (sig < 1 || sig > NSIG || sig == Signal.SIGKILL || sig == Signal.SIGSTOP) {
            return -Errno.EINVAL;
        }
        actions[sig] = act;
        if (ignoredNow(sig)) {
            pending.getAndUpdate(p -> p & ~bit(sig)); // a newly ignored signal is discarded
        }
        return 0;
    }

    private static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** {@code sig_ignored}: SIG_IGN, or SIG_DFL for a signal whose default is to ignore (or stop). */
    private synchronized boolean ignoredNow(int sig) {
        Action a = actions[sig];
        return a.ignore() || a.handler() == null && (Signal.ignoredByDefault(sig) || Signal.stopsByDefault(sig));
    }

    /**
     * {@code send_signal}: queues {@code sig} unless ignored and wakes a thread of the process that is
     * in a call ({@code signal_wake_up}: its interruptible sleep ends).
     */
    @Linux(file = "kernel/signal.c", fn = "__send_signal_locked")
    void send(int sig) {
        if (sig != Signal.SIGKILL && ignoredNow(sig)) {
            return;
        }
        pending.getAndUpdate(p -> p | bit(sig));
        for (Caller c : callers) {
            if (c.inCall) {
                c.thread.interrupt();
                break;
            }
        }
    }

    boolean hasPending() {
        return pending.get() != 0;
    }

    /** The calling thread enters a call. */
    void entering() {
        caller.get().inCall = true;
    }

    /** The calling thread leaves its call. */
    void leaving() {
        caller.get().inCall = false;
    }

    /**
     * {@code get_signal} and {@code handle_signal} for every pending signal, lowest number first: runs
     * handlers on the calling thread, skips ignored ones, and reports a fatal default action.
     */
    @Linux(file = "kernel/signal.c", fn = "get_signal")
    Delivery deliver() {
        long p = pending.getAndSet(0);
        if (p == 0) {
            return Delivery.NONE;
        }
        Thread.interrupted(); // the wake-up that stood for this signal is consumed
        boolean ran = false;
        boolean restart = true;
        for (int sig = 1; sig <= NSIG; sig++) {
            if ((p & bit(sig)) == 0) {
                continue;
            }
            Action a;
            synchronized (this) {
                a = actions[sig];
            }
            if (a.handler() != null) {
                a.handler().accept(sig);
                ran = true;
                restart &= (a.flags() & Signal.SA_RESTART) != 0;
            } else if (!a.ignore() && !Signal.ignoredByDefault(sig) && !Signal.stopsByDefault(sig)) {
                return new Delivery(true, ran, restart, sig); // terminate: do_group_exit(sig)
            }
        }
        return new Delivery(true, ran, restart, 0);
    }
}
