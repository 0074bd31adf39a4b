package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EALREADY;
import static io.vsocksim.uapi.Errno.ECONNRESET;
import static io.vsocksim.uapi.Errno.EINPROGRESS;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EISCONN;
import static io.vsocksim.uapi.Errno.ETIMEDOUT;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Poll.POLLERR;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Poll.POLLWRNORM;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static io.vsocksim.vsock.LoopbackTestContext.errnoOf;
import static io.vsocksim.vsock.LoopbackTestContext.revents;
import static io.vsocksim.vsock.LoopbackTestContext.soError;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.VirtioVsockOp;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * connect() over loopback (socket-layer.md §4): the non-blocking sequence, refusal, the 2 s connect
 * timeout on the virtual clock, retries on the same fd, and a signal during a blocking connect.
 */
@Timeout(30)
class ConnectTest {
    private static final int OUT = POLLOUT | POLLWRNORM;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
    }

    @Test
    void shouldGoEinprogressEalreadyPollOutEisconnWhenNonBlockingConnectSucceeds() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EALREADY);
        assertThat(revents(s)).as("SYN_SENT").isZero();
        c.drain();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(OUT));
        assertThat(soError(s)).isZero();
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EISCONN);
        l.setNonBlocking(true);
        c.adopt(l.accept());
    }

    @Test
    void shouldReportEconnresetAndErrOutWhenNonBlockingConnectReachesNobody() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        c.drain();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(POLLERR | OUT));
        // An RST does not change sock->state: a further non-blocking attempt is still "already".
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EALREADY);
        assertThat(soError(s)).isEqualTo(ECONNRESET);
        assertThat(soError(s)).isZero();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(OUT));
    }

    @Test
    void shouldReturnEtimedoutOnlyAfterTwoSecondsWhenBlockingConnectGetsNoAnswer() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        Future<Object> f = c.spawn("connector", () -> {
            s.connect(VMADDR_CID_LOCAL, 1234);
            return "connected";
        });
        c.clock().awaitSleepers(1);
        c.clock().advanceJiffies(2L * Clock.HZ - 1);
        // One jiffy short: still parked on the clock.
        c.clock().awaitSleepers(1);
        assertThat(f.isDone()).isFalse();
        c.clock().advanceJiffies(1);
        assertThat(errnoOf(f)).isEqualTo(ETIMEDOUT);
        // The REQUEST was cancelled before any work ran: the listener never sees it.
        c.drain();
        assertThat(c.counters().received(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST)).isZero();
        l.setNonBlocking(true);
        assertErrno(l::accept, EAGAIN);
        assertThat(soError(s)).isZero();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(OUT));
    }

    @Test
    void shouldSetSoErrorEtimedoutWhenNonBlockingConnectTimerFiresAfterTwoSeconds() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        // No work ran: still connecting.
        assertThat(revents(s)).isZero();
        assertThat(soError(s)).isZero();
        c.clock().advanceJiffies(2L * Clock.HZ);
        // The due timer is queued behind the loopback work carrying the REQUEST; the listener's
        // RESPONSE goes out from that work and is delivered in a later round, after the timer has
        // already closed the socket, so the RESPONSE meets a CLOSE socket and is answered with RST.
        c.drain();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(POLLERR | OUT));
        assertThat(soError(s)).isEqualTo(ETIMEDOUT);
        assertThat(c.counters().received(VirtioVsockOp.VIRTIO_VSOCK_OP_RESPONSE)).isEqualTo(1);
    }

    @Test
    void shouldConnectWhenRetriedWithBlockingConnectAfterRefusal() throws Exception {
        c = LoopbackTestContext.threaded("connect", leaks);
        VsockSocket s = c.sock(SOCK_STREAM);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), ECONNRESET);
        // The blocking connect consumed sk_err.
        assertThat(soError(s)).isZero();
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(OUT));
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        s.connect(VMADDR_CID_LOCAL, 1234);
        VsockSocket a = c.adopt(l.accept());
        assertThat(s.send(ByteBuffer.wrap(new byte[] {42}), 0)).isEqualTo(1);
        ByteBuffer b = ByteBuffer.allocate(1);
        assertThat(a.recv(b, 0)).isEqualTo(1);
        assertThat(b.get(0)).isEqualTo((byte) 42);
    }

    @Test
    void shouldResetAndRetryWhenBlockingConnectFollowsRefusedNonBlockingOne() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        c.drain();
        // A blocking connect on the same fd returns the pending error at once and resets the socket.
        s.setNonBlocking(false);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), ECONNRESET);
        assertThat(soError(s)).isZero();
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        c.drain();
        assertThat(soError(s)).isZero();
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EISCONN);
        l.setNonBlocking(true);
        c.adopt(l.accept());
    }

    @Test
    void shouldReturnEintrAndResetWhenBlockingConnectIsInterrupted() throws Exception {
        c = LoopbackTestContext.manual("connect", leaks);
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        Thread[] self = new Thread[1];
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        Future<Object> f = c.spawn("connector", () -> {
            self[0] = Thread.currentThread();
            started.countDown();
            s.connect(VMADDR_CID_LOCAL, 1234);
            return "connected";
        });
        started.await();
        c.clock().awaitSleepers(1);
        self[0].interrupt();
        assertThat(errnoOf(f)).isEqualTo(EINTR);
        // CLOSE / SS_UNCONNECTED again, REQUEST cancelled, binding and transport kept.
        assertThat(Poll.names(revents(s))).isEqualTo(Poll.names(OUT));
        assertThat(soError(s)).isZero();
        c.drain();
        assertThat(c.counters().received(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST)).isZero();
        int port = s.getsockname().port();
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        c.drain();
        assertThat(soError(s)).isZero();
        assertThat(s.getsockname().port()).isEqualTo(port);
        l.setNonBlocking(true);
        VsockSocket a = c.adopt(l.accept());
        assertThat(a.getpeername().port()).isEqualTo(port);
    }
}
