package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.sim.internal.VhostVsockPciCounters.Counter;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.guest.VirtioVsock;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The VMM's TRANSPORT_RESET event against event chains a guest lays out by hand, as QEMU's
 * {@code vhost_vsock_common_send_transport_reset} serves them: the 4-byte event is scattered over the
 * chain's writable descriptors; a chain with readable descriptors, or with under 4 writable bytes, is
 * consumed and never returned. The hand-made chain is posted behind the driver's 8 own event buffers,
 * which 8 resets use up first; it lives in a scratch page poisoned with {@link #POISON}.
 */
@Timeout(60)
class TransportResetEventTest {
    static final byte POISON = (byte) 0xAA;
    /** Offsets in the scratch page: first buffer, second buffer, a readable buffer. */
    static final int A = 0;
    static final int B = 64;
    static final int OUT = 128;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    Guest g;
    GuestMemory mem;
    long scratch;
    long page;

    @BeforeEach
    void setUp() throws Exception {
        g = c.guest(3);
        mem = g.kernel().memory();
        PageAllocator pages = g.kernel().pages();
        scratch = pages.allocPages(0);
        assertThat(scratch).isPositive();
        page = pages.gpa(scratch);
        mem.fill(page, GuestMemory.PAGE_SIZE, POISON);
    }

    @AfterEach
    void tearDown() {
        g.kernel().pages().freePages(scratch);
        c.close();
    }

    /**
     * Posts the hand-made chain, uses up the driver's own event buffers (the guest handles those 8
     * resets), then connects guest → host: returns the pair whose guest end the next reset must reset.
     */
    VsockSocket[] postBehindOwnBuffersAndConnect(long[] out, int[] outLen, long[] in, int[] inLen) throws Exception {
        assertThat(g.driver().addRawEventChain(out, outLen, out.length, in, inLen, in.length)).isZero();
        c.drain();
        for (int i = 0; i < VirtioVsock.EVENT_BUFS; i++) {
            assertThat(c.host.sendTransportReset(g)).isZero();
            c.drain();
        }
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(8);
        VsockSocket[] p = c.connect(g, c.host, 2, Sock.SOCK_STREAM, 1234);
        c.drain();
        return p;
    }

    byte[] bytes(int off, int len) {
        byte[] b = new byte[len];
        mem.read(page + off, b, 0, len);
        return b;
    }

    static void assertWorks(VsockSocket[] p) throws Exception {
        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0)).isEqualTo(3);
        assertThat(p[1].recv(ByteBuffer.allocate(8), 0)).isEqualTo(3);
    }

    /** The device moved past the dropped chain: the next reset lands in a driver buffer and is handled. */
    void assertNextResetHandled(VsockSocket[] p) {
        assertThat(c.host.sendTransportReset(g)).isZero();
        c.drain();
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(9);
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(g.vmmCounters().get(Counter.EVENTS_SENT)).isEqualTo(9);
    }

    @Test
    void shouldScatterTheEventOverAOneAndAThreeByteBufferWhenTheChainIsSplit() throws Exception {
        VsockSocket[] p = postBehindOwnBuffersAndConnect(new long[0], new int[0],
                new long[] {page + A, page + B}, new int[] {1, 3});

        assertThat(c.host.sendTransportReset(g)).isZero();
        c.drain();

        // id TRANSPORT_RESET (0), little-endian: byte 0 in the 1-byte buffer, bytes 1..3 in the 3-byte one.
        assertThat(bytes(A, 4)).containsExactly(0, POISON, POISON, POISON);
        assertThat(bytes(B, 4)).containsExactly(0, 0, 0, POISON);
        assertThat(g.vmmCounters().get(Counter.EVENTS_SENT)).isEqualTo(9);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.EVENTS)).isEqualTo(9);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(9);
        assertThat(UserInternals.sock(p[0]).skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(p[0].getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR)).isEqualTo(Errno.ECONNRESET);
    }

    @Test
    void shouldDropAndCountTheChainWhenItsWritableBytesAreFewerThanTheEvent() throws Exception {
        VsockSocket[] p = postBehindOwnBuffersAndConnect(new long[0], new int[0],
                new long[] {page + A, page + B}, new int[] {1, 2});

        assertThat(c.host.sendTransportReset(g)).isEqualTo(-Errno.EINVAL);
        c.drain();

        // iov_from_buf filled the 3 bytes there are, then QEMU detached the chain: not returned.
        assertThat(bytes(A, 4)).containsExactly(0, POISON, POISON, POISON);
        assertThat(bytes(B, 4)).containsExactly(0, 0, POISON, POISON);
        assertThat(g.vmmCounters().get(Counter.EVENT_DROP_SHORT)).isEqualTo(1);
        assertThat(g.vmmCounters().get(Counter.EVENT_DROP_OUT_BUFS)).isZero();
        assertThat(g.vmmCounters().get(Counter.EVENTS_SENT)).isEqualTo(8);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.EVENTS)).isEqualTo(8);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(8);
        assertWorks(p);
        assertNextResetHandled(p);
    }

    @Test
    void shouldDropAndCountTheChainWhenItHasDeviceReadableDescriptors() throws Exception {
        VsockSocket[] p = postBehindOwnBuffersAndConnect(new long[] {page + OUT}, new int[] {4},
                new long[] {page + A}, new int[] {4});

        assertThat(c.host.sendTransportReset(g)).isEqualTo(-Errno.EINVAL);
        c.drain();

        assertThat(bytes(A, 8)).containsExactly(POISON, POISON, POISON, POISON, POISON, POISON, POISON, POISON);
        assertThat(bytes(OUT, 4)).containsExactly(POISON, POISON, POISON, POISON);
        assertThat(g.vmmCounters().get(Counter.EVENT_DROP_OUT_BUFS)).isEqualTo(1);
        assertThat(g.vmmCounters().get(Counter.EVENT_DROP_SHORT)).isZero();
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.EVENTS)).isEqualTo(8);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TRANSPORT_RESETS)).isEqualTo(8);
        assertWorks(p);
        assertNextResetHandled(p);
    }
}
