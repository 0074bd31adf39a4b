package io.vsocksim.vsock.virtio;

import static ch.qos.logback.classic.Level.DEBUG;
import static io.vsocksim.kernel.LoggerNames.VIRTIO_TRANSPORT_COMMON;
import static io.vsocksim.testing.LogCapture.line;
import static io.vsocksim.vsock.virtio.VsockTestContext.vvs;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.testing.LogCapture;
import io.vsocksim.testing.LogCapture.Line;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockSock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The DEBUG lines of an established connection that a peer resets: the receiver of a packet beyond the
 * credit it gave drops it, counts it in {@code RX_OVERFLOW_RESETS} and sends RST; the sender logs the
 * RST and its close. One deterministic loopback machine ("m"), raw packet injected as in
 * {@link RecvBadInputTest}.
 */
class ResetLoggingTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @RegisterExtension
    final LogCapture log = new LogCapture();

    private static Line common(String message) {
        return line(DEBUG, VIRTIO_TRANSPORT_COMMON, "m: " + message);
    }

    @Test
    void shouldLogTheDropTheRstAndThePeersCloseWhenAPeerOverrunsItsCredit() {
        VsockTestContext ctx = new VsockTestContext(leaks);
        VsockSock listener = ctx.listen(Sock.SOCK_STREAM, 1234, 1);
        VsockSock client = ctx.connect(Sock.SOCK_STREAM, 1, 1234);
        ctx.run();
        VsockSock server = ctx.accept(listener);
        ctx.setBufferSize(server, 4096);
        ctx.run();
        int port = client.localAddr.port();
        log.capture(DEBUG, VIRTIO_TRANSPORT_COMMON);

        // 4097 bytes against a 4096-byte window: virtio_transport_inc_rx_pkt refuses the packet.
        VsockSkb skb = ctx.lo.pool().alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + 4097);
        VirtioTransportSend.initHdr(skb, VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value(),
                VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value(), 0, 4097, 1, port, 1, 1234);
        skb.put(4097);
        skb.hdr().bufAlloc(vvs(client).bufAlloc);
        VirtioTransportRecv.recvPkt(ctx.lo, skb);
        ctx.run();

        assertThat(server.skErr).isEqualTo(Errno.ENOBUFS);
        assertThat(ctx.core.counters().get(Counter.RX_OVERFLOW_RESETS)).isEqualTo(1);
        assertThat(log.lines()).containsExactly(
                common("drop RX_OVERFLOW_RESETS (no room in the receive buffer): VirtioVsockHdr{1:" + port
                        + " -> 1:1234, op=VIRTIO_VSOCK_OP_RW, type=VIRTIO_VSOCK_TYPE_STREAM, len=4097, flags=0x0,"
                        + " buf_alloc=262144, fwd_cnt=0}"),
                common("RST sent, local 1:1234, remote 1:" + port + ": receive buffer overflow (ENOBUFS)"),
                common("state TCP_ESTABLISHED -> TCP_CLOSING, local 1:1234, remote 1:" + port),
                common("RST received, local 4294967295:" + port + ", remote 1:1234: the peer closed or reset the connection"),
                common("state TCP_ESTABLISHED -> TCP_CLOSING, local 4294967295:" + port + ", remote 1:1234"));

        ctx.release(client);
        ctx.release(server);
        ctx.release(listener);
        ctx.run();
        ctx.clock.advanceJiffies(9 * Clock.HZ);
        ctx.run();
    }
}
