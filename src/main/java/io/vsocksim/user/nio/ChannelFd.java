package io.vsocksim.user.nio;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.vsocksim.fs.EventFd;
import io.vsocksim.kernel.Clock;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.Channel;

/**
 * The descriptor behind one channel and the system calls both channel kinds make on it, all through the
 * process's descriptor face ({@link UserProcess}): the AF_VSOCK socket, O_NONBLOCK, the addresses, and the
 * waits of a blocking accept or connect and of the socket adaptors' timed calls.
 *
 * <p>Waking a blocked thread on close. The JDK dup2's a dead socket over the descriptor and signals the
 * blocked thread; here a thread that must wait for the socket to become ready ({@link #park}) polls the
 * socket together with a wake-up eventfd of this channel, made on first use, and {@link #wake()} writes to
 * that eventfd. Reads and writes block in the kernel instead (the JDK's blocking mode), and close wakes them
 * with shutdown(2), whose state change the socket's sleepers see.
 */
final class ChannelFd {
    /** The JDK's {@code IOStatus.UNAVAILABLE}: EAGAIN, nothing to do now. */
    static final int UNAVAILABLE = -2;
    /** The JDK's {@code IOStatus.INTERRUPTED}: EINTR, the call may be retried. */
    static final int INTERRUPTED = -3;

    /** At most what available() peeks when the kernel has no SIOCINQ for vsock, as the java.net face. */
    private static final int PEEK_LIMIT = 64 * 1024;

    private final UserProcess proc;
    private final int fd;
    private final Clock clock;
    private byte[] peekBuffer; // made by the first available() that peeks; guarded by the channel's stateLock
    // Guarded by this.
    private int wakeFd = -1;
    private boolean woken;
    private boolean closed;

    private ChannelFd(UserProcess proc, int fd) {
        this.proc = proc;
        this.fd = fd;
        this.clock = SimInternals.kernel(proc.machine()).clock();
    }

    /** socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0) in {@code proc}, non-blocking if asked. */
    static ChannelFd open(UserProcess proc, boolean nonBlocking) throws IOException {
        int type = Sock.SOCK_STREAM | Sock.SOCK_CLOEXEC | (nonBlocking ? Sock.SOCK_NONBLOCK : 0);
        return new ChannelFd(proc, check(proc.socket(VmSockets.AF_VSOCK, type, 0)));
    }

    /** A descriptor accept4(2) returned. */
    static ChannelFd adopt(UserProcess proc, int fd) {
        return new ChannelFd(proc, fd);
    }

    /** Throws {@link NioErrors#socketError} for a negative {@code ret}, else returns it. */
    static int check(long ret) throws IOException {
        if (ret < 0) {
            throw NioErrors.socketError((int) -ret);
        }
        return (int) ret;
    }

    /**
     * A data call's result as the JDK's I/O status: the count, {@link #UNAVAILABLE} for EAGAIN,
     * {@link #INTERRUPTED} for EINTR, or another {@code -errno} for the caller to turn into an exception.
     */
    static long status(long ret) {
        return ret == -Errno.EAGAIN ? UNAVAILABLE : ret == -Errno.EINTR ? INTERRUPTED : ret;
    }

    /** True if the call may be retried in blocking mode ({@code IOStatus.okayToRetry}). */
    static boolean okayToRetry(long n) {
        return n == UNAVAILABLE || n == INTERRUPTED;
    }

    /** A count for the caller: 0 for a call that did nothing ({@code IOStatus.normalize}). */
    static long normalize(long n) {
        return okayToRetry(n) ? 0 : n;
    }

    UserProcess process() {
        return proc;
    }

    int fd() {
        return fd;
    }

    /** fcntl(F_SETFL) with O_NONBLOCK on or off, the other status flags kept. */
    void setNonBlocking(boolean on) throws IOException {
        int flags = check(proc.fcntl(fd, Fcntl.F_GETFL, 0));
        check(proc.fcntl(fd, Fcntl.F_SETFL, on ? flags | Fcntl.O_NONBLOCK : flags & ~Fcntl.O_NONBLOCK));
    }

    /** bind(2). */
    void bind(VsockAddress a) throws IOException {
        check(proc.bind(fd, a.cid(), a.port()));
    }

    /** getsockname(2) or getpeername(2) as an address. */
    VsockAddress address(boolean peer) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SockaddrVm.SIZE);
        int[] len = {SockaddrVm.SIZE};
        check(peer ? proc.getpeername(fd, b, len) : proc.getsockname(fd, b, len));
        SockaddrVm[] out = new SockaddrVm[1];
        check(SockaddrVm.decode(b, 0, len[0], out));
        return VsockAddress.of(out[0]);
    }

    /** getsockopt(2) of an {@code int}. */
    int getInt(int level, int name) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        check(proc.getsockopt(fd, level, name, b, Integer.BYTES));
        return b.getInt(0);
    }

    /** One try of a call that may have to wait: a result, or {@link #UNAVAILABLE} / {@link #INTERRUPTED}. */
    @FunctionalInterface
    interface Attempt {
        long run() throws IOException;
    }

    /**
     * The JDK's wait loops ({@code finishTimedConnect}, {@code timedRead}, {@code blockingAccept} and their
     * untimed forms): tries, and while the try must be retried and {@code ch} is open, parks for {@code event}
     * (after EAGAIN) and tries again. With {@code nanos > 0} the wait is bounded, on the machine's clock (the
     * JDK measures the JVM's): past it, {@code SocketTimeoutException(timedOut)}.
     */
    long await(Channel ch, int event, long nanos, String timedOut, Attempt a) throws IOException {
        long start = nanos > 0 ? clock.nanoTime() : 0;
        long n = a.run();
        while (okayToRetry(n) && ch.isOpen()) {
            long left = 0;
            if (nanos > 0) {
                left = nanos - (clock.nanoTime() - start);
                if (left <= 0) {
                    throw new SocketTimeoutException(timedOut);
                }
            }
            if (n == UNAVAILABLE) {
                int r = park(event, left);
                if (r < 0 && r != -Errno.EINTR) {
                    throw NioErrors.ioError(-r);
                }
            }
            n = a.run();
        }
        return n;
    }

    /**
     * Waits, as the JDK's {@code park(event, nanos)} does, until the socket reports one of {@code events},
     * {@code nanos} pass (0: no limit; rounded up to whole milliseconds) or {@link #wake()} is called: poll(2)
     * on the socket and the wake-up eventfd. Returns the poll result (at once, 1, once woken) or
     * {@code -errno}: EINTR when the thread is interrupted.
     */
    int park(int events, long nanos) {
        long millis = -1;
        if (nanos > 0) {
            millis = NANOSECONDS.toMillis(nanos);
            if (nanos > MILLISECONDS.toNanos(millis)) {
                millis++;
            }
        }
        int w;
        synchronized (this) {
            if (woken) {
                return 1;
            }
            if (wakeFd < 0) {
                int efd = proc.eventfd(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
                if (efd < 0) {
                    return efd;
                }
                wakeFd = efd;
            }
            w = wakeFd;
        }
        PollFd[] fds = {new PollFd(fd, events), new PollFd(w, Poll.POLLIN)};
        return proc.poll(fds, fds.length, millis);
    }

    /**
     * Bytes readable without blocking ({@code Net.available}: ioctl(FIONREAD)). 6.12.117's vsock answers
     * only SIOCOUTQ there (ENOTTY), so, as the java.net face and junixsocket do, this then peeks
     * ({@code recv(MSG_PEEK | MSG_DONTWAIT)}, at most 64 KiB), whose reset is a read's ("Connection
     * reset"). Other errors are the JDK's {@code handleSocketError}.
     */
    int available() throws IOException {
        IntBuffer count = IntBuffer.allocate(1);
        long r = proc.ioctl(fd, Sock.SIOCINQ, count);
        if (r != -Errno.ENOTTY) {
            check(r);
            return count.get(0);
        }
        if (peekBuffer == null) {
            peekBuffer = new byte[PEEK_LIMIT];
        }
        r = proc.recv(fd, ByteBuffer.wrap(peekBuffer), Sock.MSG_PEEK | Sock.MSG_DONTWAIT);
        if (r < 0 && NioErrors.isReset((int) -r)) {
            throw NioErrors.connectionReset();
        }
        return r == -Errno.EAGAIN ? 0 : check(r);
    }

    /** Ends every {@link #park} now and to come (the channel is closing). */
    synchronized void wake() {
        woken = true;
        if (wakeFd >= 0) {
            ByteBuffer one = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
            proc.write(wakeFd, one); // EAGAIN only if the counter is already huge: still readable
        }
    }

    /** shutdown(2), its result ({@code 0} or {@code -errno}) returned for the caller to judge. */
    int shutdown(int how) {
        return proc.shutdown(fd, how);
    }

    /** close(2) of the socket and of the wake-up eventfd, once. */
    synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (wakeFd >= 0) {
            proc.close(wakeFd);
        }
        int rc = proc.close(fd);
        if (rc < 0 && rc != -Errno.EBADF) { // EBADF: the process has exited and closed it already
            throw NioErrors.ioError(-rc);
        }
    }
}
