package io.vsocksim.vsock.virtio;

import static io.vsocksim.vsock.virtio.VsockTestContext.vvs;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockSock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Peer-controlled bad input on an established loopback connection, injected as raw packets into the
 * receive path: each gets the kernel's outcome and nothing throws (virtio_transport_recv_pkt and its
 * state handlers).
 */
class RecvBadInputTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private VsockTestContext ctx;
    private VsockSock client;
    private VsockSock server;
    private VsockSock listener;

    @BeforeEach
    void setUp() {
        ctx = new VsockTestContext(leaks);
        listener = ctx.listen(Sock.SOCK_STREAM, 1234, 1);
        client = ctx.connect(Sock.SOCK_STREAM, 1, 1234);
        ctx.run();
        server = ctx.accept(listener);
        assertThat(server.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
    }

    private VsockSkb rw(int len) {
        VsockSkb skb = ctx.lo.pool().alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + len);
        VirtioTransportSend.initHdr(skb, VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value(), VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value(),
                0, len, 1, client.localAddr.port(), 1, server.localAddr.port());
        skb.put(len);
        skb.hdr().bufAlloc(vvs(client).bufAlloc).fwdCnt(0);
        return skb;
    }

    private void closeAll() {
        ctx.release(client);
        ctx.release(server);
        ctx.release(listener);
        ctx.run();
        ctx.clock.advanceJiffies(9 * io.vsocksim.kernel.Clock.HZ);
        ctx.run();
    }

    @Test
    void shouldResetWithEnobufsWhenPeerSendsMoreThanTheCreditItWasGiven() {
        // Shrink the receiver's window: the sender learns it from the CREDIT_UPDATE, a rogue peer ignores it.
        ctx.setBufferSize(server, 4096);
        ctx.run();
        long rstBefore = ctx.core.counters().get(Counter.RST_SENT);

        VirtioTransportRecv.recvPkt(ctx.lo, rw(4000));
        assertThat(vvs(server).rxBytes).isEqualTo(4000);
        // 4000 + 97 > buf_alloc 4096: refused by virtio_transport_inc_rx_pkt
        VirtioTransportRecv.recvPkt(ctx.lo, rw(97));
        ctx.run();

        assertThat(server.skErr).isEqualTo(Errno.ENOBUFS);
        assertThat(server.sockFlag(VsockSock.SOCK_DONE)).isTrue();
        assertThat(server.peerShutdown).isEqualTo(Sock.SHUTDOWN_MASK);
        // Unread data was queued, so do_close leaves it ESTABLISHED (it only moves to CLOSING when empty).
        assertThat(server.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(vvs(server).rxBytes).isEqualTo(4000);
        assertThat(ctx.core.inConnectedTable(server)).isFalse();
        assertThat(ctx.core.counters().get(Counter.RST_SENT)).isEqualTo(rstBefore + 1);
        assertThat(ctx.core.counters().get(Counter.RX_OVERFLOW_RESETS)).isEqualTo(1);
        // The RST reached the client: it is done too.
        assertThat(client.sockFlag(VsockSock.SOCK_DONE)).isTrue();
        closeAll();
    }

    @Test
    void shouldDropUnknownOpWithoutReplyWhenEstablished() {
        long sentBefore = ctx.core.counters().get(Counter.PKTS_SENT);
        VsockSkb skb = rw(0);
        skb.hdr().op(42);
        VirtioTransportRecv.recvPkt(ctx.lo, skb);
        ctx.run();
        assertThat(ctx.core.counters().get(Counter.PKTS_SENT)).isEqualTo(sentBefore);
        assertThat(server.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(server.skErr).isZero();
        closeAll();
    }

    @Test
    void shouldAnswerUnknownTypeWithRstEvenForAConnectedPeer() {
        long rstBefore = ctx.core.counters().get(Counter.RST_SENT);
        VsockSkb skb = rw(0);
        skb.hdr().type(9);
        VirtioTransportRecv.recvPkt(ctx.lo, skb);
        ctx.run();
        assertThat(ctx.core.counters().get(Counter.RST_SENT)).isEqualTo(rstBefore + 1);
        // reset_no_sock copies the bad type into its RST; the client's lookup then fails the type check, and
        // an RST is never answered, so the exchange ends there.
        assertThat(server.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        closeAll();
    }
}
