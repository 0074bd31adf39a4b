package io.vsocksim.sim;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockSocket;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.vhost.VhostVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 5, "Bad input", end to end: a hostile guest A writes raw structures into its own rings in guest
 * memory and kicks; vhost on a real {@link Host} must stop at the bad chain (queue stuck,
 * {@code last_avail_idx} unchanged, reason counted), or consume the chain without returning it, or drop
 * the packet, exactly as 6.12.117 does (virtqueue.md §5-7, virtio-transport.md §9). Every test also
 * checks that nothing threw on the host (a failed work item fails the host's shutdown), that a live
 * connection of guest B on the same host keeps passing data, and that the host's sockets are unharmed;
 * pages held by a stuck queue come back when the guest goes away ({@link LeakCheck}).
 */
@Timeout(60)
class HostileGuestRingTest {
    static final int STREAM = VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value();
    static final int OP_RW = VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value();

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    VsockSocket[] pair(Machine from, Machine to, int toCid, int port) throws Exception {
        VsockSocket l = c.track(to.socket(Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, port);
        l.listen(16);
        VsockSocket cl = c.track(from.socket(Sock.SOCK_STREAM));
        cl.connect(toCid, port);
        VsockSocket sv = c.track(l.accept());
        return new VsockSocket[] {cl, sv, l};
    }

    static void assertWorks(VsockSocket[] p) throws Exception {
        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0)).isEqualTo(3);
        ByteBuffer in = ByteBuffer.allocate(8);
        assertThat(p[1].recv(in, 0)).isEqualTo(3);
        assertThat(Arrays.copyOf(in.array(), 3)).containsExactly(1, 2, 3);
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 31 + (i >>> 7));
        }
        return b;
    }

    /**
     * A chain of 44 + 40000 readable bytes whose header says len = 100. 6.12.117's vhost_vsock_alloc_skb
     * sizes the skb for the whole chain (non-linear above SKB_WITH_OVERHEAD(32 KiB): 40000 bytes of
     * fragments), then virtio_vsock_skb_put sets only skb->len = 100 and leaves data_len at 40000; the
     * copy and every later read of that skb use the same skb_headlen arithmetic, so the socket sees
     * exactly the 100 payload bytes and the other 39900 are ignored.
     */
    @Test
    void shouldDeliverExactlyHdrLenBytesWhenTxChainIsMuchLongerThanThePacket() throws Exception {
        Guest a = c.guest(3);
        VsockSocket[] p = pair(a, c.host, 2, 1234);
        c.drain();
        long bytesBefore = a.deviceCounters().get(Counter.TX_BYTES);
        long reclaimedBefore = a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED);

        // Token skb whose head and fragments hold the hostile chain: 44 + 32768 + 7232 bytes.
        VsockSkb token = SkbPool.of(a.core()).alloc(VirtioVsockHdr.SIZE + 40000);
        assertThat(token.nrFrags()).isEqualTo(2);
        var mem = a.kernel().memory();
        HostileGuestRing.header(mem, token.headGpa(), 3, p[0].sock().localAddr.port(), 2, 1234, 100, STREAM, OP_RW);
        byte[] payload = pattern(100, 7);
        byte[] junk = new byte[40000];
        Arrays.fill(junk, (byte) 0xEE);
        System.arraycopy(payload, 0, junk, 0, 100);
        mem.write(token.fragGpa(0), junk, 0, 32768);
        mem.write(token.fragGpa(1), junk, 32768, 7232);
        assertThat(a.driver().addRawTxChain(new long[] {token.headGpa(), token.fragGpa(0), token.fragGpa(1)},
                new int[] {44, 32768, 7232}, 3, null, null, 0, token)).isZero();
        c.drain();

        assertThat(a.deviceCounters().get(Counter.TX_BYTES) - bytesBefore).isEqualTo(100);
        ByteBuffer got = ByteBuffer.allocate(65536);
        assertThat(p[1].recv(got, 0)).isEqualTo(100);
        assertThat(Arrays.copyOf(got.array(), 100)).containsExactly(payload);
        assertThatThrownBy(() -> p[1].recv(ByteBuffer.allocate(16), Sock.MSG_DONTWAIT))
                .isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EAGAIN);
        // The chain came back (used len 0) and the token was freed by tx_work.
        assertThat(a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED) - reclaimedBefore).isEqualTo(1);
        assertThat(a.deviceCounters().get(Counter.DROP_TX_BAD_SIZE) + a.deviceCounters().get(Counter.DROP_TX_BAD_HDR_LEN))
                .isZero();
    }
}
