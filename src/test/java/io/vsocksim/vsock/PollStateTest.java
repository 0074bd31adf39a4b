package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EINPROGRESS;
import static io.vsocksim.uapi.Errno.ENOBUFS;
import static io.vsocksim.uapi.Poll.POLLERR;
import static io.vsocksim.uapi.Poll.POLLHUP;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Poll.POLLRDHUP;
import static io.vsocksim.uapi.Poll.POLLRDNORM;
import static io.vsocksim.uapi.Poll.POLLWRNORM;
import static io.vsocksim.uapi.Sock.SHUT_RDWR;
import static io.vsocksim.uapi.Sock.SHUT_WR;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static io.vsocksim.vsock.LoopbackTestContext.soError;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.virtio.VirtioSockDiag;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * poll revents in each row of socket-layer.md §10 "masks for common situations" that loopback can
 * reach, asserted exactly on a deterministic machine (default SO_RCVLOWAT 1).
 */
@Timeout(30)
class PollStateTest {
    private static final int IN = POLLIN | POLLRDNORM;
    private static final int OUT = POLLOUT | POLLWRNORM;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext c;

    @BeforeEach
    void setUp() {
        c = LoopbackTestContext.manual("poll", leaks);
    }

    @AfterEach
    void tearDown() {
        c.close();
    }

    private static void assertMask(VsockSocket s, int expected) throws Exception {
        assertThat(Poll.names(LoopbackTestContext.revents(s))).isEqualTo(Poll.names(expected));
    }

    private static int send(VsockSocket s, int n) throws Exception {
        return s.send(ByteBuffer.allocate(n), 0);
    }

    @Test
    void shouldReportOutWhenSocketIsNew() throws Exception {
        assertMask(c.sock(SOCK_STREAM), OUT);
        assertMask(c.sock(SOCK_SEQPACKET), OUT);
    }

    @Test
    void shouldReportInOnlyWhenListenerHasQueuedChild() throws Exception {
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        assertMask(l, 0);
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        // SYN_SENT without error.
        assertMask(s, 0);
        c.drain();
        assertMask(l, IN);
        l.setNonBlocking(true);
        c.adopt(l.accept());
        assertMask(l, 0);
    }

    @Test
    void shouldReportErrOutWhenNonBlockingConnectIsRefused() throws Exception {
        VsockSocket s = c.sock(SOCK_STREAM);
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        c.drain();
        assertMask(s, POLLERR | OUT);
        soError(s);
        assertMask(s, OUT);
    }

    @Test
    void shouldReportInAndOutByQueueAndCreditWhenEstablished() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        assertMask(p[0], OUT);
        assertMask(p[1], OUT);
        send(p[0], 10);
        c.drain();
        assertMask(p[1], IN | OUT);
        assertMask(p[0], OUT);
    }

    @Test
    void shouldDropOutWhenPeerWindowIsFull() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        assertThat(send(p[0], 256 * 1024)).isEqualTo(256 * 1024);
        c.drain();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).credit()).isZero();
        assertMask(p[0], 0);
        send(p[1], 10);
        c.drain();
        assertMask(p[0], IN);
        assertMask(p[1], IN | OUT);
    }

    @Test
    void shouldReportRdhupInOutWhenPeerShutsItsSendingSide() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[1].shutdown(SHUT_WR);
        c.drain();
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertMask(p[0], POLLRDHUP | IN | OUT);
    }

    @Test
    void shouldStayEstablishedWithRdhupWhenPeerClosesWithUnreadData() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        send(p[1], 10);
        c.drain();
        p[1].close();
        c.drain();
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertMask(p[0], POLLRDHUP | IN | OUT);
        // Reading the data does not move the socket on (nothing does); EOF follows.
        assertThat(p[0].recv(ByteBuffer.allocate(64), 0)).isEqualTo(10);
        assertThat(p[0].recv(ByteBuffer.allocate(64), 0)).isZero();
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertMask(p[0], POLLRDHUP | IN | OUT);
    }

    @Test
    void shouldReportRdhupInOutWhenPeerClosedWithNothingLeftToRead() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[1].close();
        c.drain();
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_CLOSING);
        assertMask(p[0], POLLRDHUP | IN | OUT);
    }

    @Test
    void shouldDropOutAndRaiseHupOnlyAfterPeerAlsoShutsWhenOwnSendSideIsShut() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[0].shutdown(SHUT_WR);
        c.drain();
        assertMask(p[0], 0);
        p[1].shutdown(SHUT_WR);
        c.drain();
        assertMask(p[0], POLLHUP | POLLRDHUP | IN);
    }

    @Test
    void shouldReportHupRdhupInWhenOwnSocketIsFullyShut() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[0].shutdown(SHUT_RDWR);
        assertMask(p[0], POLLHUP | POLLRDHUP | IN);
        // The peer answers the full SHUTDOWN with RST: CLOSING, same mask.
        c.drain();
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_CLOSING);
        assertMask(p[0], POLLHUP | POLLRDHUP | IN);
    }

    @Test
    void shouldReportErrRdhupInOutWhenReceiveOverflowResetLeavesDataQueued() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        // 200 KiB granted against the 256 KiB window, then the receiver shrinks its window to 64 KiB
        // before the packets arrive: the second 64 KiB skb no longer fits.
        assertThat(send(p[0], 200 * 1024)).isEqualTo(200 * 1024);
        p[1].setBufferSize(64 * 1024);
        c.drain();
        assertThat(UserInternals.sock(p[1]).skErr).isEqualTo(ENOBUFS);
        assertThat(UserInternals.sock(p[1]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[1])).rxBytes()).isEqualTo(64 * 1024);
        // Credit toward the sender: min(256 KiB, 64 KiB) − 0 > 0, so OUT too.
        assertMask(p[1], POLLERR | POLLRDHUP | IN | OUT);
    }
}
