package io.vsocksim.fs;

import static io.vsocksim.uapi.Errno.ERESTARTNOHAND;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ERESTARTSYS;
import static io.vsocksim.uapi.Poll.POLLERR;
import static io.vsocksim.uapi.Poll.POLLHUP;
import static io.vsocksim.uapi.Poll.POLLNVAL;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.PollWaiter;
import io.vsocksim.uapi.PollFd;

/** poll(2) over any set of descriptors of one process (fs/select.c). */
@Linux(file = "fs/select.c", fn = "do_sys_poll")
public final class Select {
    private Select() {}

    /**
     * poll(2): fills each {@code revents} and returns how many descriptors have a non-zero one,
     * 0 on timeout, or {@code -errno}: EINVAL for more descriptors than RLIMIT_NOFILE,
     * {@code -ERESTARTNOHAND} if a signal interrupted the wait (the caller turns it into EINTR or a
     * restart, as the return to user mode does). A negative descriptor is skipped; a closed one reports
     * POLLNVAL. {@code timeoutMs < 0} waits forever; one too long for the clock saturates to forever.
     */
    @Linux(file = "fs/select.c", fn = "do_poll")
    @Linux(file = "fs/select.c", fn = "do_pollfd")
    public static int poll(FdTable files, PollFd[] fds, int nfds, long timeoutMs, Clock clock) {
        if (nfds < 0 || nfds > files.rlimitNofile() || nfds > fds.length) {
            return -EINVAL;
        }
        long deadline = timeoutMs < 0 || timeoutMs > Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE
                : Clock.deadline(clock.nanoTime(), timeoutMs * 1_000_000L);
        PollWaiter wait = timeoutMs == 0 ? null : new PollWaiter(clock);
        boolean register = wait != null; // only the first pass registers, and none once a file is ready
        boolean timedOut = timeoutMs == 0;
        try {
            for (;;) {
                int count = 0;
                for (int i = 0; i < nfds; i++) {
                    PollFd p = fds[i];
                    int mask = 0;
                    if (p.fd >= 0) {
                        OpenFile f = files.fget(p.fd);
                        if (f == null) {
                            mask = POLLNVAL;
                        } else {
                            try {
                                if (register) {
                                    wait.pollWait(f.fileWaitQueue());
                                }
                                mask = f.filePoll() & ((p.events & 0xffff) | POLLERR | POLLHUP);
                            } finally {
                                f.putFile();
                            }
                        }
                    }
                    p.revents = (short) mask;
                    if (mask != 0) {
                        count++;
                        register = false;
                    }
                }
                register = false;
                if (count != 0 || timedOut) {
                    return count;
                }
                if (Thread.currentThread().isInterrupted() || wait.sleep(deadline) == -ERESTARTSYS) {
                    return -ERESTARTNOHAND; // EINTR once a handler ran, else restarted (with the same end time)
                }
                if (clock.nanoTime() >= deadline) {
                    timedOut = true; // one more pass, then report what it finds
                }
            }
        } finally {
            if (wait != null) {
                wait.freeWait();
            }
        }
    }
}
