package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;

import io.vsocksim.Linux;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.vsock.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One role's view while it runs a test: {@code struct test_opts} (peer CID and port), the control
 * channel, the machine the role lives on, and the helpers of {@code tools/testing/vsock/util.c}. Every
 * socket a test opens is remembered so the runner can close what a failed test left behind.
 */
@Linux(file = "tools/testing/vsock/util.c", fn = "vsock_connect")
public final class TestContext {
    /** TIMEOUT of timeout.h, in milliseconds. */
    static final long TIMEOUT_MS = Control.TIMEOUT_SECONDS * 1000L;

    final Machine machine;
    final Control control;
    final int peerCid;
    final int peerPort;
    final Random rand;
    private final List<VsockSocket> sockets = new ArrayList<>();

    TestContext(Machine machine, Control control, int peerCid, int peerPort, Random rand) {
        this.machine = machine;
        this.control = control;
        this.peerCid = peerCid;
        this.peerPort = peerPort;
        this.rand = rand;
    }

    /** socket(AF_VSOCK, type, 0). */
    VsockSocket socket(int type) {
        try {
            VsockSocket s = machine.socket(type);
            sockets.add(s);
            return s;
        } catch (ErrnoException e) {
            throw perror("socket", e);
        }
    }

    /** Closes every socket the test opened and did not close (after a failure). */
    void closeAll() {
        for (VsockSocket s : sockets) {
            s.close();
        }
        sockets.clear();
    }

    /** perror(): {@code "<what>: <ERRNO>"}. */
    static TestFailure perror(String what, ErrnoException e) {
        return new TestFailure(what + ": " + e.errnoName());
    }

    /** Current time of the role's machine, in nanoseconds. */
    long nanoTime() {
        return machine.kernel().clock().nanoTime();
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
    int connectRetry(VsockSocket s, int cid, int port) {
        long start = nanoTime();
        for (;;) {
            try {
                s.connect(cid, port);
                return 0;
            } catch (ErrnoException e) {
                checkTimeout(start, nanoTime(), "connect");
                if (e.errno() != EINTR) {
                    return e.errno();
                }
            }
        }
    }

    /** util.c:vsock_connect: waits for {@code LISTENING}, then connects; failure is fatal. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_connect")
    VsockSocket vsockConnect(int cid, int port, int type) {
        control.expectln("LISTENING");
        VsockSocket s = socket(type);
        int err = connectRetry(s, cid, port);
        if (err != 0) {
            throw new TestFailure("connect: " + Errno.name(err));
        }
        return s;
    }

    VsockSocket streamConnect() {
        return vsockConnect(peerCid, peerPort, SOCK_STREAM);
    }

    VsockSocket seqpacketConnect() {
        return vsockConnect(peerCid, peerPort, SOCK_SEQPACKET);
    }

    /** util.c:vsock_listen: socket, bind, listen(1). */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_listen")
    VsockSocket vsockListen(int cid, int port, int type) {
        VsockSocket fd = socket(type);
        try {
            fd.bind(cid, port);
        } catch (ErrnoException e) {
            throw perror("bind", e);
        }
        try {
            fd.listen(1);
        } catch (ErrnoException e) {
            throw perror("listen", e);
        }
        return fd;
    }

    /**
     * util.c:vsock_accept: listen, write {@code LISTENING}, accept (EINTR retry), close the listener,
     * check the peer address.
     */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_accept")
    VsockSocket vsockAccept(int cid, int port, int type) {
        VsockSocket fd = vsockListen(cid, port, type);
        control.writeln("LISTENING");
        VsockSocket client = acceptRetry(fd);
        fd.close();
        try {
            SockaddrVm peer = client.getpeername();
            if (peer == null) {
                throw new TestFailure("expected AF_VSOCK from accept(2)");
            }
        } catch (ErrnoException e) {
            throw perror("accept", e);
        }
        return client;
    }

    /** accept(2) retried on EINTR within TIMEOUT; failure is fatal. */
    VsockSocket acceptRetry(VsockSocket listener) {
        long start = nanoTime();
        for (;;) {
            try {
                VsockSocket c = listener.accept();
                sockets.add(c);
                return c;
            } catch (ErrnoException e) {
                checkTimeout(start, nanoTime(), "accept");
                if (e.errno() != EINTR) {
                    throw perror("accept", e);
                }
            }
        }
    }

    VsockSocket streamAccept() {
        return vsockAccept(VMADDR_CID_ANY, peerPort, SOCK_STREAM);
    }

    VsockSocket seqpacketAccept() {
        return vsockAccept(VMADDR_CID_ANY, peerPort, SOCK_SEQPACKET);
    }

    /** util.c:vsock_bind_connect: bind (ANY, bindPort), connect; both must succeed. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_bind_connect")
    VsockSocket vsockBindConnect(int cid, int port, int bindPort, int type) {
        VsockSocket s = socket(type);
        try {
            s.bind(VMADDR_CID_ANY, bindPort);
        } catch (ErrnoException e) {
            throw perror("bind", e);
        }
        int err = connectRetry(s, cid, port);
        if (err != 0) {
            throw new TestFailure("connect: " + Errno.name(err));
        }
        return s;
    }

    /**
     * util.c:send_buf: sends until {@code len} bytes, retrying EINTR. {@code expected < 0}: the last
     * call must fail with errno {@code -expected}; 0: EOF; otherwise exactly that many bytes.
     */
    @Linux(file = "tools/testing/vsock/util.c", fn = "send_buf")
    void sendBuf(VsockSocket fd, byte[] buf, int len, int flags, long expected) {
        transfer(fd, ByteBuffer.wrap(buf, 0, len), flags, expected, true, -1);
    }

    /** util.c:recv_buf: as {@link #sendBuf} for receiving into {@code buf[off, off+len)}. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "recv_buf")
    void recvBuf(VsockSocket fd, byte[] buf, int off, int len, int flags, long expected) {
        transfer(fd, ByteBuffer.wrap(buf, off, len), flags, expected, false, -1);
    }

    /** recv_buf() into a buffer of which only {@code accessible} bytes are mapped (NULL = 0). */
    void recvBufFaulting(VsockSocket fd, int len, int accessible, int flags, long expected) {
        transfer(fd, ByteBuffer.allocate(len), flags, expected, false, accessible);
    }

    private void transfer(VsockSocket fd, ByteBuffer buf, int flags, long expected, boolean send, int accessible) {
        String op = send ? "send" : "recv";
        long start = nanoTime();
        long done = 0;
        long ret;
        int err = 0;
        int len = buf.remaining();
        do {
            try {
                if (accessible >= 0) {
                    ret = send ? fd.sendFaulting(buf, flags, (int) Math.max(0, accessible - done))
                            : fd.recvFaulting(buf, flags, (int) Math.max(0, accessible - done));
                } else {
                    ret = send ? fd.send(buf, flags) : fd.recv(buf, flags);
                }
            } catch (ErrnoException e) {
                ret = -1;
                err = e.errno();
            }
            checkTimeout(start, nanoTime(), op);
            if (ret == 0 || (ret < 0 && err != EINTR)) {
                break;
            }
            if (ret > 0) {
                done += ret;
            }
        } while (done < len);
        if (expected < 0) {
            if (ret != -1) {
                throw new TestFailure("bogus " + op + "(2) return value " + ret + " (expected " + expected + ")");
            }
            if (err != -expected) {
                throw new TestFailure(op + ": " + Errno.name(err));
            }
            return;
        }
        if (ret < 0) {
            throw new TestFailure(op + ": " + Errno.name(err));
        }
        if (done != expected) {
            throw new TestFailure((ret == 0 ? "unexpected EOF while " + (send ? "sending" : "receiving") + " bytes\n" : "")
                    + "bogus " + op + "(2) bytes " + (send ? "written " : "read ") + done + " (expected " + expected + ")");
        }
    }

    /** util.c:send_byte: one byte 'A'. */
    void sendByte(VsockSocket fd, int expected, int flags) {
        sendBuf(fd, new byte[] {'A'}, 1, flags, expected);
    }

    /** util.c:recv_byte: one byte, which must be 'A' when one was read. */
    void recvByte(VsockSocket fd, int expected, int flags) {
        byte[] b = new byte[1];
        recvBuf(fd, b, 0, 1, flags, expected);
        if (expected > 0 && b[0] != 'A') {
            throw new TestFailure("unexpected byte read " + (char) b[0]);
        }
    }

    /** util.c:vsock_wait_remote_close: waits (TIMEOUT) for RDHUP or HUP. */
    @Linux(file = "tools/testing/vsock/util.c", fn = "vsock_wait_remote_close")
    void waitRemoteClose(VsockSocket fd) {
        try {
            int revents = fd.poll(Poll.POLLRDHUP | Poll.POLLHUP, TIMEOUT_MS);
            if (revents == 0) {
                throw new TestFailure("epoll_wait timed out");
            }
            if ((revents & (Poll.POLLRDHUP | Poll.POLLHUP)) == 0) {
                throw new TestFailure("epoll_wait: unexpected events " + Poll.names(revents));
            }
        } catch (ErrnoException e) {
            throw perror("epoll_wait", e);
        }
    }

    /** util.c:setsockopt_ull_check: set, read back, compare. */
    void setsockoptUllCheck(VsockSocket fd, int level, int optname, long val, String errmsg) {
        try {
            fd.setsockoptLong(level, optname, val);
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            int len = fd.getsockopt(level, optname, b, 8);
            if (len != 8 || b.getLong(0) != val) {
                throw new TestFailure(errmsg + ": value mismatch " + b.getLong(0) + " != " + val);
            }
        } catch (ErrnoException e) {
            throw perror(errmsg, e);
        }
    }

    /** util.c:setsockopt_int_check. */
    void setsockoptIntCheck(VsockSocket fd, int level, int optname, int val, String errmsg) {
        try {
            fd.setsockoptInt(level, optname, val);
            int got = fd.getsockoptInt(level, optname);
            if (got != val) {
                throw new TestFailure(errmsg + ": value mismatch " + got + " != " + val);
            }
        } catch (ErrnoException e) {
            throw perror(errmsg, e);
        }
    }

    /** util.c:setsockopt_timeval_check. */
    void setsockoptTimevalCheck(VsockSocket fd, int level, int optname, long sec, long usec, String errmsg) {
        try {
            fd.setsockoptTimeval(level, optname, sec, usec);
            long[] got = fd.getsockoptTimeval(level, optname);
            if (got[0] != sec || got[1] != usec) {
                throw new TestFailure(errmsg + ": value mismatch {" + got[0] + "," + got[1] + "}");
            }
        } catch (ErrnoException e) {
            throw perror(errmsg, e);
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
