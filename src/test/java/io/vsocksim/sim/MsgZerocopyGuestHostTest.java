package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_ZEROCOPY;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_ZEROCOPY;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.UserBuffer;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockCounters.Counter;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MSG_ZEROCOPY send over the virtio path: a guest pins guest RAM and the completion follows the
 * device's consumption of the TX buffers (guest TX reclaim); a host socket pins host memory and the
 * completion follows vhost's copy into guest RX buffers; the guest driver refuses packets with more
 * buffers than its TX ring (virtio_transport_can_msgzerocopy).
 */
@Timeout(60)
class MsgZerocopyGuestHostTest {
    static final int PORT = 1818;
    static final int PAGE = 4096;
    static final long WAIT_MS = 10_000;
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    final SplittableRandom rnd = new SplittableRandom(19);

    @AfterEach
    void tearDown() {
        c.close();
    }

    VsockSocket[] pair(Machine from, Machine to, int toCid, int type) throws Exception {
        VsockSocket[] p = c.connect(from, to, toCid, type, PORT);
        p[0].setsockoptInt(SOL_SOCKET, SO_ZEROCOPY, 1);
        return p;
    }

    UserBuffer filled(Machine m, int n) throws Exception {
        UserBuffer b = m.allocUserBuffer(n);
        for (int i = 0; i < n; i++) {
            b.buffer().put(i, (byte) rnd.nextInt());
        }
        return b;
    }

    static byte[] bytes(UserBuffer b, int n) {
        byte[] out = new byte[n];
        b.buffer().get(0, out);
        return out;
    }

    static SockExtendedErr awaitCompletion(VsockSocket s) throws Exception {
        assertThat(s.poll(0, WAIT_MS) & Poll.POLLERR).isEqualTo(Poll.POLLERR);
        return s.recvErrqueue();
    }

    @Test
    void shouldPinGuestRamAndCompleteAfterTheDeviceConsumedEveryBufferWhenGuestSends() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = pair(g, c.host, VmSockets.VMADDR_CID_HOST, SOCK_STREAM);
        int len = 192 * 1024;
        try (UserBuffer ub = filled(g, len)) {
            long copied = SimInternals.counters(g).get(Counter.BYTES_COPIED_FROM_USER);

            assertThat(UserInternals.send(p[0], ub, 0, len, MSG_ZEROCOPY)).isEqualTo(len);

            assertThat(SimInternals.counters(g).get(Counter.BYTES_COPIED_FROM_USER)).isEqualTo(copied);
            assertThat(SimInternals.counters(g).get(Counter.BYTES_PINNED_FROM_USER)).isEqualTo(len);
            SockExtendedErr serr = awaitCompletion(p[0]);
            assertThat(serr.copied()).isFalse();
            assertThat(serr.lo()).isZero();
            assertThat(serr.hi()).isZero();
            // The completion is queued before the skb's pages are put (skb_release_data): let the
            // freeing work finish before looking at the pin count.
            c.drain();
            assertThat(ub.pageRefCount()).isEqualTo(1);
            // vhost hands a packet to the host socket before it marks the buffer used, so everything
            // is already queued on the host when the guest sees the completion.
            ByteBuffer got = ByteBuffer.allocate(len);
            while (got.hasRemaining()) {
                assertThat(p[1].recv(got, MSG_DONTWAIT)).isPositive();
            }
            assertThat(got.array()).isEqualTo(bytes(ub, len));
        }
    }

    @Test
    void shouldPinHostMemoryAndCompleteAfterVhostCopiedItWhenHostSends() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = pair(c.host, g, 3, SOCK_SEQPACKET);
        int len = 3 * PAGE + 200;
        try (UserBuffer ub = filled(c.host, len)) {
            assertThat(UserInternals.send(p[0], ub, 0, len, MSG_ZEROCOPY | MSG_EOR)).isEqualTo(len);

            assertThat(SimInternals.counters(c.host).get(Counter.BYTES_PINNED_FROM_USER)).isEqualTo(len);
            SockExtendedErr serr = awaitCompletion(p[0]);
            assertThat(serr.copied()).isFalse();
            // The completion is queued before the skb's pages are put (skb_release_data): let the
            // freeing work finish before looking at the pin count.
            c.drain();
            assertThat(ub.pageRefCount()).isEqualTo(1);
            ByteBuffer got = ByteBuffer.allocate(len);
            assertThat(p[1].recv(got, 0)).isEqualTo(len);
            assertThat(got.array()).isEqualTo(bytes(ub, len));
        }
    }

    @Test
    void shouldCopyAndReportCopiedWhenThePacketNeedsMoreBuffersThanTheGuestTxRing() throws Exception {
        Guest g = c.guest(3, new Guest.Options(true, true, true, true, 16));
        VsockSocket[] p = pair(g, c.host, VmSockets.VMADDR_CID_HOST, SOCK_STREAM);
        try (UserBuffer small = filled(g, 15 * PAGE); UserBuffer big = filled(g, 16 * PAGE)) {
            // 15 pages + header = 16 buffers: fits a 16-entry ring.
            assertThat(UserInternals.send(p[0], small, 0, small.size(), MSG_ZEROCOPY)).isEqualTo(small.size());
            assertThat(awaitCompletion(p[0]).copied()).isFalse();
            // 16 pages + header = 17 buffers: refused, copied.
            assertThat(UserInternals.send(p[0], big, 0, big.size(), MSG_ZEROCOPY)).isEqualTo(big.size());
            assertThat(awaitCompletion(p[0]).copied()).isTrue();
            ByteBuffer got = ByteBuffer.allocate(small.size() + big.size());
            while (got.hasRemaining()) {
                assertThat(p[1].recv(got, 0)).isPositive();
            }
            c.drain();
            assertThat(small.pageRefCount()).isEqualTo(1);
        }
    }
}
