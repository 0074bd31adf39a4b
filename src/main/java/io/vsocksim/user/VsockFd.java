package io.vsocksim.user;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.ECONNABORTED;
import static io.vsocksim.uapi.Errno.EINPROGRESS;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.ENOTTY;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.vsocksim.kernel.Clock;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;

/**
 * One vsock descriptor of a process as the JDK's native socket code uses one ({@code sun.nio.ch.Net},
 * {@code SocketDispatcher}, {@code IOUtil}): each method is one system call of {@link UserProcess}
 * whose result is a count, an {@code IOStatus} code (UNAVAILABLE for EAGAIN and EINPROGRESS,
 * INTERRUPTED for EINTR) or the exception {@code JdkErrors} gives, plus the JDK's wait loops.
 *
 * <p>EINTR: the simulator's calls end with it on a Java interrupt and leave the interrupt pending.
 * When the socket is closing it is close()'s wake-up and the loops stop; otherwise it is an interrupt
 * java.net ignores, so the owner sets it aside and the call is made again.
 */
final class VsockFd {
    /** {@code sun.nio.ch.IOStatus}: end of stream, would block, interrupted. */
    static final int EOF = -1;
    static final int UNAVAILABLE = -2;
    static final int INTERRUPTED = -3;

    /** How much available() peeks at most when the kernel has no SIOCINQ for vsock. */
    private static final int PEEK_LIMIT = 64 * 1024;

    /** The socket a descriptor belongs to, as the calls need it. */
    interface Owner {
        /** False once close() began: an EINTR is then its wake-up. */
        boolean isOpen();

        /** Keeps a Java interrupt met by the calling thread, to restore when its java.net call ends. */
        void setAsideInterrupt();
    }

    /** One system call, returning its C result. */
    @FunctionalInterface
    private interface Call {
        long run();
    }

    /** One try of a call: a result, or UNAVAILABLE / INTERRUPTED to wait and try again. */
    @FunctionalInterface
    interface Attempt {
        int run() throws IOException;
    }

    private final UserProcess process;
    private final int fd;
    private final Owner owner;
    private final Clock clock;
    private byte[] peekBuffer;

    VsockFd(UserProcess process, int fd, Owner owner) {
        this.process = process;
        this.fd = fd;
        this.owner = owner;
        this.clock = SimInternals.kernel(process.machine()).clock();
    }

    /** The descriptor number. */
    int num() {
        return fd;
    }

    /** The process it belongs to. */
    UserProcess process() {
        return process;
    }

    static boolean okayToRetry(int n) {
        return n == UNAVAILABLE || n == INTERRUPTED;
    }

    /** EAGAIN and EINTR as IOStatus codes; 0 for an error to throw. */
    private static int status(long r) {
        return r == -EAGAIN ? UNAVAILABLE : r == -EINTR ? INTERRUPTED : 0;
    }

    /** Runs {@code call}, made again after a Java interrupt that is not close()'s (see the class comment). */
    private long syscall(Call call) {
        for (;;) {
            long r = call.run();
            if (r != -EINTR) {
                return r;
            }
            boolean javaInterrupt = Thread.interrupted(); // the simulator leaves it pending
            if (!owner.isOpen() || !javaInterrupt) {
                return r; // close()'s wake-up, or a signal of the process's own: INTERRUPTED
            }
            owner.setAsideInterrupt();
        }
    }

    // ---- waiting ------------------------------------------------------------------------------------

    /** {@code Net.poll}: waits up to {@code nanos} (0: forever) for {@code event}. */
    void park(int event, long nanos) throws IOException {
        long millis = -1;
        if (nanos > 0) {
            millis = NANOSECONDS.toMillis(nanos);
            if (nanos > MILLISECONDS.toNanos(millis)) {
                millis++; // round up: never park shorter than asked
            }
        }
        long ms = millis;
        int r = (int) syscall(() -> process.poll(fd, event, ms));
        if (r < 0 && r != -EINTR) {
            throw JdkErrors.forOther(-r);
        }
    }

    /** Tries, parking in poll for {@code event} between tries, until done or closed (the JDK's untimed loops). */
    int untimed(Attempt a, int event) throws IOException {
        int n = a.run();
        while (okayToRetry(n) && owner.isOpen()) {
            park(event, 0);
            n = a.run();
        }
        return n;
    }

    /**
     * Tries on a non-blocking descriptor, parking for what is left of {@code nanos} on the machine's
     * clock, until done or closed; then {@code SocketTimeoutException(timedOut)} (the JDK's timed loops).
     */
    int timed(Attempt a, int event, long nanos, String timedOut) throws IOException {
        long start = clock.nanoTime();
        int n = a.run();
        while (n == UNAVAILABLE && owner.isOpen()) {
            long remaining = nanos - (clock.nanoTime() - start);
            if (remaining <= 0) {
                throw new SocketTimeoutException(timedOut);
            }
            park(event, remaining);
            n = a.run();
        }
        return n;
    }

    /** fcntl(F_SETFL) with O_NONBLOCK set or cleared ({@code IOUtil.configureBlocking}). */
    void setNonBlocking(boolean on) throws SocketException {
        long fl = process.fcntl(fd, Fcntl.F_GETFL, 0);
        long r = fl < 0 ? fl : process.fcntl(fd, Fcntl.F_SETFL, on ? fl | Fcntl.O_NONBLOCK : fl & ~Fcntl.O_NONBLOCK);
        if (r < 0) {
            throw JdkErrors.forOther((int) -r);
        }
    }

    // ---- data ---------------------------------------------------------------------------------------

    /** recv(2) ({@code SocketDispatcher.read0}): bytes, EOF, UNAVAILABLE or INTERRUPTED. */
    int read(byte[] b, int off, int len) throws SocketException {
        ByteBuffer dst = ByteBuffer.wrap(b, off, len);
        long n = syscall(() -> process.recv(fd, dst, 0));
        if (n > 0) {
            return (int) n;
        }
        if (n == 0) {
            return EOF;
        }
        int st = status(n);
        if (st != 0) {
            return st;
        }
        throw JdkErrors.forRead((int) -n);
    }

    /** send(2) with MSG_NOSIGNAL (the JVM ignores SIGPIPE): bytes, UNAVAILABLE or INTERRUPTED. */
    int write(byte[] b, int off, int len) throws SocketException {
        ByteBuffer src = ByteBuffer.wrap(b, off, len);
        long n = syscall(() -> process.send(fd, src, Sock.MSG_NOSIGNAL));
        if (n >= 0) {
            return (int) n;
        }
        int st = status(n);
        if (st != 0) {
            return st;
        }
        throw JdkErrors.forOther((int) -n);
    }

    /**
     * Bytes readable without blocking. The JDK asks ioctl(FIONREAD); vsock in 6.12.117 answers only
     * SIOCOUTQ there (ENOTTY), so, as junixsocket does for vsock, the face then peeks
     * ({@code recv(MSG_PEEK | MSG_DONTWAIT)}) and the count is at most 64 KiB.
     */
    int available() throws SocketException {
        IntBuffer n = IntBuffer.allocate(1);
        long r = process.ioctl(fd, Sock.SIOCINQ, n);
        if (r >= 0) {
            return n.get(0);
        }
        if (r != -ENOTTY) {
            throw JdkErrors.forOther((int) -r);
        }
        if (peekBuffer == null) {
            peekBuffer = new byte[PEEK_LIMIT];
        }
        r = process.recv(fd, ByteBuffer.wrap(peekBuffer), Sock.MSG_PEEK | Sock.MSG_DONTWAIT);
        if (r == -EAGAIN || r == 0) {
            return 0;
        }
        if (r < 0) {
            throw JdkErrors.forRead((int) -r);
        }
        return (int) r;
    }

    // ---- connection ---------------------------------------------------------------------------------

    /** connect(2) ({@code Net.connect}): 1 when connected, UNAVAILABLE while in progress, or INTERRUPTED. */
    int connect(VsockAddress to) throws IOException {
        long r = syscall(() -> process.connect(fd, to.cid(), to.port()));
        if (r == 0) {
            return 1;
        }
        if (r == -EINPROGRESS) {
            return UNAVAILABLE;
        }
        if (r == -EINTR) {
            return INTERRUPTED;
        }
        throw JdkErrors.forConnect((int) -r);
    }

    /**
     * {@code Net.pollConnect(fd, 0)}: 1 once connected, else UNAVAILABLE; the pending error
     * ({@code SO_ERROR}) is thrown as connect's, a hang-up as ENOTCONN.
     */
    int pollConnect() throws IOException {
        int ev = (int) syscall(() -> process.poll(fd, Poll.POLLOUT, 0));
        if (ev < 0) {
            if (ev == -EINTR) {
                return UNAVAILABLE;
            }
            throw JdkErrors.forConnect(-ev);
        }
        if (ev == 0) {
            return UNAVAILABLE;
        }
        ByteBuffer err = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        int r = process.getsockopt(fd, Sock.SOL_SOCKET, Sock.SO_ERROR, err, 4);
        int errno = r < 0 ? -r : err.getInt(0);
        if (errno != 0) {
            throw JdkErrors.forConnect(errno);
        }
        if ((ev & Poll.POLLHUP) != 0) {
            throw JdkErrors.forConnect(ENOTCONN);
        }
        return 1;
    }

    /** bind(2). */
    void bind(VsockAddress at) throws IOException {
        int r = process.bind(fd, at.cid(), at.port());
        if (r < 0) {
            throw JdkErrors.forConnect(-r);
        }
    }

    /** listen(2). */
    void listen(int backlog) throws IOException {
        int r = process.listen(fd, backlog);
        if (r < 0) {
            throw JdkErrors.forConnect(-r);
        }
    }

    /** accept4(2) ({@code Net.accept}): the new descriptor, UNAVAILABLE or INTERRUPTED; ECONNABORTED is retried. */
    int accept() throws IOException {
        for (;;) {
            long r = syscall(() -> process.accept4(fd, Sock.SOCK_CLOEXEC));
            if (r >= 0) {
                return (int) r;
            }
            if (r != -ECONNABORTED) {
                int st = status(r);
                if (st != 0) {
                    return st;
                }
                throw JdkErrors.forAccept((int) -r);
            }
        }
    }

    /** getsockname(2), or getpeername(2) for {@code peer}, as a VsockAddress. */
    VsockAddress address(boolean peer) throws SocketException {
        ByteBuffer sa = ByteBuffer.allocate(SockaddrVm.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int[] len = {SockaddrVm.SIZE};
        int r = peer ? process.getpeername(fd, sa, len) : process.getsockname(fd, sa, len);
        if (r < 0) {
            throw JdkErrors.forOther(-r);
        }
        return VsockAddress.of(sa.getInt(8), sa.getInt(4)); // struct sockaddr_vm: svm_port at 4, svm_cid at 8
    }

    /** shutdown(2). */
    void shutdown(int how) throws SocketException {
        int r = process.shutdown(fd, how);
        if (r < 0) {
            throw JdkErrors.forOther(-r);
        }
    }

    /** close(2); a lingering close waits in it, as the kernel's does. */
    void close() {
        process.close(fd);
    }
}
