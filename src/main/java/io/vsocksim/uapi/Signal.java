package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** Signal numbers and sigaction flags of x86-64 (arch/x86/include/uapi/asm/signal.h). */
@Linux(file = "arch/x86/include/uapi/asm/signal.h", fn = "SIGPIPE")
public final class Signal {
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGPIPE = 13;
    public static final int SIGALRM = 14;
    public static final int SIGTERM = 15;
    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGTSTP = 20;
    public static final int SIGTTIN = 21;
    public static final int SIGTTOU = 22;
    public static final int SIGURG = 23;
    public static final int SIGWINCH = 28;
    /** Highest signal number ({@code _NSIG}). */
    public static final int NSIG = 64;

    /** Restart a call the handler interrupted, where the call allows it. */
    public static final int SA_RESTART = 0x10000000;

    /** The default action ignores the signal (kernel/signal.c {@code SIG_KERNEL_IGNORE_MASK}). */
    public static boolean ignoredByDefault(int sig) {
        return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
    }

    /** The default action stops the process (not modelled: treated as ignored). */
    public static boolean stopsByDefault(int sig) {
        return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
    }

    private Signal() {}
}
