package io.vsocksim.fs;

import static io.vsocksim.uapi.Epoll.EPOLLERR;
import static io.vsocksim.uapi.Epoll.EPOLLHUP;
import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLLOUT;
import static io.vsocksim.uapi.Epoll.EPOLLRDNORM;
import static io.vsocksim.uapi.Epoll.EPOLLWRNORM;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EMFILE;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Errno.ERESTARTSYS;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Signal;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * An anonymous pipe (fs/pipe.c, {@code struct pipe_inode_info}): a ring of {@link #PIPE_DEF_BUFFERS}
 * page-sized buffers between a read end and a write end, each end a file of its own ({@link PipeFile}).
 *
 * <p>The rules, as {@code pipe_read}/{@code pipe_write} have them. The pipe is full when every slot of
 * the ring holds a buffer, whatever their lengths: a small write is merged into the last buffer if it
 * fits in its page, anything else starts a new page, so 64 KiB of data fill a fresh pipe and a write of
 * at most {@link #PIPE_BUF} bytes is never split (it merges whole or takes a new slot whole). A read
 * returns what is there (0 once no writer is left, EAGAIN on an empty O_NONBLOCK pipe) and blocks only
 * while the pipe is empty and a writer exists; a write blocks while the pipe is full, or returns what it
 * wrote so far (EAGAIN if nothing) on an O_NONBLOCK pipe. A write with no reader left fails with EPIPE
 * and sends SIGPIPE to the writer ({@code send_sig(SIGPIPE, current, 0)}), even after part of the data
 * went in. With O_DIRECT on the write end each write of up to a page is one packet, and a read takes
 * at most one packet, discarding what does not fit.
 *
 * <p>{@link #mutex} is {@code pipe->mutex}; readers wait on {@link #rdWait} and writers on
 * {@link #wrWait} with it released. SIM: buffers are heap arrays, not pages of the machine's allocator
 * (a pipe never runs out of memory and is not charged to the user: no {@code pipe-user-pages-soft});
 * waits are not exclusive, so every sleeper re-checks where Linux wakes one and lets it wake the next;
 * F_SETPIPE_SZ, FIONREAD, splice and notification pipes ({@code O_NOTIFICATION_PIPE}) are not modelled.
 */
@Linux(file = "include/linux/pipe_fs_i.h", fn = "struct pipe_inode_info")
public final class Pipe {
    /** {@code PIPE_DEF_BUFFERS}: slots of a new pipe's ring. */
    public static final int PIPE_DEF_BUFFERS = 16;
    /** {@code PIPE_BUF} (include/uapi/linux/limits.h): writes up to this size are atomic. */
    public static final int PIPE_BUF = 4096;
    /** {@code O_NOTIFICATION_PIPE}, the same bit as O_EXCL: a watch-queue pipe (not modelled). */
    public static final int O_NOTIFICATION_PIPE = 0x80;
    private static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;

    /** One slot of the ring ({@code struct pipe_buffer}). */
    private static final class PipeBuffer {
        /** The page: allocated on first use, kept for the slot's next buffers. */
        byte[] page;
        int offset;
        int len;
        /** {@code PIPE_BUF_FLAG_CAN_MERGE}: a later small write may append to this buffer. */
        boolean canMerge;
        /** {@code PIPE_BUF_FLAG_PACKET}: written in packet mode (O_DIRECT). */
        boolean packet;
    }

    private final ReentrantLock mutex = new Mutex();
    private final WaitQueueHead rdWait;
    private final WaitQueueHead wrWait;
    private final PipeBuffer[] bufs = new PipeBuffer[PIPE_DEF_BUFFERS];
    /** {@code ring_size - 1}. */
    private final int mask = PIPE_DEF_BUFFERS - 1;
    /** {@code max_usage}: slots that may hold data. */
    private final int maxUsage = PIPE_DEF_BUFFERS;
    // head and tail are u32 counters that wrap; written under mutex, read without it by poll and waiters.
    private volatile int head;
    private volatile int tail;
    private volatile int readers = 1;
    private volatile int writers = 1;
    /** {@code poll_usage}: someone polled, so every write wakes readers (epoll's edge-triggered users rely on it). */
    private volatile boolean pollUsage;

    private Pipe(Clock clock) {
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = new PipeBuffer();
        }
        this.rdWait = new WaitQueueHead(clock);
        this.wrWait = new WaitQueueHead(clock);
    }

    /**
     * pipe2(2): a new pipe whose read end is installed at the lowest free descriptor of {@code files} and
     * its write end at the next, written to {@code fds[0]} and {@code fds[1]}; O_CLOEXEC makes both
     * close-on-exec, O_NONBLOCK both non-blocking, O_DIRECT the write end packetized. 0, or
     * {@code -errno}: EINVAL for any other flag (and, SIM, for O_NOTIFICATION_PIPE), EMFILE without two
     * free descriptors, EFAULT for a missing {@code fds} (no descriptor is used up then).
     */
    @Linux(file = "fs/pipe.c", fn = "do_pipe2")
    @Linux(file = "fs/pipe.c", fn = "__do_pipe_flags")
    @Linux(file = "fs/pipe.c", fn = "create_pipe_files")
    public static int create(FdTable files, int[] fds, int flags, Clock clock) {
        if ((flags & ~(Fcntl.O_CLOEXEC | Fcntl.O_NONBLOCK | Fcntl.O_DIRECT | O_NOTIFICATION_PIPE)) != 0
                || (flags & O_NOTIFICATION_PIPE) != 0) {
            return -EINVAL;
        }
        Pipe pipe = new Pipe(clock);
        PipeFile r = new PipeFile(pipe, Fcntl.O_RDONLY, flags & Fcntl.O_NONBLOCK);
        PipeFile w = new PipeFile(pipe, Fcntl.O_WRONLY, flags & (Fcntl.O_NONBLOCK | Fcntl.O_DIRECT));
        int err = !files.canAllocate(2) ? -EMFILE : fds == null || fds.length < 2 ? -EFAULT : 0;
        int fdr = err < 0 ? err : files.install(r, flags & Fcntl.O_CLOEXEC);
        if (fdr < 0) {
            r.putFile();
            w.putFile();
            return fdr;
        }
        int fdw = files.install(w, flags & Fcntl.O_CLOEXEC);
        if (fdw < 0) { // another thread took the last descriptor meanwhile
            files.close(fdr);
            w.putFile();
            return fdw;
        }
        fds[0] = fdr;
        fds[1] = fdw;
        return 0;
    }

    private static boolean pipeEmpty(int head, int tail) {
        return head == tail;
    }

    /** {@code pipe_full}: every usable slot taken ({@code head - tail}, unsigned, at least the limit). */
    private static boolean pipeFull(int head, int tail, int limit) {
        return Integer.compareUnsigned(head - tail, limit) >= 0;
    }

    /** {@code pipe_readable}: data, or no writer left (read without the mutex). */
    private boolean pipeReadable() {
        return !pipeEmpty(head, tail) || writers == 0;
    }

    /** {@code pipe_writable}: room, or no reader left (read without the mutex). */
    private boolean pipeWritable() {
        return !pipeFull(head, tail, maxUsage) || readers == 0;
    }

    /** Bytes in the pipe now (diagnostics and tests; FIONREAD's count). */
    public int bytes() {
        mutex.lock();
        try {
            int count = 0;
            for (int t = tail; t != head; t++) {
                count += bufs[t & mask].len;
            }
            return count;
        } finally {
            mutex.unlock();
        }
    }

    /** {@code pipe_read} into {@code to} for the read end {@code filp}. */
    @Linux(file = "fs/pipe.c", fn = "pipe_read")
    private long read(PipeFile filp, ByteBuffer to) {
        int totalLen = to.remaining();
        if (totalLen == 0) {
            return 0; // a null read succeeds
        }
        long ret = 0;
        boolean wasFull;
        boolean wakeNextReader = false;
        mutex.lock();
        try {
            wasFull = pipeFull(head, tail, maxUsage);
            for (;;) {
                int h = head;
                int t = tail;
                if (!pipeEmpty(h, t)) {
                    PipeBuffer buf = bufs[t & mask];
                    int chars = Math.min(buf.len, totalLen);
                    to.put(buf.page, buf.offset, chars);
                    ret += chars;
                    buf.offset += chars;
                    buf.len -= chars;
                    if (buf.packet) { // one packet per read: the rest of it is dropped
                        totalLen = chars;
                        buf.len = 0;
                    }
                    if (buf.len == 0) {
                        tail = ++t; // pipe_update_tail
                    }
                    totalLen -= chars;
                    if (totalLen == 0) {
                        break;
                    }
                    if (!pipeEmpty(h, t)) {
                        continue;
                    }
                }
                if (writers == 0 || ret != 0) {
                    break;
                }
                if (filp.nonBlocking()) {
                    ret = -EAGAIN;
                    break;
                }
                long r;
                mutex.unlock();
                try {
                    if (wasFull) {
                        wrWait.wakeUp(EPOLLOUT | EPOLLWRNORM);
                    }
                    r = rdWait.waitEventInterruptibleTimeout(this::pipeReadable, WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
                } finally {
                    mutex.lock();
                }
                if (r < 0) {
                    return -ERESTARTSYS; // nothing read; the wake-ups are done
                }
                wasFull = pipeFull(head, tail, maxUsage);
                wakeNextReader = true;
            }
            if (pipeEmpty(head, tail)) {
                wakeNextReader = false;
            }
        } finally {
            mutex.unlock();
        }
        if (wasFull) {
            wrWait.wakeUp(EPOLLOUT | EPOLLWRNORM);
        }
        if (wakeNextReader) {
            rdWait.wakeUp(EPOLLIN | EPOLLRDNORM);
        }
        return ret;
    }

    /** {@code pipe_write} from {@code from} for the write end {@code filp}; SIGPIPE goes to {@code sendSig}. */
    @Linux(file = "fs/pipe.c", fn = "pipe_write")
    private long write(PipeFile filp, ByteBuffer from, IntConsumer sendSig) {
        if (!from.hasRemaining()) {
            return 0; // a null write succeeds, reader or not
        }
        long ret = 0;
        boolean wasEmpty = false;
        boolean wakeNextWriter = false;
        mutex.lock();
        try {
            out:
            {
                if (readers == 0) {
                    sendSig.accept(Signal.SIGPIPE);
                    ret = -EPIPE;
                    break out;
                }
                int h = head;
                wasEmpty = pipeEmpty(h, tail);
                int chars = from.remaining() & (PAGE_SIZE - 1);
                if (chars != 0 && !wasEmpty) { // the tail of the write may join the last buffer
                    PipeBuffer buf = bufs[(h - 1) & mask];
                    int offset = buf.offset + buf.len;
                    if (buf.canMerge && offset + chars <= PAGE_SIZE) {
                        from.get(buf.page, offset, chars);
                        buf.len += chars;
                        ret = chars;
                        if (!from.hasRemaining()) {
                            break out;
                        }
                    }
                }
                for (;;) {
                    if (readers == 0) {
                        sendSig.accept(Signal.SIGPIPE);
                        if (ret == 0) {
                            ret = -EPIPE;
                        }
                        break;
                    }
                    h = head;
                    if (!pipeFull(h, tail, maxUsage)) {
                        head = h + 1; // the slot is taken before it is filled
                        PipeBuffer buf = bufs[h & mask];
                        if (buf.page == null) {
                            buf.page = new byte[PAGE_SIZE];
                        }
                        buf.offset = 0;
                        buf.packet = (filp.fileFlags() & Fcntl.O_DIRECT) != 0; // is_packetized
                        buf.canMerge = !buf.packet;
                        int copied = Math.min(PAGE_SIZE, from.remaining());
                        from.get(buf.page, 0, copied);
                        buf.len = copied;
                        ret += copied;
                        if (!from.hasRemaining()) {
                            break;
                        }
                    }
                    if (!pipeFull(h, tail, maxUsage)) {
                        continue;
                    }
                    if (filp.nonBlocking()) {
                        if (ret == 0) {
                            ret = -EAGAIN;
                        }
                        break;
                    }
                    if (Thread.currentThread().isInterrupted()) { // signal_pending
                        if (ret == 0) {
                            ret = -ERESTARTSYS;
                        }
                        break;
                    }
                    mutex.unlock();
                    try {
                        if (wasEmpty) {
                            rdWait.wakeUp(EPOLLIN | EPOLLRDNORM);
                        }
                        wrWait.waitEventInterruptibleTimeout(this::pipeWritable, WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
                    } finally {
                        mutex.lock();
                    }
                    wasEmpty = pipeEmpty(head, tail);
                    wakeNextWriter = true;
                }
            }
            if (pipeFull(head, tail, maxUsage)) {
                wakeNextWriter = false;
            }
        } finally {
            mutex.unlock();
        }
        if (wasEmpty || pollUsage) {
            rdWait.wakeUp(EPOLLIN | EPOLLRDNORM);
        }
        if (wakeNextWriter) {
            wrWait.wakeUp(EPOLLOUT | EPOLLWRNORM);
        }
        return ret;
    }

    /** {@code pipe_poll} for {@code filp}: what its end can do now. */
    @Linux(file = "fs/pipe.c", fn = "pipe_poll")
    private int poll(PipeFile filp) {
        pollUsage = true;
        int h = head;
        int t = tail;
        int mask = 0;
        if (filp.reads()) {
            if (!pipeEmpty(h, t)) {
                mask |= EPOLLIN | EPOLLRDNORM;
            }
            if (writers == 0) { // a pipe2 file's f_pipe (0) never equals w_counter (1)
                mask |= EPOLLHUP;
            }
        } else {
            if (!pipeFull(h, t, maxUsage)) {
                mask |= EPOLLOUT | EPOLLWRNORM;
            }
            if (readers == 0) {
                mask |= EPOLLERR;
            }
        }
        return mask;
    }

    /** {@code pipe_release}: one end fewer; when one side is gone and the other is not, both queues wake. */
    @Linux(file = "fs/pipe.c", fn = "pipe_release")
    private void release(PipeFile filp) {
        boolean wake;
        mutex.lock();
        try {
            if (filp.reads()) {
                readers--;
            } else {
                writers--;
            }
            wake = (readers == 0) != (writers == 0);
        } finally {
            mutex.unlock();
        }
        if (wake) {
            rdWait.wakeUp();
            wrWait.wakeUp();
        }
    }

    /**
     * One end of a pipe: the file a descriptor from pipe2(2) refers to, open O_RDONLY (the read end) or
     * O_WRONLY (the write end), with {@code pipefifo_fops}. A read of the write end or a write to the read
     * end fails with EBADF ({@code vfs_read}/{@code vfs_write} check the mode first).
     */
    @Linux(file = "fs/pipe.c", fn = "pipefifo_fops")
    public static final class PipeFile extends PseudoFile {
        private final Pipe pipe;

        private PipeFile(Pipe pipe, int accessMode, int flags) {
            super(accessMode, flags);
            this.pipe = pipe;
        }

        /** The pipe both ends share. */
        public Pipe pipe() {
            return pipe;
        }

        /** FMODE_READ: this is the read end. */
        boolean reads() {
            return (fileFlags() & Fcntl.O_ACCMODE) == Fcntl.O_RDONLY;
        }

        /** vfs_read's FMODE_READ check (EBADF on the write end), then {@code pipe_read}. */
        @Override
        public long fileRead(ByteBuffer dst) {
            return reads() ? pipe.read(this, dst) : -EBADF;
        }

        /** A write by no task: a SIGPIPE it raises goes nowhere (processes call {@link #fileWrite(ByteBuffer, IntConsumer)}). */
        @Override
        public long fileWrite(ByteBuffer src) {
            return fileWrite(src, sig -> { });
        }

        /** vfs_write's FMODE_WRITE check (EBADF on the read end), then {@code pipe_write}. */
        @Override
        public long fileWrite(ByteBuffer src, IntConsumer sendSig) {
            return reads() ? -EBADF : pipe.write(this, src, sendSig);
        }

        @Override
        public int filePoll() {
            return pipe.poll(this);
        }

        /** The read end's pollers wait on {@code rd_wait}, the write end's on {@code wr_wait} ({@code poll_wait}). */
        @Override
        public WaitQueueHead fileWaitQueue() {
            return reads() ? pipe.rdWait : pipe.wrWait;
        }

        @Override
        void release() {
            pipe.release(this);
        }
    }
}
