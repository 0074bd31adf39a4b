package io.vsocksim.sim;

import io.vsocksim.user.VsockSocket;
import static ch.qos.logback.classic.Level.DEBUG;
import static io.vsocksim.kernel.LoggerNames.AF_VSOCK;
import static io.vsocksim.kernel.LoggerNames.VHOST;
import static io.vsocksim.kernel.LoggerNames.VHOST_VSOCK;
import static io.vsocksim.kernel.LoggerNames.VIRTIO_TRANSPORT;
import static io.vsocksim.kernel.LoggerNames.VIRTIO_TRANSPORT_COMMON;
import static io.vsocksim.kernel.LoggerNames.VMM_VHOST_VSOCK;
import static io.vsocksim.testing.LogCapture.line;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.testing.LogCapture;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vhost.VringError;
import io.vsocksim.vsock.vhost.VhostVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VsockSkb;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a host ("host", CID 2) and a guest ("guest3", CID 3) log at DEBUG when a connection is refused,
 * a guest sends a malformed packet or corrupts its TX ring, and the VMM resets the transport. Each line
 * is caused by the one before it, so their order is fixed although the machines run on their own
 * threads. Every expected line is written out in full.
 */
@Timeout(60)
class DeviceLoggingTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @RegisterExtension
    final LogCapture log = new LogCapture();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    @Test
    void shouldLogTheDropAndRstOnTheHostAndTheRefusalOnTheGuestWhenConnectingToAnUnboundPort() throws Exception {
        Guest g = c.guest(3);
        log.capture(DEBUG, AF_VSOCK, VIRTIO_TRANSPORT_COMMON);
        VsockSocket cl = c.track(VsockSocket.open(g, Sock.SOCK_STREAM | Sock.SOCK_NONBLOCK));
        assertThatThrownBy(() -> cl.connect(2, 5000)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EINPROGRESS);
        c.drain();
        String port = Integer.toUnsignedString(cl.getsockname().port()); // an ephemeral port is a u32

        assertThat(cl.getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR)).isEqualTo(Errno.ECONNRESET);
        assertThat(log.lines()).containsExactly(
                line(DEBUG, AF_VSOCK, "guest3: state TCP_CLOSE -> TCP_SYN_SENT, local 4294967295:" + port + ", remote 2:5000"),
                line(DEBUG, VIRTIO_TRANSPORT_COMMON, "host: drop DROP_NO_SOCK (no socket): VirtioVsockHdr{3:" + port
                        + " -> 2:5000, op=VIRTIO_VSOCK_OP_REQUEST, type=VIRTIO_VSOCK_TYPE_STREAM, len=0, flags=0x0,"
                        + " buf_alloc=262144, fwd_cnt=0}"),
                line(DEBUG, VIRTIO_TRANSPORT_COMMON, "host: RST sent, local 2:5000, remote 3:" + port
                        + ": no socket (answering VIRTIO_VSOCK_OP_REQUEST)"),
                line(DEBUG, VIRTIO_TRANSPORT_COMMON, "guest3: RST received, local 4294967295:" + port
                        + ", remote 2:5000: connect refused (ECONNRESET)"),
                line(DEBUG, VIRTIO_TRANSPORT_COMMON, "guest3: state TCP_SYN_SENT -> TCP_CLOSE, local 4294967295:" + port
                        + ", remote 2:5000"));
    }

    @Test
    void shouldLogTheDropWithTheCountersReasonWhenAGuestSendsAHeaderLongerThanItsChain() throws Exception {
        Guest g = c.guest(3);
        log.capture(DEBUG, LoggerNames.ROOT); // everything: the drop is the only line
        // hdr.len says 100 payload bytes; the chain holds 44 + 50.
        VsockSkb h = SkbPool.of(g.core()).allocLinear(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + 50);
        h.hdr().srcCid(3).dstCid(2).srcPort(5555).dstPort(1234).len(100)
                .type(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()).op(VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value())
                .bufAlloc(65536);
        assertThat(g.driver().addRawTxChain(new long[] {h.headGpa(), h.headGpa() + 44}, new int[] {44, 50}, 2,
                null, null, 0, h)).isZero();
        c.drain();

        assertThat(g.deviceCounters().get(Counter.DROP_TX_BAD_HDR_LEN)).isEqualTo(1);
        assertThat(log.lines()).containsExactly(
                line(DEBUG, VHOST_VSOCK, "host: drop DROP_TX_BAD_HDR_LEN (hdr.len beyond the TX chain, guest cid 3):"
                        + " VirtioVsockHdr{3:5555 -> 2:1234, op=VIRTIO_VSOCK_OP_RW, type=VIRTIO_VSOCK_TYPE_STREAM, len=100,"
                        + " flags=0x0, buf_alloc=65536, fwd_cnt=0}"));
    }

    @Test
    void shouldLogTheVqErrAndTheStoppedQueueWhenAGuestPublishesAnImpossibleAvailIndex() throws Exception {
        Guest g = c.guest(3);
        HostileGuestRing r = new HostileGuestRing(g, VSOCK_VQ_TX);
        int last = r.device().lastAvailIdx();
        log.capture(DEBUG, VHOST, VHOST_VSOCK);

        r.setAvailIdx(last + r.num + 1);
        r.kick();
        c.drain();

        assertThat(r.device().errors(VringError.INVALID_AVAIL_IDX)).isEqualTo(1);
        assertThat(log.lines()).containsExactly(
                line(DEBUG, VHOST, "vq_err INVALID_AVAIL_IDX at last_avail_idx " + last),
                line(DEBUG, VHOST_VSOCK, "host: guest cid 3: TX vq stopped at last_avail_idx " + last
                        + ": vq_err INVALID_AVAIL_IDX"));
        g.vhost().release();
        r.restore();
        r.close();
    }

    @Test
    void shouldLogTheEventTheCidAndEveryResetSocketWhenTheVmmResetsTheTransport() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = c.connect(g, c.host, 2, Sock.SOCK_STREAM, 1234);
        c.drain();
        String port = Integer.toUnsignedString(p[0].getsockname().port());
        log.capture(DEBUG, VMM_VHOST_VSOCK, VIRTIO_TRANSPORT);

        assertThat(c.host.sendTransportReset(g, 5)).isZero();
        c.drain();

        assertThat(io.vsocksim.user.internal.UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(log.lines()).containsExactly(
                line(DEBUG, VMM_VHOST_VSOCK, "guest3: TRANSPORT_RESET event sent (EVENTS_SENT): the guest resets its connections"),
                line(DEBUG, VIRTIO_TRANSPORT, "guest3: transport reset: guest cid 3 -> 5, resetting every connected socket"),
                line(DEBUG, VIRTIO_TRANSPORT, "guest3: reset, local 4294967295:" + port
                        + ", remote 2:1234: TRANSPORT_RESET event (ECONNRESET)"),
                line(DEBUG, VIRTIO_TRANSPORT, "guest3: state TCP_ESTABLISHED -> TCP_CLOSE, local 4294967295:" + port
                        + ", remote 2:1234"));
    }
}
