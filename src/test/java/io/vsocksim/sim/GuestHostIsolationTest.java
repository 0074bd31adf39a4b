package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.vhost.VhostVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Isolation between guests, hostile TX chains, TRANSPORT_RESET, guest release, CID rules. */
@Timeout(60)
class GuestHostIsolationTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    final ExecutorService pool = c.pool;

    @AfterEach
    void tearDown() {
        c.close();
    }

    VsockSocket[] pair(Machine from, Machine to, int toCid, int port) throws Exception {
        return c.connect(from, to, toCid, Sock.SOCK_STREAM, port);
    }

    void assertWorks(VsockSocket[] p) throws Exception {
        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0)).isEqualTo(3);
        assertThat(p[1].recv(ByteBuffer.allocate(8), 0)).isEqualTo(3);
    }

    /** A guest skb holding a header (and {@code payload} zero bytes) addressed as given. */
    static VsockSkb rawSkb(Guest g, long src, long dst, int hdrLen, int payload) {
        VsockSkb skb = SkbPool.of(g.core()).allocLinear(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + payload);
        skb.hdr().srcCid(src).dstCid(dst).srcPort(5555).dstPort(1234).len(hdrLen)
                .type(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()).op(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value())
                .bufAlloc(65536);
        return skb;
    }

    int addRaw(Guest g, VsockSkb skb, long[] out, int[] outLen, long[] in, int[] inLen) {
        return g.driver().addRawTxChain(out, outLen, out.length, in, inLen, in == null ? 0 : in.length, skb);
    }

    @Test
    void shouldNotReachGuestBWhenGuestAConnectsToItsCid() throws Exception {
        Guest a = c.guest(3);
        Guest b = c.guest(4);
        VsockSocket l = c.track(VsockSocket.open(b, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 1234);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(a, Sock.SOCK_STREAM | Sock.SOCK_NONBLOCK));
        assertThatThrownBy(() -> cl.connect(4, 1234)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EINPROGRESS);
        c.drain();
        assertThat(a.deviceCounters().get(Counter.DROP_ISOLATION)).isEqualTo(1);
        assertThat(b.deviceCounters().get(Counter.TX_PKTS) + b.deviceCounters().get(Counter.RX_PKTS)).isZero();
        assertThat(UserInternals.sock(cl).skState).isEqualTo(TcpState.TCP_SYN_SENT);
        assertThat(UserInternals.sock(l).acceptQueue).isEmpty();
    }

    @Test
    void shouldDropAndCountWhenGuestSpoofsSourceCid() throws Exception {
        Guest g = c.guest(3);
        VsockSocket l = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 1234);
        l.listen(4);
        VsockSkb spoof = rawSkb(g, 77, 2, 0, 0);
        assertThat(addRaw(g, spoof, new long[] {spoof.headGpa()}, new int[] {44}, null, null)).isZero();
        VsockSkb wrongDst = rawSkb(g, 3, 4, 0, 0);
        assertThat(addRaw(g, wrongDst, new long[] {wrongDst.headGpa()}, new int[] {44}, null, null)).isZero();
        c.drain();
        assertThat(g.deviceCounters().get(Counter.DROP_ISOLATION)).isEqualTo(2);
        assertThat(UserInternals.sock(l).acceptQueue).isEmpty();
        // Both chains were returned (used len 0) and freed by tx_work.
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED)).isGreaterThanOrEqualTo(2);
        assertWorks(pair(g, c.host, 2, 1235));
    }

    @Test
    void shouldConsumeWithoutReturningWhenTxChainIsMalformed() throws Exception {
        Guest g = c.guest(3);
        Guest other = c.guest(4);
        VsockSocket[] otherPair = pair(other, c.host, 2, 1300);
        // A writable descriptor in a TX chain.
        VsockSkb w = rawSkb(g, 3, 2, 0, 64);
        addRaw(g, w, new long[] {w.headGpa()}, new int[] {44}, new long[] {w.headGpa() + 44}, new int[] {64});
        // Shorter than a header.
        VsockSkb s = rawSkb(g, 3, 2, 0, 0);
        addRaw(g, s, new long[] {s.headGpa()}, new int[] {20}, null, null);
        // Longer than 64 KiB + 44: seventeen 4 KiB pieces of the same page.
        VsockSkb big = rawSkb(g, 3, 2, 0, 4000);
        long[] gpas = new long[17];
        int[] lens = new int[17];
        java.util.Arrays.fill(gpas, big.headGpa());
        java.util.Arrays.fill(lens, 4000);
        addRaw(g, big, gpas, lens, null, null);
        // hdr.len beyond the chain.
        VsockSkb h = rawSkb(g, 3, 2, 100, 50);
        addRaw(g, h, new long[] {h.headGpa(), h.headGpa() + 44}, new int[] {44, 50}, null, null);
        // Header split at an odd byte boundary is fine (control: accepted, answered with RST).
        VsockSkb ok = rawSkb(g, 3, 2, 0, 0);
        addRaw(g, ok, new long[] {ok.headGpa(), ok.headGpa() + 7}, new int[] {7, 37}, null, null);
        c.drain();
        assertThat(g.deviceCounters().get(Counter.DROP_TX_WRITABLE)).isEqualTo(1);
        assertThat(g.deviceCounters().get(Counter.DROP_TX_BAD_SIZE)).isEqualTo(2);
        assertThat(g.deviceCounters().get(Counter.DROP_TX_BAD_HDR_LEN)).isEqualTo(1);
        assertThat(g.deviceCounters().get(Counter.TX_PKTS)).isEqualTo(1);
        // Four chains never came back: their descriptors stay taken until the driver is removed.
        assertThat(g.driver().vq(1).numFree()).isLessThan(g.driver().vq(1).size());
        // The queue keeps working for this guest and the other guest never noticed.
        assertWorks(pair(g, c.host, 2, 1301));
        assertWorks(otherPair);
        assertThat(other.deviceCounters().get(Counter.VQ_ERRORS)).isZero();
    }

    @Test
    void shouldResetConnectedGuestSocketsButKeepListenersWhenTransportResetArrives() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] up = pair(g, c.host, 2, 1234);
        // A transfer in flight: the guest sender blocks on credit because the host does not read.
        Future<?> tx = pool.submit(() -> {
            try {
                while (true) {
                    up[0].send(ByteBuffer.allocate(65536), 0);
                }
            } catch (ErrnoException e) {
                return e.errno();
            }
        });
        VsockSocket gl = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        gl.bind(VmSockets.VMADDR_CID_ANY, 4000);
        gl.listen(4);
        c.drain();
        assertThat(c.host.sendTransportReset(g)).isZero();
        c.drain();
        assertThat(tx.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(UserInternals.sock(up[0]).skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(1);
        assertThat(up[0].getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR)).isIn(0, Errno.ECONNRESET);
        assertThatThrownBy(() -> up[0].send(ByteBuffer.allocate(1), 0)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ENOTCONN);
        assertThat(UserInternals.sock(gl).skState).isEqualTo(TcpState.TCP_LISTEN);
        VsockSocket hc = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        hc.connect(3, 4000);
        VsockSocket acc = c.track(gl.accept());
        assertWorks(new VsockSocket[] {hc, acc});
    }

    @Test
    void shouldReportResetOnFreshSocketWhenResetArrivesBeforeAnyRead() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] up = pair(g, c.host, 2, 1234);
        c.drain();
        assertThat(c.host.sendTransportReset(g)).isZero();
        c.drain();
        assertThat(UserInternals.sock(up[0]).skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(up[0].getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR)).isEqualTo(Errno.ECONNRESET);
        assertThat(UserInternals.sock(up[0]).sockFlag(io.vsocksim.vsock.VsockSock.SOCK_DONE)).isFalse();
    }

    @Test
    void shouldResetOrphanedHostSocketsWhenGuestIsClosed() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] up = pair(g, c.host, 2, 1234);
        c.drain();
        g.vhost().release();
        assertThat(UserInternals.sock(up[1]).skErr).isEqualTo(Errno.ECONNRESET);
        // The kernel stores SS_UNCONNECTED (1) in sk_state: numerically TCP_ESTABLISHED.
        assertThat(UserInternals.sock(up[1]).skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(UserInternals.sock(up[1]).peerShutdown).isEqualTo(Sock.SHUTDOWN_MASK);
        assertThat(g.deviceCounters().get(Counter.ORPHANS_RESET)).isEqualTo(1);
    }

    @Test
    void shouldRefuseReservedAndDuplicateCidsWhenStartingGuests() throws Exception {
        c.guest(3);
        for (long cid : new long[] {0, 1, 2, 0xFFFF_FFFFL, 1L << 32}) {
            assertThatThrownBy(() -> c.guest(cid)).isInstanceOf(ErrnoException.class)
                    .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EINVAL);
        }
        assertThatThrownBy(() -> c.guest(3)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EADDRINUSE);
    }

    @Test
    void shouldRefuseHostSendWhenNoGuestHasTheCid() throws Exception {
        VsockSocket s = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> s.connect(9, 1234)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ENODEV);
    }

    @Test
    void shouldRefuseSeqpacketWhenDeviceDoesNotOfferIt() throws Exception {
        Guest g = c.guest(3, new Guest.Options(true, false, false, false, 64));
        VsockSocket s = c.track(VsockSocket.open(g, Sock.SOCK_SEQPACKET));
        assertThatThrownBy(() -> s.connect(2, 1234)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ESOCKTNOSUPPORT);
        VsockSocket h = c.track(VsockSocket.open(c.host, Sock.SOCK_SEQPACKET));
        assertThatThrownBy(() -> h.connect(3, 1234)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ESOCKTNOSUPPORT);
        // The stream path still works without EVENT_IDX / INDIRECT.
        assertWorks(pair(g, c.host, 2, 1500));
    }
}
