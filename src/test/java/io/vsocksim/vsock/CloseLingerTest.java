package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static io.vsocksim.vsock.LoopbackTestContext.setLinger;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockCounters.Counter;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * close() over loopback (socket-layer.md §9, virtio-transport.md §7): graceful close in both orders,
 * unread data on either side, SO_LINGER on the virtual clock, close during a blocking connect, and the
 * RST paths. Every test ends with all pages back and all sockets destructed.
 */
@Timeout(30)
class CloseLingerTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
    }

    private static byte[] recvAll(VsockSocket s) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        int n;
        while ((n = s.recv(b, 0)) > 0) {
            assertThat(n).isPositive();
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** Closing side {@code p[closer]}: its peer has nothing unread, so the peer answers with RST at once. */
    private void shouldCloseGracefully(int closer) throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        VsockSocket other = p[1 - closer];
        int live = c.m.liveSockets();
        long rst0 = c.counter(Counter.RST_SENT);
        p[closer].close();
        assertThat(recvAll(other)).isEmpty();
        c.drain();
        // SHUTDOWN(3) → the peer had nothing unread → its RST finished the closer before its 8 s timer.
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0 + 1);
        assertThat(c.m.liveSockets()).isEqualTo(live - 1);
        assertThat(UserInternals.sock(other).skState).isEqualTo(TcpState.TCP_CLOSING);
        assertErrno(() -> other.send(ByteBuffer.allocate(1), MSG_NOSIGNAL), EPIPE);
        other.close();
        // The survivor had the peer's full shutdown: RST, done at once.
        c.drain();
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0 + 2);
        assertThat(c.m.liveSockets()).isEqualTo(live - 2);
    }

    @Test
    void shouldFinishWithoutTimerWhenClientClosesFirst() throws Exception {
        shouldCloseGracefully(0);
    }

    @Test
    void shouldFinishWithoutTimerWhenServerClosesFirst() throws Exception {
        shouldCloseGracefully(1);
    }

    /**
     * The survivor is the accepted child: the closer's SHUTDOWN(3) took it out of the connected table
     * and a child is never in the bound table, so the closer's timer RST finds no socket and is
     * dropped; the child is never marked done and ends at EOF.
     */
    @Test
    void shouldKeepSurvivorReadableAndCloserWaitingForTimerWhenChildHasUnreadData() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        int live = c.m.liveSockets();
        p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        c.drain();
        p[0].close();
        c.drain();
        // The survivor does not answer (data unread): the closer stays registered.
        assertThat(c.m.liveSockets()).isEqualTo(live);
        assertThat(UserInternals.sock(p[1]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(SimInternals.core(c.m).inConnectedTable(UserInternals.sock(p[1]))).isFalse();
        assertThat(recvAll(p[1])).containsExactly(1, 2, 3);
        assertThat(UserInternals.sock(p[1]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        // Reading emptied the queue, so the survivor sent a CREDIT_UPDATE; let it reach the closer
        // before the timer fires (8 s apart on a real machine), or the closer, already done, would
        // answer it with a second RST.
        c.drain();
        long rst0 = c.counter(Counter.RST_SENT);
        c.clock().advanceJiffies(io.vsocksim.vsock.virtio.VirtioTransport.VSOCK_CLOSE_TIMEOUT);
        c.drain();
        // The closer's 8 s timer sent RST and removed it; nobody received the RST.
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0 + 1);
        assertThat(c.m.liveSockets()).isEqualTo(live - 1);
        assertThat(UserInternals.sock(p[1]).sockFlag(VsockSock.SOCK_DONE)).isFalse();
        assertThat(p[1].recv(ByteBuffer.allocate(1), 0)).isZero();
        p[1].close();
    }

    @Test
    void shouldDropOwnUnreadDataWhenClosingSideHasUnreadData() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        int live = c.m.liveSockets();
        p[1].send(ByteBuffer.allocate(100_000), 0);
        c.drain();
        p[0].close();
        c.drain();
        // The peer had nothing unread: RST back, closer done and its queue purged (LeakCheck: pages).
        assertThat(c.m.liveSockets()).isEqualTo(live - 1);
        assertErrno(() -> p[1].send(ByteBuffer.allocate(1), MSG_NOSIGNAL), EPIPE);
        assertThat(p[1].recv(ByteBuffer.allocate(1), 0)).isZero();
    }

    @Test
    void shouldBlockCloseForLingerTimeWhenPeerHoldsUnreadData() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[0].send(ByteBuffer.allocate(10), 0);
        c.drain();
        setLinger(p[0], true, 5);
        Future<Object> closer = c.spawn("closer", () -> {
            p[0].close();
            return "closed";
        });
        long t0 = c.clock().nanoTime();
        c.clock().awaitSleepers(1);
        // Parked for exactly the linger time (sk_lingertime is in jiffies).
        assertThat(c.clock().earliestDeadline()).isEqualTo(t0 + Clock.jiffiesToNanos(5L * Clock.HZ));
        c.clock().advanceJiffies(5L * Clock.HZ - 1);
        // One jiffy short of the linger time: still blocked in close.
        c.clock().awaitSleepers(1);
        assertThat(closer.isDone()).isFalse();
        c.clock().advanceJiffies(1);
        assertThat(closer.get()).isEqualTo("closed");
        // Not SOCK_DONE: the close timer takes over.
        assertThat(UserInternals.sock(p[0]).sockFlag(VsockSock.SOCK_DONE)).isFalse();
        assertThat(recvAll(p[1])).hasSize(10);
    }

    @Test
    void shouldReturnFromLingeringCloseWhenPeerAnswersWithRst() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        setLinger(p[0], true, 5);
        int live = c.m.liveSockets();
        // The peer has nothing unread, so its RST sets SOCK_DONE before any time passes.
        p[0].close();
        assertThat(UserInternals.sock(p[0]).sockFlag(VsockSock.SOCK_DONE)).isTrue();
        c.drain();
        assertThat(c.m.liveSockets()).isEqualTo(live - 1);
    }

    @Test
    void shouldNotWaitWhenLingerTimeIsZero() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[0].send(ByteBuffer.allocate(10), 0);
        c.drain();
        setLinger(p[0], true, 0);
        long rst0 = c.counter(Counter.RST_SENT);
        p[0].close();
        // No abortive RST as in TCP: SHUTDOWN only, and the close timer is left to finish.
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0);
        assertThat(c.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN)).isEqualTo(1);
        assertThat(recvAll(p[1])).hasSize(10);
    }

    @Test
    void shouldAnswerRstWhenPeerAlreadyShutBothWays() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[1].send(ByteBuffer.allocate(10), 0);
        c.drain();
        // p[0] keeps unread data, so p[1]'s SHUTDOWN(3) is not answered and p[1] keeps its timer.
        p[1].shutdown(io.vsocksim.uapi.Sock.SHUT_RDWR);
        c.drain();
        assertThat(UserInternals.sock(p[0]).peerShutdown).isEqualTo(3);
        long rst0 = c.counter(Counter.RST_SENT);
        int live = c.m.liveSockets();
        // Closing after the peer's full shutdown: RST, nothing else, done at once.
        long sd0 = c.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN);
        p[0].close();
        c.drain();
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0 + 1);
        assertThat(c.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN)).isEqualTo(sd0);
        assertThat(c.m.liveSockets()).isEqualTo(live - 1);
        assertThat(UserInternals.sock(p[1]).sockFlag(VsockSock.SOCK_DONE)).isTrue();
    }

    /**
     * The survivor is the client: auto-bound, so the closer's timer RST reaches it through the bound
     * table and runs do_close; with data still queued it stays ESTABLISHED and readable.
     */
    @Test
    void shouldResetClientWithRstWhenServerCloseTimerExpires() throws Exception {
        c = LoopbackTestContext.threaded("close", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[1].send(ByteBuffer.allocate(10), 0);
        c.drain();
        p[1].close();
        c.drain();
        long rst0 = c.counter(Counter.RST_SENT);
        c.clock().advanceJiffies(io.vsocksim.vsock.virtio.VirtioTransport.VSOCK_CLOSE_TIMEOUT - 1);
        c.drain();
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0);
        c.clock().advanceJiffies(1);
        c.drain();
        assertThat(c.counter(Counter.RST_SENT)).isEqualTo(rst0 + 1);
        assertThat(UserInternals.sock(p[0]).sockFlag(VsockSock.SOCK_DONE)).isTrue();
        // Data still queued: the survivor stays ESTABLISHED and readable, then EOF.
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(recvAll(p[0])).hasSize(10);
    }

    /**
     * A blocking connect cannot be kept waiting on loopback while workers run, so this one uses the
     * manual machine. close() only drops the descriptor: the connect in progress keeps the file, and
     * the socket is released when that call returns (generic fput semantics).
     */
    @Test
    void shouldCompleteConnectThenReleaseWhenClosedDuringBlockingConnect() throws Exception {
        c = LoopbackTestContext.manual("close", leaks);
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        Future<Object> connector = c.spawn("connector", () -> {
            s.connect(VMADDR_CID_LOCAL, 1234);
            return "connected";
        });
        c.clock().awaitSleepers(1);
        s.close();
        assertThat(connector.isDone()).isFalse();
        c.drain();
        assertThat(connector.get()).isEqualTo("connected");
        l.setNonBlocking(true);
        VsockSocket a = c.adopt(l.accept());
        c.drain();
        // The release after connect returned sent SHUTDOWN(3): the child sees EOF.
        assertThat(a.recv(ByteBuffer.allocate(1), io.vsocksim.uapi.Sock.MSG_DONTWAIT)).isZero();
    }
}
