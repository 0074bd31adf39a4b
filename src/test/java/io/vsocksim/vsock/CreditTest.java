package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVLOWAT;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static io.vsocksim.vsock.LoopbackTestContext.errnoOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.virtio.VirtioSockDiag;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Credit flow over loopback (virtio-transport.md §2, socket-layer.md §6): a flooding writer never
 * overruns a slow reader, SO_SNDTIMEO on a writer blocked for credit, the window
 * {@code min(peer_buf_alloc, buf_alloc)}, and the exact number of CREDIT_UPDATE packets.
 */
@Timeout(60)
class CreditTest {
    private static final int KIB = 1024;
    private static final int WINDOW = 256 * KIB;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
    }

    private static int send(VsockSocket s, int n, int flags) throws Exception {
        return s.send(ByteBuffer.allocate(n), flags);
    }

    private static int recv(VsockSocket s, int n) throws Exception {
        return s.recv(ByteBuffer.allocate(n), MSG_DONTWAIT);
    }

    private long creditUpdates() {
        assertThat(c.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE)).isEqualTo(c.counter(Counter.CREDIT_UPDATES_SENT));
        return c.counter(Counter.CREDIT_UPDATES_SENT);
    }

    @Test
    void shouldNeverQueueMoreThanBufferWhenWriterFloodsSlowReader() throws Exception {
        c = LoopbackTestContext.threaded("credit", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        int total = 4 << 20;
        Future<Integer> writer = c.spawn("writer", () -> {
            Random rnd = new Random(7);
            int sent = 0;
            while (sent < total) {
                ByteBuffer b = ByteBuffer.allocate(Math.min(total - sent, 1 + rnd.nextInt(96 * KIB)));
                while (b.hasRemaining()) {
                    sent += p[0].send(b, 0);
                }
            }
            return sent;
        });
        int got = 0;
        int steps = 0;
        int maxQueued = 0;
        ByteBuffer buf = ByteBuffer.allocate(4 * KIB);
        while (got < total) {
            buf.clear();
            int n = p[1].recv(buf, 0);
            assertThat(n).isPositive();
            got += n;
            steps++;
            VirtioSockDiag rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
            assertThat(Integer.toUnsignedLong(rx.rxBytes())).isLessThanOrEqualTo(WINDOW);
            assertThat(Integer.toUnsignedLong(rx.bufUsed())).isLessThanOrEqualTo(WINDOW);
            assertThat(rx.bufAlloc()).isEqualTo(WINDOW);
            maxQueued = Math.max(maxQueued, rx.bufUsed());
            VirtioSockDiag tx = VirtioSockDiag.of(UserInternals.sock(p[0]));
            assertThat(Integer.toUnsignedLong(tx.txCnt() - tx.peerFwdCnt())).isLessThanOrEqualTo(WINDOW);
        }
        assertThat(writer.get()).isEqualTo(total);
        assertThat(got).isEqualTo(total);
        assertThat(steps).isGreaterThanOrEqualTo(total / (4 * KIB));
        assertThat(c.counter(Counter.RX_OVERFLOW_RESETS)).isZero();
        assertThat(UserInternals.sock(p[1]).skErr).isZero();
    }

    @Test
    void shouldReturnPartialCountThenEagainWhenSndtimeoExpiresWithoutCredit() throws Exception {
        c = LoopbackTestContext.threaded("credit", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        p[0].setsockoptTimeval(SOL_SOCKET, SO_SNDTIMEO, 1, 0);
        // 256 KiB of credit, 300 KiB asked: the rest waits for credit nobody returns.
        Future<Integer> first = c.spawn("writer", () -> send(p[0], 300 * KIB, 0));
        c.clock().awaitSleepers(1);
        assertThat(first.isDone()).isFalse();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).txCnt()).isEqualTo(WINDOW);
        c.clock().advanceJiffies(Clock.HZ);
        assertThat(first.get()).isEqualTo(WINDOW);
        // Nothing was queued in this call: the error itself.
        Future<Integer> second = c.spawn("writer2", () -> send(p[0], 1, 0));
        c.clock().awaitSleepers(1);
        assertThat(second.isDone()).isFalse();
        c.clock().advanceJiffies(Clock.HZ);
        assertThat(errnoOf(second)).isEqualTo(EAGAIN);
        // The receiver holds exactly the window, never more.
        c.drain();
        VirtioSockDiag rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
        assertThat(rx.rxBytes()).isEqualTo(WINDOW);
        assertThat(rx.bufUsed()).isEqualTo(WINDOW);
        // Reading releases the writer.
        assertThat(p[1].recv(ByteBuffer.allocate(WINDOW), 0)).isPositive();
        Future<Integer> third = c.spawn("writer3", () -> send(p[0], 10, 0));
        assertThat(third.get()).isEqualTo(10);
    }

    @Test
    void shouldLimitWindowToMinOfPeerAndOwnBufferWhenReceiverBufferIsSmaller() throws Exception {
        c = LoopbackTestContext.manual("credit", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        long cu0 = creditUpdates();
        p[1].setBufferSize(64 * KIB);
        // The new size goes out at once as a CREDIT_UPDATE.
        assertThat(creditUpdates()).isEqualTo(cu0 + 1);
        c.drain();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).peerBufAlloc()).isEqualTo(64 * KIB);
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).credit()).isEqualTo(64 * KIB);
        assertThat(send(p[0], WINDOW, MSG_DONTWAIT)).isEqualTo(64 * KIB);
        assertErrno(() -> send(p[0], 1, MSG_DONTWAIT), EAGAIN);
        // Own buffer smaller still: the window is min(64 KiB, 16 KiB).
        p[0].setBufferSize(16 * KIB);
        c.drain();
        assertThat(recv(p[1], 64 * KIB)).isEqualTo(64 * KIB);
        c.drain();
        VirtioSockDiag tx = VirtioSockDiag.of(UserInternals.sock(p[0]));
        assertThat(tx.peerFwdCnt()).isEqualTo(64 * KIB);
        assertThat(tx.credit()).isEqualTo(16 * KIB);
        assertThat(send(p[0], WINDOW, MSG_DONTWAIT)).isEqualTo(16 * KIB);
        c.drain();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[1])).rxBytes()).isEqualTo(16 * KIB);
    }

    /**
     * Hand-computed with {@code delta = fwd_cnt − last_fwd_cnt ≠ 0 && (buf_alloc − delta < 64 KiB ||
     * rx_bytes < SO_RCVLOWAT)}, fwd_cnt moving only per fully read skb (writes are cut into 64 KiB skbs).
     */
    @Test
    void shouldSendExactlyTheCreditUpdatesTheRuleGivesWhenStreamIsReadInSteps() throws Exception {
        c = LoopbackTestContext.manual("credit", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        VsockSocket rx = p[1];
        long cu0 = creditUpdates();

        // A: 256 KiB = 4 skbs, read in 16 KiB steps. Deltas at skb ends: 64, 128, 192 KiB (free
        // 192, 128, 64 KiB: not < 64 KiB, data left), then 256 KiB (free 0): one update.
        assertThat(send(p[0], WINDOW, MSG_DONTWAIT)).isEqualTo(WINDOW);
        c.drain();
        for (int i = 0; i < 15; i++) {
            assertThat(recv(rx, 16 * KIB)).isEqualTo(16 * KIB);
            assertThat(creditUpdates()).as("read %d", i).isEqualTo(cu0);
        }
        assertThat(recv(rx, 16 * KIB)).isEqualTo(16 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 1);
        c.drain();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).credit()).isEqualTo(WINDOW);

        // B: 100 KiB = 64 + 36 KiB. 32 KiB: no skb done. 32 KiB: delta 64 KiB, 36 KiB left: none.
        // 36 KiB: delta 100 KiB and the queue is empty (0 < 1): one.
        assertThat(send(p[0], 100 * KIB, MSG_DONTWAIT)).isEqualTo(100 * KIB);
        c.drain();
        assertThat(recv(rx, 32 * KIB)).isEqualTo(32 * KIB);
        assertThat(recv(rx, 32 * KIB)).isEqualTo(32 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 1);
        assertThat(recv(rx, 36 * KIB)).isEqualTo(36 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 2);
        c.drain();

        // C: SO_RCVLOWAT 128 KiB (fwd_cnt == last_fwd_cnt: setting it sends nothing). 200 KiB =
        // 64+64+64+8. 64 KiB: delta 64 KiB, 136 KiB left ≥ 128 KiB: none. 64 KiB: delta 128 KiB,
        // 72 KiB < 128 KiB: one. 72 KiB (one pass, two skbs): delta 72 KiB, 0 left: one.
        rx.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, 128 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 2);
        assertThat(send(p[0], 200 * KIB, MSG_DONTWAIT)).isEqualTo(200 * KIB);
        c.drain();
        assertThat(recv(rx, 64 * KIB)).isEqualTo(64 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 2);
        assertThat(recv(rx, 64 * KIB)).isEqualTo(64 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 3);
        assertThat(recv(rx, 72 * KIB)).isEqualTo(72 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 4);
        c.drain();

        // D: back to 1 (nothing owed: no update). 100 KiB = 64 + 36. 64 KiB read: delta 64 KiB,
        // 36 KiB left ≥ 1: none, so fwd_cnt ≠ last_fwd_cnt. Raising SO_RCVLOWAT to 64 KiB
        // (36 KiB < 64 KiB) sends one; setting it again owes nothing. Reading the rest: one.
        rx.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, 1);
        assertThat(creditUpdates()).isEqualTo(cu0 + 4);
        assertThat(send(p[0], 100 * KIB, MSG_DONTWAIT)).isEqualTo(100 * KIB);
        c.drain();
        assertThat(recv(rx, 64 * KIB)).isEqualTo(64 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 4);
        VirtioSockDiag d = VirtioSockDiag.of(UserInternals.sock(rx));
        assertThat(d.fwdCnt() - d.lastFwdCnt()).isEqualTo(64 * KIB);
        rx.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, 64 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 5);
        d = VirtioSockDiag.of(UserInternals.sock(rx));
        assertThat(d.lastFwdCnt()).isEqualTo(d.fwdCnt());
        rx.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, 64 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 5);
        assertThat(recv(rx, 36 * KIB)).isEqualTo(36 * KIB);
        assertThat(creditUpdates()).isEqualTo(cu0 + 6);

        // The sender saw every update: its view of fwd_cnt is the receiver's.
        c.drain();
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).peerFwdCnt()).isEqualTo(VirtioSockDiag.of(UserInternals.sock(rx)).fwdCnt()).isEqualTo(656 * KIB);
        assertThat(c.counters().received(VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE)).isEqualTo(creditUpdates());
    }

    @Test
    void shouldSendOneCreditUpdatePerDequeuedMessageWhenSeqpacket() throws Exception {
        c = LoopbackTestContext.manual("credit", leaks);
        VsockSocket[] p = c.pair(SOCK_SEQPACKET);
        long cu0 = creditUpdates();
        for (int i = 0; i < 3; i++) {
            assertThat(send(p[0], 10, MSG_DONTWAIT)).isEqualTo(10);
        }
        c.drain();
        for (int i = 1; i <= 3; i++) {
            assertThat(recv(p[1], 64)).isEqualTo(10);
            assertThat(creditUpdates()).isEqualTo(cu0 + i);
        }
    }
}
