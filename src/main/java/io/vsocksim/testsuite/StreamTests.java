package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.ECONNRESET;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.MSG_PEEK;
import static io.vsocksim.uapi.Sock.MSG_TRUNC;
import static io.vsocksim.uapi.Sock.SHUT_RD;
import static io.vsocksim.uapi.Sock.SHUT_WR;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVLOWAT;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.uapi.Signal;
import io.vsocksim.uapi.Poll;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/** The SOCK_STREAM tests of vsock_test.c (and the shared MSG_PEEK / invalid-buffer bodies). */
final class StreamTests {
    static final int MULTICONN_NFDS = 100;
    static final int MSG_PEEK_BUF_LEN = 64;
    static final int RCVLOWAT_BUF_SIZE = 128;
    static final int INV_BUF_TEST_DATA_LEN = 512;

    private StreamTests() {
    }

    private static void expectConnectReset(TestContext t, int fd) {
        int err = t.connectRetry(fd, t.peerCid, t.peerPort);
        if (err == 0) {
            throw new TestFailure("expected connect(2) failure, got 0");
        }
        if (err != ECONNRESET) {
            throw new TestFailure("unexpected connect(2) errno " + err);
        }
    }

    /** 0 - SOCK_STREAM connection reset. */
    static void connectionReset(TestContext t) {
        int fd = t.socket(SOCK_STREAM);
        expectConnectReset(t, fd);
        t.close(fd);
    }

    /** 1 - SOCK_STREAM bind only, client. */
    static void bindOnlyClient(TestContext t) {
        t.control.expectln("BIND");
        int fd = t.socket(SOCK_STREAM);
        expectConnectReset(t, fd);
        t.control.writeln("DONE");
        t.close(fd);
    }

    /** 1 - SOCK_STREAM bind only, server. */
    static void bindOnlyServer(TestContext t) {
        int fd = t.socket(SOCK_STREAM);
        TestContext.check(t.proc.bind(fd, VMADDR_CID_ANY, t.peerPort), "bind");
        t.control.writeln("BIND");
        t.control.expectln("DONE");
        t.close(fd);
    }

    /** 2 - SOCK_STREAM client close, client; also 3's server. */
    static void sendByteAndClose(TestContext t, int fd) {
        t.sendByte(fd, 1, 0);
        t.close(fd);
    }

    /** The survivor's side of 2 and 3: EPIPE after the peer closed, then the byte, then EOF. */
    static void afterPeerClose(TestContext t, int fd) {
        t.waitRemoteClose(fd);
        t.sendByte(fd, -EPIPE, 0);
        t.recvByte(fd, 1, 0);
        t.recvByte(fd, 0, 0);
        t.close(fd);
    }

    /** 4 - SOCK_STREAM multiple connections, client. */
    static void multiconnClient(TestContext t) {
        int[] fds = new int[MULTICONN_NFDS];
        for (int i = 0; i < MULTICONN_NFDS; i++) {
            fds[i] = t.streamConnect();
        }
        for (int i = 0; i < MULTICONN_NFDS; i++) {
            if (i % 2 != 0) {
                t.recvByte(fds[i], 1, 0);
            } else {
                t.sendByte(fds[i], 1, 0);
            }
        }
        for (int fd : fds) {
            t.close(fd);
        }
    }

    /** 4 - SOCK_STREAM multiple connections, server. */
    static void multiconnServer(TestContext t) {
        int[] fds = new int[MULTICONN_NFDS];
        for (int i = 0; i < MULTICONN_NFDS; i++) {
            fds[i] = t.streamAccept();
        }
        for (int i = 0; i < MULTICONN_NFDS; i++) {
            if (i % 2 != 0) {
                t.sendByte(fds[i], 1, 0);
            } else {
                t.recvByte(fds[i], 1, 0);
            }
        }
        for (int fd : fds) {
            t.close(fd);
        }
    }

    /** 5 / 15 - MSG_PEEK, client. */
    static void msgPeekClient(TestContext t, boolean seqpacket) {
        int fd = seqpacket ? t.seqpacketConnect() : t.streamConnect();
        byte[] buf = t.randomBytes(MSG_PEEK_BUF_LEN);
        t.control.expectln("SRVREADY");
        t.sendBuf(fd, buf, buf.length, 0, buf.length);
        t.close(fd);
    }

    /** 5 / 15 - MSG_PEEK, server. */
    static void msgPeekServer(TestContext t, boolean seqpacket) {
        int fd = seqpacket ? t.seqpacketAccept() : t.streamAccept();
        byte[] bufHalf = new byte[MSG_PEEK_BUF_LEN / 2];
        byte[] bufNormal = new byte[MSG_PEEK_BUF_LEN];
        byte[] bufPeek = new byte[MSG_PEEK_BUF_LEN];
        t.recvBuf(fd, bufPeek, 0, bufPeek.length, MSG_PEEK | MSG_DONTWAIT, -EAGAIN);
        t.control.writeln("SRVREADY");
        t.recvBuf(fd, bufHalf, 0, bufHalf.length, MSG_PEEK, bufHalf.length);
        t.recvBuf(fd, bufPeek, 0, bufPeek.length, MSG_PEEK, bufPeek.length);
        if (!Arrays.equals(bufHalf, 0, bufHalf.length, bufPeek, 0, bufHalf.length)) {
            throw new TestFailure("Partial peek data mismatch");
        }
        if (seqpacket) {
            t.recvBuf(fd, bufHalf, 0, bufHalf.length, MSG_PEEK | MSG_TRUNC, bufPeek.length);
        }
        t.recvBuf(fd, bufNormal, 0, bufNormal.length, 0, bufNormal.length);
        if (!Arrays.equals(bufPeek, bufNormal)) {
            throw new TestFailure("Full peek data mismatch");
        }
        t.close(fd);
    }

    /** 10 - SOCK_STREAM poll() + SO_RCVLOWAT, server. */
    static void pollRcvlowatServer(TestContext t) {
        int fd = t.streamAccept();
        t.sendByte(fd, 1, 0);
        t.control.writeln("SRVSENT");
        t.control.expectln("CLNSENT");
        for (int i = 0; i < RCVLOWAT_BUF_SIZE - 1; i++) {
            t.sendByte(fd, 1, 0);
        }
        t.control.expectln("POLLDONE");
        t.close(fd);
    }

    /** 10 - SOCK_STREAM poll() + SO_RCVLOWAT, client. */
    static void pollRcvlowatClient(TestContext t) {
        int fd = t.streamConnect();
        t.setsockoptIntCheck(fd, SOL_SOCKET, SO_RCVLOWAT, RCVLOWAT_BUF_SIZE, "setsockopt(SO_RCVLOWAT)");
        t.control.expectln("SRVSENT");
        int pollFlags = Poll.POLLIN | Poll.POLLRDNORM;
        int revents = t.poll(fd, pollFlags, 1000);
        if (revents != 0) {
            throw new TestFailure("Unexpected poll result " + Integer.toHexString(revents));
        }
        t.control.writeln("CLNSENT");
        revents = t.poll(fd, pollFlags, 10000);
        if (revents != pollFlags) {
            throw new TestFailure("Unexpected poll result " + Integer.toHexString(revents));
        }
        byte[] buf = new byte[RCVLOWAT_BUF_SIZE];
        t.recvBuf(fd, buf, 0, buf.length, MSG_DONTWAIT, RCVLOWAT_BUF_SIZE);
        t.control.writeln("POLLDONE");
        t.close(fd);
    }

    /** 12 / 13 - test invalid buffer, client. */
    static void invBufClient(TestContext t, boolean stream) {
        int fd = stream ? t.streamConnect() : t.seqpacketConnect();
        t.control.expectln("SENDDONE");
        t.recvBufAt(fd, 0L, INV_BUF_TEST_DATA_LEN, 0, -EFAULT); // recv(fd, NULL, ...)
        long expected = stream ? INV_BUF_TEST_DATA_LEN : -EAGAIN;
        byte[] data = new byte[INV_BUF_TEST_DATA_LEN];
        t.recvBuf(fd, data, 0, data.length, MSG_DONTWAIT, expected);
        t.control.writeln("DONE");
        t.close(fd);
    }

    /** 12 / 13 - test invalid buffer, server. */
    static void invBufServer(TestContext t, boolean stream) {
        int fd = stream ? t.streamAccept() : t.seqpacketAccept();
        byte[] data = new byte[INV_BUF_TEST_DATA_LEN];
        t.sendBuf(fd, data, data.length, 0, data.length);
        t.control.writeln("SENDDONE");
        t.control.expectln("DONE");
        t.close(fd);
    }

    /** 14 - SOCK_STREAM virtio skb merge, client. */
    static void skbMergeClient(TestContext t) {
        int fd = t.streamConnect();
        byte[] hello = "HELLO".getBytes(StandardCharsets.US_ASCII);
        byte[] world = "WORLD".getBytes(StandardCharsets.US_ASCII);
        t.sendBuf(fd, hello, hello.length, 0, hello.length);
        t.control.writeln("SEND0");
        t.control.expectln("REPLY0");
        t.sendBuf(fd, world, world.length, 0, world.length);
        t.control.writeln("SEND1");
        t.control.expectln("REPLY1");
        t.close(fd);
    }

    /** 14 - SOCK_STREAM virtio skb merge, server. */
    static void skbMergeServer(TestContext t) {
        int fd = t.streamAccept();
        byte[] buf = new byte[64];
        int read = 0;
        t.control.expectln("SEND0");
        t.recvBuf(fd, buf, read, 2, 0, 2);
        read += 2;
        t.control.writeln("REPLY0");
        t.control.expectln("SEND1");
        int toRead = "HELLOWORLD".length() - read;
        t.recvBuf(fd, buf, read, toRead, 0, toRead);
        read += toRead;
        t.recvBuf(fd, buf, read, buf.length - read, MSG_DONTWAIT, -EAGAIN);
        if (!"HELLOWORLD".equals(new String(buf, 0, read, StandardCharsets.US_ASCII))) {
            throw new TestFailure("pattern mismatch");
        }
        t.control.writeln("REPLY1");
        t.close(fd);
    }

    /**
     * The SIGPIPE check of 16 and 17 ({@code test_stream_check_sigpipe}): EPIPE with SIGPIPE, then
     * EPIPE without it under MSG_NOSIGNAL. The role installs the C test's handler, which only sets
     * {@code have_sigpipe}.
     */
    @Linux(file = "tools/testing/vsock/vsock_test.c", fn = "test_stream_check_sigpipe")
    private static void checkSigpipe(TestContext t, int fd) {
        AtomicBoolean haveSigpipe = new AtomicBoolean();
        t.proc.sigaction(Signal.SIGPIPE, sig -> haveSigpipe.set(true), 0);
        expectSendFailure(t, fd, 0);
        if (!haveSigpipe.getAndSet(false)) {
            throw new TestFailure("SIGPIPE expected");
        }
        expectSendFailure(t, fd, MSG_NOSIGNAL);
        if (haveSigpipe.get()) {
            throw new TestFailure("SIGPIPE not expected");
        }
    }

    private static void expectSendFailure(TestContext t, int fd, int flags) {
        long res = t.proc.send(fd, ByteBuffer.wrap(new byte[] {'A'}), flags);
        if (res >= 0) { // any errno: the C test only checks the return value and the signal
            throw new TestFailure("expected send(2) failure, got " + res);
        }
    }

    /** 16 - SOCK_STREAM SHUT_WR, client. */
    static void shutwrClient(TestContext t) {
        int fd = t.streamConnect();
        TestContext.check(t.proc.shutdown(fd, SHUT_WR), "shutdown");
        checkSigpipe(t, fd);
        t.control.writeln("CLIENTDONE");
        t.close(fd);
    }

    /** 16 / 17 servers' tail and 16 server. */
    static void shutwrServer(TestContext t) {
        int fd = t.streamAccept();
        t.control.expectln("CLIENTDONE");
        t.close(fd);
    }

    /** 17 - SOCK_STREAM SHUT_RD, client. */
    static void shutrdClient(TestContext t) {
        int fd = t.streamConnect();
        t.control.expectln("SHUTRDDONE");
        checkSigpipe(t, fd);
        t.control.writeln("CLIENTDONE");
        t.close(fd);
    }

    /** 17 - SOCK_STREAM SHUT_RD, server. */
    static void shutrdServer(TestContext t) {
        int fd = t.streamAccept();
        TestContext.check(t.proc.shutdown(fd, SHUT_RD), "shutdown");
        t.control.writeln("SHUTRDDONE");
        t.control.expectln("CLIENTDONE");
        t.close(fd);
    }

    /** 20 - SOCK_STREAM MSG_ZEROCOPY empty MSG_ERRQUEUE, client. */
    static void emptyErrqClient(TestContext t) {
        int fd = t.streamConnect();
        long res = t.proc.recvmsg(fd, UserMsghdr.of(ByteBuffer.allocate(128)), io.vsocksim.uapi.Sock.MSG_ERRQUEUE);
        if (res >= 0) { // -1 is what the test requires; the errno is not checked (6.12.117 gives EAGAIN)
            throw new TestFailure("expected 'recvmsg(2)' failure, got " + res);
        }
        t.control.writeln("DONE");
        t.close(fd);
    }

    /** 20 server, and every "accept, wait for a line, close" server. */
    static void acceptExpectClose(TestContext t, String line, boolean seqpacket) {
        int fd = seqpacket ? t.seqpacketAccept() : t.streamAccept();
        t.control.expectln(line);
        t.close(fd);
    }

    /** 21 - SOCK_STREAM double bind connect, server. */
    static void doubleBindConnectServer(TestContext t) {
        int listenFd = t.vsockListen(VMADDR_CID_ANY, t.peerPort, SOCK_STREAM);
        for (int i = 0; i < 2; i++) {
            t.control.writeln("LISTENING");
            int clientFd = t.acceptRetry(listenFd);
            t.waitRemoteClose(clientFd);
        }
        t.close(listenFd);
    }

    /** 21 - SOCK_STREAM double bind connect, client. */
    static void doubleBindConnectClient(TestContext t) {
        for (int i = 0; i < 2; i++) {
            t.control.expectln("LISTENING");
            int fd = t.vsockBindConnect(t.peerCid, t.peerPort, t.peerPort + 1, SOCK_STREAM);
            t.close(fd);
        }
    }

    static String errnoName(int e) {
        return Errno.name(e);
    }
}
