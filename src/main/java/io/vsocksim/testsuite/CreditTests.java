package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_PEEK;
import static io.vsocksim.uapi.Sock.SIOCOUTQ;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVLOWAT;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Poll;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;

/** The virtio credit-update tests (22, 23) and the SIOCOUTQ tests (24, 25) of vsock_test.c. */
@Linux(file = "tools/testing/vsock/vsock_test.c", fn = "test_stream_credit_update_test")
final class CreditTests {
    static final int RCVLOWAT_CREDIT_UPD_BUF_SIZE = 128 * 1024;
    static final int VIRTIO_VSOCK_MAX_PKT_BUF_SIZE = 64 * 1024;
    static final int MSG_BUF_IOCTL_LEN = 64;

    private CreditTests() {
    }

    /** 22 / 23 client: one blocking send of 128 KiB + 1 must go through whole. */
    static void rcvlowatDefCredUpdClient(TestContext t) {
        int fd = t.streamConnect();
        int bufSize = RCVLOWAT_CREDIT_UPD_BUF_SIZE + 1;
        t.recvByte(fd, 1, 0);
        long sent = TestContext.check(t.proc.send(fd, ByteBuffer.allocate(bufSize), 0), "send failed");
        if (sent != bufSize) {
            throw new TestFailure("send failed: " + sent + " of " + bufSize);
        }
        t.close(fd);
    }

    /** 22 / 23 server (test_stream_credit_update_test). */
    static void creditUpdateServer(TestContext t, boolean lowRxBytesTest) {
        int fd = t.streamAccept();
        int bufSize = RCVLOWAT_CREDIT_UPD_BUF_SIZE;
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, bufSize, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE)");
        int recvBufSize;
        if (lowRxBytesTest) {
            recvBufSize = 1 + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
            t.setsockoptIntCheck(fd, SOL_SOCKET, SO_RCVLOWAT, recvBufSize, "setsockopt(SO_RCVLOWAT)");
        }
        t.sendByte(fd, 1, 0);
        byte[] buf = new byte[bufSize];
        for (;;) {
            long res = t.proc.recv(fd, ByteBuffer.wrap(buf), MSG_PEEK);
            if (res == bufSize) {
                break;
            }
            if (res <= 0) {
                throw new TestFailure("unexpected 'recv()' return: " + res);
            }
        }
        recvBufSize = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
        t.recvBuf(fd, buf, 0, recvBufSize, 0, recvBufSize);
        if (!lowRxBytesTest) {
            recvBufSize++;
            t.setsockoptIntCheck(fd, SOL_SOCKET, SO_RCVLOWAT, recvBufSize, "setsockopt(SO_RCVLOWAT)");
        }
        int events = Poll.POLLIN | Poll.POLLRDNORM | Poll.POLLERR | Poll.POLLRDHUP | Poll.POLLHUP;
        int revents = t.poll(fd, events, -1);
        if ((revents & Poll.POLLERR) != 0) {
            throw new TestFailure("'poll()' error");
        }
        if ((revents & (Poll.POLLIN | Poll.POLLRDNORM)) != 0) {
            t.recvBuf(fd, buf, 0, recvBufSize, MSG_DONTWAIT, recvBufSize);
        } else {
            throw new TestFailure("POLLIN | POLLRDNORM expected");
        }
        t.close(fd);
    }

    /** 24 / 25 server. */
    static void unsentBytesServer(TestContext t, int type) {
        int fd = t.vsockAccept(VMADDR_CID_ANY, t.peerPort, type);
        byte[] buf = new byte[MSG_BUF_IOCTL_LEN];
        t.recvBuf(fd, buf, 0, buf.length, 0, buf.length);
        t.control.writeln("RECEIVED");
        t.close(fd);
    }

    /** 24 / 25 client: SIOCOUTQ must come back to 0 within TIMEOUT. */
    static void unsentBytesClient(TestContext t, int type, PrintStream err) {
        int fd = t.vsockConnect(t.peerCid, t.peerPort, type);
        byte[] buf = t.randomBytes(MSG_BUF_IOCTL_LEN);
        t.sendBuf(fd, buf, buf.length, 0, buf.length);
        t.control.expectln("RECEIVED");
        long start = t.nanoTime();
        for (;;) {
            IntBuffer unsentOut = IntBuffer.allocate(1);
            long ret = t.proc.ioctl(fd, SIOCOUTQ, unsentOut);
            if (ret == -EOPNOTSUPP) {
                err.println("Test skipped, SIOCOUTQ not supported.");
                break;
            }
            TestContext.check(ret, "ioctl");
            int unsent = unsentOut.get(0);
            if (t.nanoTime() - start > TestContext.TIMEOUT_MS * 1_000_000L) {
                throw new TestFailure("SIOCOUTQ timed out");
            }
            if (unsent == 0) {
                break;
            }
            Thread.onSpinWait();
        }
        t.close(fd);
    }
}
