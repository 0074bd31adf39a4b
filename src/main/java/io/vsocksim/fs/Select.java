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
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import java.util.BitSet;

/** poll(2) and select(2) over any set of descriptors of one process (fs/select.c). */
@Linux(file = "fs/select.c", fn = "do_sys_poll")
public final class Select {
    private Select() {}

    /** {@link #pollEndTime}'s end of a poll without a timeout. */
    public static final long NO_TIMEOUT = Long.MAX_VALUE;
    /** {@link #pollEndTime}'s end of a zero timeout: one pass, no wait. */
    public static final long NO_WAIT = Long.MIN_VALUE;

    /**
     * The end time of a poll(2) with {@code timeoutMs}, on {@code clock}: {@link #NO_TIMEOUT} for a
     * negative timeout (or one too long for the clock), {@link #NO_WAIT} for 0, else now plus the
     * timeout. Computed once per call: a restarted poll keeps it ({@code do_restart_poll} hands the same
     * end time to {@code do_sys_poll}).
     */
    @Linux(file = "fs/select.c", fn = "poll_select_set_timeout")
    public static long pollEndTime(Clock clock, long timeoutMs) {
        if (timeoutMs < 0 || timeoutMs > Long.MAX_VALUE / 1_000_000L) {
            return NO_TIMEOUT;
        }
        return timeoutMs == 0 ? NO_WAIT : Clock.deadline(clock.nanoTime(), timeoutMs * 1_000_000L);
    }

    /**
     * poll(2) until {@code endTime} ({@link #pollEndTime}): fills each {@code revents} and returns how
     * many descriptors have a non-zero one, 0 on timeout, or {@code -errno}: EINVAL for more descriptors
     * than RLIMIT_NOFILE, {@code -ERESTARTNOHAND} if a signal interrupted the wait (the caller turns it
     * into EINTR, or restarts with the same end time, as the return to user mode does). A negative
     * descriptor is skipped; a closed one reports POLLNVAL. An end time already past gives one more
     * pass, then 0.
     */
    @Linux(file = "fs/select.c", fn = "do_poll")
    @Linux(file = "fs/select.c", fn = "do_pollfd")
    public static int poll(FdTable files, PollFd[] fds, int nfds, long endTime, Clock clock) {
        if (nfds < 0 || nfds > files.rlimitNofile() || nfds > fds.length) {
            return -EINVAL;
        }
        long deadline = endTime;
        PollWaiter wait = endTime == NO_WAIT ? null : new PollWaiter(clock);
        boolean register = wait != null; // only the first pass registers, and none once a file is ready
        boolean timedOut = endTime == NO_WAIT;
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

    /** Events that make a descriptor readable for select ({@code POLLIN_SET}). */
    static final int POLLIN_SET = Poll.POLLRDNORM | Poll.POLLRDBAND | Poll.POLLIN | POLLHUP | POLLERR | POLLNVAL;
    /** Writable ({@code POLLOUT_SET}). */
    static final int POLLOUT_SET = Poll.POLLWRBAND | Poll.POLLWRNORM | Poll.POLLOUT | POLLERR | POLLNVAL;
    /** Exceptional ({@code POLLEX_SET}). */
    static final int POLLEX_SET = Poll.POLLPRI | POLLNVAL;

    /**
     * select(2): replaces each set (null: none) with the descriptors below {@code n} that are ready
     * for it and returns how many bits that is, 0 on timeout, or {@code -errno}: EINVAL for a negative
     * {@code n}, EBADF if a set names a descriptor that is not open, {@code -ERESTARTNOHAND} if a
     * signal interrupted the wait. {@code tv} is {sec, usec} or null (forever); as on Linux it is
     * updated to the time that was left.
     */
    @Linux(file = "fs/select.c", fn = "core_sys_select")
    @Linux(file = "fs/select.c", fn = "do_select")
    @Linux(file = "fs/select.c", fn = "max_select_fd")
    public static int select(FdTable files, int n, BitSet in, BitSet out, BitSet ex, long[] tv, Clock clock) {
        if (n < 0) {
            return -EINVAL;
        }
        if (tv != null && (tv[0] < 0 || tv[1] < 0)) {
            return -EINVAL; // poll_select_set_timeout: an invalid timespec
        }
        n = Math.min(n, files.maxFds());
        BitSet all = new BitSet();
        for (BitSet s : new BitSet[] {in, out, ex}) {
            if (s != null) {
                all.or(s.get(0, n));
            }
        }
        for (int fd = all.nextSetBit(0); fd >= 0; fd = all.nextSetBit(fd + 1)) {
            if (files.peek(fd) == null) {
                return -io.vsocksim.uapi.Errno.EBADF;
            }
        }
        long timeoutNs = tv == null ? -1 : Math.min(Long.MAX_VALUE / 2, tv[0] * 1_000_000_000L + tv[1] * 1_000L);
        long start = clock.nanoTime();
        long deadline = tv == null ? Long.MAX_VALUE : Clock.deadline(start, timeoutNs);
        PollWaiter wait = timeoutNs == 0 ? null : new PollWaiter(clock);
        boolean register = wait != null;
        BitSet rin = new BitSet();
        BitSet rout = new BitSet();
        BitSet rex = new BitSet();
        int ret;
        try {
            for (;;) {
                int count = 0;
                for (int fd = all.nextSetBit(0); fd >= 0; fd = all.nextSetBit(fd + 1)) {
                    int mask = POLLNVAL;
                    OpenFile f = files.fget(fd);
                    if (f != null) {
                        try {
                            if (register) {
                                wait.pollWait(f.fileWaitQueue());
                            }
                            mask = f.filePoll();
                        } finally {
                            f.putFile();
                        }
                    }
                    count += mark(mask, POLLIN_SET, in, fd, rin) + mark(mask, POLLOUT_SET, out, fd, rout)
                            + mark(mask, POLLEX_SET, ex, fd, rex);
                    if (count != 0) {
                        register = false;
                    }
                }
                register = false;
                if (count != 0 || clock.nanoTime() >= deadline || timeoutNs == 0) {
                    ret = count;
                    break;
                }
                if (Thread.currentThread().isInterrupted() || wait.sleep(deadline) == -ERESTARTSYS) {
                    ret = -ERESTARTNOHAND;
                    break;
                }
            }
        } finally {
            if (wait != null) {
                wait.freeWait();
            }
        }
        if (ret >= 0) {
            replace(in, rin);
            replace(out, rout);
            replace(ex, rex);
        }
        if (tv != null && timeoutNs != 0) { // poll_select_finish: the time that was left
            long left = Math.max(0, deadline - clock.nanoTime());
            tv[0] = left / 1_000_000_000L;
            tv[1] = (left % 1_000_000_000L) / 1_000L;
        }
        return ret;
    }

    private static int mark(int mask, int set, BitSet asked, int fd, BitSet result) {
        if ((mask & set) != 0 && asked != null && asked.get(fd)) {
            result.set(fd);
            return 1;
        }
        return 0;
    }

    private static void replace(BitSet target, BitSet result) {
        if (target != null) {
            target.clear();
            target.or(result);
        }
    }
}
