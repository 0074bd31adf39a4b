package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;

import io.vsocksim.Linux;
import io.vsocksim.sim.Machine;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Epoll;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.uapi.Signal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.function.LongUnaryOperator;

/**
 * One role's view while it runs a test: {@code struct test_opts} (peer CID and port), the control
 * channel, the process the role runs as and the helpers of {@code tools/testing/vsock/util.c}.
 *
 * <p>A role is a {@link UserProcess} of its machine and makes the C program's calls by descriptor:
 * {@code int} descriptors, results {@code >= 0} or {@code -errno}. Each test runs in a fresh process;
 * the runner ends it afterwards ({@link #exit()}), which closes whatever a failed test left open, as
 * the kernel does when a process exits.
 */
public final class TestContext {
    /** TIMEOUT of timeout.h, in milliseconds. */
    static final long TIMEOUT_MS = Control.TIMEOUT_SECONDS * 1000L;

    final Machine machine;
    final UserProcess proc;
    final Control control;
    final int peerCid;
    final int peerPort;
    final Random rand;

    TestContext(Machine machine, Control control, int peerCid, int peerPort, Random rand) {
        this.machine = machine;
        this.proc = UserProcess.spawn(machine, "vsock_test");
        proc.sigaction(Signal.SIGPIPE, UserProcess.SIG_IGN, 0); // util.c:init_signals
        this.control = control;
        this.peerCid = peerCid;
        this.peerPort = peerPort;
        this.rand = rand;
    }

    /** socket(AF_VSOCK, type, 0); failure is fatal. */
    int socket(int type) {
        return check(proc.socket(AF_VSOCK, type, 0), "socket");
    }

    /** close(2). */
    void close(int fd) {
        proc.close(fd);
    }

    /** Process exit: every descriptor the test left open is closed, every mapping removed. */
    void exit() {
        proc.close();
    }

    /** perror(): {@code "<what>: <ERRNO>"}. */
    static TestFailure perror(String what, int errno) {
        return new TestFailure(what + ": " + Errno.name(errno));
    }

    /** A call's result, or the test fails with perror() when it is {@code -errno}. */
    static int check(long ret, String what) {
        if (ret < 0) {
            throw perror(what, (int) -ret);
        }
        return (int) ret;
    }

    /** An mmap(2) result, or the test fails with perror() for MAP_FAILED. */
    static long checkAddr(long addr, String what) {
        if (addr < 0) {
            throw perror(what, (int) -addr);
        }
        return addr;
    }

    /** Current time of the role's machine, in nanoseconds. */
    long nanoTime() {
        return SimInternals.kernel(machine).clock().nanoTime();
    }

    private static void checkTimeout(long start, long now, String op) {
        if (Thread.currentThread().isInterrupted()) {
            // The runner aborts the other role when one fails; EINTR retries must not spin.
            throw new TestFailure("aborted");
        }
        if (now - start > TIMEOUT_MS * 1_000_000L) {
            throw new TestFailure(op + " timed out");
        }
    }

    /** A connect retried on EINTR within TIMEOUT; returns 0 or the failed call's errno. */
    int connectRetry(int fd, int cid, int port) {
        long start = nanoTime();
        for (;;) {
            int ret = proc.connect(fd, cid, port);
            if (ret == 0) {
                return 0;
            }
            checkTimeout(start, nanoTime(), "connect");
            if (ret != -EINTR) {
                return -ret;
            }
        }
    }

    /** util.c:vsock_connect: waits for {@code LISTENING}, then connects; failure is fatal. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_connect")
    int vsockConnect(int cid, int port, int type) {
        control.expectln("LISTENING");
        int fd = socket(type);
        int err = connectRetry(fd, cid, port);
        if (err != 0) {
            throw perror("connect", err);
        }
        return fd;
    }

    int streamConnect() {
        return vsockConnect(peerCid, peerPort, SOCK_STREAM);
    }

    int seqpacketConnect() {
        return vsockConnect(peerCid, peerPort, SOCK_SEQPACKET);
    }

    /** util.c:vsock_listen: socket, bind, listen(1). */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_listen")
    int vsockListen(int cid, int port, int type) {
        int fd = socket(type);
        check(proc.bind(fd, cid, port), "bind");
        check(proc.listen(fd, 1), "listen");
        return fd;
    }

    /**
     * util.c:vsock_accept: listen, write {@code LISTENING}, accept (EINTR retry), close the listener,
     * check the peer address.
     */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_accept")
    int vsockAccept(int cid, int port, int type) {
        int fd = vsockListen(cid, port, type);
        control.writeln("LISTENING");
        int client = acceptRetry(fd);
        close(fd);
        ByteBuffer addr = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        int[] len = {16};
        check(proc.getpeername(client, addr, len), "accept");
        if (addr.getShort(0) != AF_VSOCK) {
            throw new TestFailure("expected AF_VSOCK from accept(2), got " + addr.getShort(0));
        }
        return client;
    }

    /** accept(2) retried on EINTR within TIMEOUT; failure is fatal. */
    int acceptRetry(int listener) {
        long start = nanoTime();
        for (;;) {
            int fd = proc.accept4(listener, 0);
            if (fd >= 0) {
                return fd;
            }
            checkTimeout(start, nanoTime(), "accept");
            if (fd != -EINTR) {
                throw perror("accept", -fd);
            }
        }
    }

    int streamAccept() {
        return vsockAccept(VMADDR_CID_ANY, peerPort, SOCK_STREAM);
    }

    int seqpacketAccept() {
        return vsockAccept(VMADDR_CID_ANY, peerPort, SOCK_SEQPACKET);
    }

    /** util.c:vsock_bind_connect: bind (ANY, bindPort), connect; both must succeed. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_bind_connect")
    int vsockBindConnect(int cid, int port, int bindPort, int type) {
        int fd = socket(type);
        check(proc.bind(fd, VMADDR_CID_ANY, bindPort), "bind");
        int err = connectRetry(fd, cid, port);
        if (err != 0) {
            throw perror("connect", err);
        }
        return fd;
    }

    /**
     * util.c:send_buf: sends until {@code len} bytes, retrying EINTR. {@code expected < 0}: the last
     * call must fail with errno {@code -expected}; 0: EOF; otherwise exactly that many bytes.
     */
    @Linux(file = "tools/testing/vsock/util.c", fn = "send_buf")
    void sendBuf(int fd, byte[] buf, int len, int flags, long expected) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len);
        transfer(done -> proc.send(fd, b, flags), len, expected, true);
    }

    /** util.c:recv_buf: as {@link #sendBuf} for receiving into {@code buf[off, off+len)}. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "recv_buf")
    void recvBuf(int fd, byte[] buf, int off, int len, int flags, long expected) {
        ByteBuffer b = ByteBuffer.wrap(buf, off, len);
        transfer(done -> proc.recv(fd, b, flags), len, expected, false);
    }

    /** recv_buf() into the role's memory at {@code addr} (0 is NULL; anonymous memory from mmap). */
    void recvBufAt(int fd, long addr, int len, int flags, long expected) {
        transfer(done -> proc.recv(fd, addr + done, len - done, flags), len, expected, false);
    }

    /** The loop of send_buf/recv_buf over one call that moves bytes from {@code done} on. */
    private void transfer(LongUnaryOperator call, int len, long expected, boolean send) {
        String op = send ? "send" : "recv";
        long start = nanoTime();
        long done = 0;
        long ret;
        do {
            ret = call.applyAsLong(done);
            checkTimeout(start, nanoTime(), op);
            if (ret == 0 || (ret < 0 && ret != -EINTR)) {
                break;
            }
            if (ret > 0) {
                done += ret;
            }
        } while (done < len);
        if (expected < 0) {
            if (ret >= 0) {
                throw new TestFailure("bogus " + op + "(2) return value " + ret + " (expected " + expected + ")");
            }
            if (ret != expected) {
                throw perror(op, (int) -ret);
            }
            return;
        }
        if (ret < 0) {
            throw perror(op, (int) -ret);
        }
        if (done != expected) {
            throw new TestFailure((ret == 0 ? "unexpected EOF while " + (send ? "sending" : "receiving") + " bytes\n" : "")
                    + "bogus " + op + "(2) bytes " + (send ? "written " : "read ") + done + " (expected " + expected + ")");
        }
    }

    /** util.c:send_byte: one byte 'A'. */
    void sendByte(int fd, int expected, int flags) {
        sendBuf(fd, new byte[] {'A'}, 1, flags, expected);
    }

    /** util.c:recv_byte: one byte, which must be 'A' when one was read. */
    void recvByte(int fd, int expected, int flags) {
        byte[] b = new byte[1];
        recvBuf(fd, b, 0, 1, flags, expected);
        if (expected > 0 && b[0] != 'A') {
            throw new TestFailure("unexpected byte read " + (char) b[0]);
        }
    }

    /** poll(2) on one descriptor: its revents, 0 on timeout; failure is fatal. */
    int poll(int fd, int events, long timeoutMs) {
        PollFd[] fds = {new PollFd(fd, events)};
        check(proc.poll(fds, 1, timeoutMs), "poll");
        return fds[0].revents & 0xFFFF;
    }

    /** util.c:vsock_wait_remote_close: an epoll instance waits (TIMEOUT) for RDHUP or HUP. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_wait_remote_close")
    void waitRemoteClose(int fd) {
        int epollfd = check(proc.epollCreate1(0), "epoll_create1");
        Epoll.Event ev = new Epoll.Event();
        ev.events = Epoll.EPOLLRDHUP | Epoll.EPOLLHUP;
        ev.data = fd;
        check(proc.epollCtl(epollfd, Epoll.EPOLL_CTL_ADD, fd, ev), "epoll_ctl");
        Epoll.Event[] out = {new Epoll.Event()};
        int nfds = check(proc.epollWait(epollfd, out, 1, TIMEOUT_MS), "epoll_wait");
        close(epollfd);
        if (nfds == 0) {
            throw new TestFailure("epoll_wait timed out");
        }
        if (nfds != 1 || out[0].data != fd || (out[0].events & (Epoll.EPOLLRDHUP | Epoll.EPOLLHUP)) == 0) {
            throw new TestFailure("epoll_wait: unexpected events " + Integer.toHexString(out[0].events));
        }
    }

    /** getsockopt of a value of {@code size} bytes (4 or 8), little-endian; failure is fatal. */
    long getsockopt(int fd, int level, int optname, int size, String errmsg) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        int len = check(proc.getsockopt(fd, level, optname, b, size), errmsg);
        if (len != size) {
            throw new TestFailure(errmsg + ": unexpected optlen " + len);
        }
        return size == 8 ? b.getLong(0) : b.getInt(0);
    }

    private void setsockopt(int fd, int level, int optname, ByteBuffer val, String errmsg) {
        check(proc.setsockopt(fd, level, optname, val, val.remaining()), errmsg);
    }

    /** util.c:setsockopt_ull_check: set, read back, compare. */
    void setsockoptUllCheck(int fd, int level, int optname, long val, String errmsg) {
        setsockopt(fd, level, optname, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, val), errmsg);
        long got = getsockopt(fd, level, optname, 8, errmsg);
        if (got != val) {
            throw new TestFailure(errmsg + ": value mismatch " + got + " != " + val);
        }
    }

    /** util.c:setsockopt_int_check. */
    void setsockoptIntCheck(int fd, int level, int optname, int val, String errmsg) {
        setsockopt(fd, level, optname, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, val), errmsg);
        long got = getsockopt(fd, level, optname, 4, errmsg);
        if (got != val) {
            throw new TestFailure(errmsg + ": value mismatch " + got + " != " + val);
        }
    }

    /** util.c:setsockopt_timeval_check: a {@code struct timeval} (two longs) set and read back. */
    void setsockoptTimevalCheck(int fd, int level, int optname, long sec, long usec, String errmsg) {
        ByteBuffer tv = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sec).putLong(8, usec);
        setsockopt(fd, level, optname, tv, errmsg);
        ByteBuffer got = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        int len = check(proc.getsockopt(fd, level, optname, got, 16), errmsg);
        if (len != 16 || got.getLong(0) != sec || got.getLong(8) != usec) {
            throw new TestFailure(errmsg + ": value mismatch {" + got.getLong(0) + "," + got.getLong(8) + "}");
        }
    }

    /** util.c:hash_djb2: h = h * 33 + byte, as unsigned long. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "hash_djb2")
    static long hashDjb2(byte[] data, int off, int len) {
        long hash = 5381;
        for (int i = 0; i < len; i++) {
            hash = (hash << 5) + hash + (data[off + i] & 0xFF);
        }
        return hash;
    }

    /** rand() & 0xFF filled buffer. */
    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rand.nextInt(256);
        }
        return b;
    }
}
