package io.vsocksim.user.nio;

import io.vsocksim.fs.EventFd;
import io.vsocksim.sim.UserProcess;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The descriptor behind one channel and the system calls both channel kinds make on it, all through the
 * process's descriptor face ({@link UserProcess}): the AF_VSOCK socket, O_NONBLOCK, the addresses, and the
 * wait a blocking accept or connect makes.
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

    private final UserProcess proc;
    private final int fd;
    // Guarded by this.
    private int wakeFd = -1;
    private boolean woken;
    private boolean closed;

    private ChannelFd(UserProcess proc, int fd) {
        this.proc = proc;
        this.fd = fd;
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

    /**
     * Waits, as the JDK's {@code park(event)} does, until the socket reports one of {@code events} or
     * {@link #wake()} is called: poll(2) on the socket and the wake-up eventfd, without a timeout. Returns
     * the poll result (at once, 1, once woken) or {@code -errno}: EINTR when the thread is interrupted.
     */
    int park(int events) {
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
        return proc.poll(fds, fds.length, -1);
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
