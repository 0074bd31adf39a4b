package io.vsocksim.fs;

import static io.vsocksim.uapi.Epoll.EPOLLERR;
import static io.vsocksim.uapi.Epoll.EPOLLHUP;
import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLLOUT;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EINVAL;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.Fcntl;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An eventfd ({@code struct eventfd_ctx}, fs/eventfd.c): a u64 counter behind a descriptor. write(2) adds
 * an 8-byte value to it and wakes readers with EPOLLIN; read(2) returns it and resets it to 0 (or, with
 * {@link #EFD_SEMAPHORE}, returns 1 and decrements it) and wakes writers with EPOLLOUT. A read of a zero
 * counter and a write that would reach {@code ULLONG_MAX} block, or fail with EAGAIN on an O_NONBLOCK file.
 * poll reports EPOLLIN while the counter is non-zero and EPOLLOUT while one more write of 1 fits. It is what
 * the JDK's epoll selector writes to in {@code wakeup()}.
 *
 * <p>{@link #lock} stands for {@code ctx->wqh.lock}, which the kernel holds around every change of the
 * counter; waiters sleep on {@link #wqh} with it released ({@code wait_event_interruptible_locked_irq}).
 * Values cross the user boundary in the machine's byte order, little-endian (x86-64).
 */
@Linux(file = "fs/eventfd.c", fn = "struct eventfd_ctx")
public final class EventFd extends AnonInodeFile {
    /** {@code EFD_SEMAPHORE}: each read takes 1 from the counter. */
    public static final int EFD_SEMAPHORE = 1;
    /** {@code EFD_CLOEXEC}, the same bit as O_CLOEXEC. */
    public static final int EFD_CLOEXEC = Fcntl.O_CLOEXEC;
    /** {@code EFD_NONBLOCK}, the same bit as O_NONBLOCK. */
    public static final int EFD_NONBLOCK = Fcntl.O_NONBLOCK;
    /** {@code EFD_FLAGS_SET}: what eventfd2 accepts. */
    static final int EFD_FLAGS_SET = EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK;
    /** {@code ULLONG_MAX}, the u64 all-ones, held in a long. */
    private static final long ULLONG_MAX = -1L;
    private static final int U64 = Long.BYTES;

    private final WaitQueueHead wqh;
    private final ReentrantLock lock = new Mutex();
    private final boolean semaphore;
    /** u64: compared unsigned. Written under lock, read by poll without it ({@code READ_ONCE}). */
    private volatile long count;

    private EventFd(long count, int flags, Clock clock) {
        super(flags & Fcntl.O_NONBLOCK); // anon inodes keep only the access mode and O_NONBLOCK
        this.count = count;
        this.semaphore = (flags & EFD_SEMAPHORE) != 0;
        this.wqh = new WaitQueueHead(clock);
    }

    /**
     * eventfd2(2): a new eventfd in {@code files} holding {@code initval} (an unsigned int), with
     * EFD_CLOEXEC/EFD_NONBLOCK/EFD_SEMAPHORE from {@code flags}. The descriptor, EINVAL for other flags,
     * or EMFILE.
     */
    @Linux(file = "fs/eventfd.c", fn = "do_eventfd")
    public static int create(FdTable files, int initval, int flags, Clock clock) {
        if ((flags & ~EFD_FLAGS_SET) != 0) {
            return -EINVAL;
        }
        return files.install(new EventFd(Integer.toUnsignedLong(initval), flags, clock), flags & EFD_CLOEXEC);
    }

    /** The counter now (u64 in a long), for diagnostics and tests ({@code eventfd_show_fdinfo}). */
    public long count() {
        return count;
    }

    /**
     * read(2): 8 bytes, the counter (or 1 in semaphore mode), written at {@code dst}'s position. EINVAL
     * for fewer than 8 bytes of room, EAGAIN on an empty non-blocking eventfd, {@code -ERESTARTSYS} if a
     * signal ends the wait.
     */
    @Linux(file = "fs/eventfd.c", fn = "eventfd_read")
    @Override
    public long fileRead(ByteBuffer dst) {
        if (dst.remaining() < U64) {
            return -EINVAL;
        }
        long ucnt;
        lock.lock();
        try {
            if (count == 0) {
                if (nonBlocking()) {
                    return -EAGAIN;
                }
                long r = wqh.waitEventInterruptibleTimeout(lock, () -> count != 0, WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
                if (r < 0) {
                    return r;
                }
            }
            ucnt = semaphore ? 1 : count; // eventfd_ctx_do_read
            count -= ucnt;
        } finally {
            lock.unlock();
        }
        wqh.wakeUp(EPOLLOUT);
        dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).putLong(ucnt);
        dst.position(dst.position() + U64);
        return U64;
    }

    /**
     * write(2): adds the u64 at {@code src}'s position to the counter (8 bytes of {@code src} are
     * consumed). EINVAL for fewer than 8 bytes or the value {@code ULLONG_MAX}; a sum that would reach
     * {@code ULLONG_MAX} waits for a read, or is EAGAIN on a non-blocking eventfd.
     */
    @Linux(file = "fs/eventfd.c", fn = "eventfd_write")
    @Override
    public long fileWrite(ByteBuffer src) {
        if (src.remaining() < U64) {
            return -EINVAL;
        }
        long ucnt = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (ucnt == ULLONG_MAX) {
            return -EINVAL;
        }
        lock.lock();
        try {
            if (!fits(ucnt)) {
                if (nonBlocking()) {
                    return -EAGAIN;
                }
                long r = wqh.waitEventInterruptibleTimeout(lock, () -> fits(ucnt), WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
                if (r < 0) {
                    return r;
                }
            }
            count += ucnt;
        } finally {
            lock.unlock();
        }
        src.position(src.position() + U64);
        wqh.wakeUp(EPOLLIN);
        return U64;
    }

    /** {@code ULLONG_MAX - count > ucnt}, unsigned. */
    private boolean fits(long ucnt) {
        return Long.compareUnsigned(ULLONG_MAX - count, ucnt) > 0;
    }

    /** {@code eventfd_poll}. */
    @Linux(file = "fs/eventfd.c", fn = "eventfd_poll")
    @Override
    public int filePoll() {
        long c = count;
        int events = 0;
        if (c != 0) {
            events |= EPOLLIN;
        }
        if (c == ULLONG_MAX) {
            events |= EPOLLERR;
        }
        if (Long.compareUnsigned(ULLONG_MAX - 1, c) > 0) {
            events |= EPOLLOUT;
        }
        return events;
    }

    @Override
    public WaitQueueHead fileWaitQueue() {
        return wqh;
    }

    /** The last reference wakes pollers with EPOLLHUP ({@code eventfd_release}). */
    @Linux(file = "fs/eventfd.c", fn = "eventfd_release")
    @Override
    void release() {
        wqh.wakeUp(EPOLLHUP);
    }
}
