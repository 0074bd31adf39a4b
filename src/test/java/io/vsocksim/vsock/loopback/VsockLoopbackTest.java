package io.vsocksim.vsock.loopback;

import static io.vsocksim.vsock.virtio.VsockTestContext.pattern;
import static io.vsocksim.vsock.virtio.VsockTestContext.vvs;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SocketState;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockCounters.Counter;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioVsockSock;
import io.vsocksim.vsock.virtio.VsockSkb;
import io.vsocksim.vsock.virtio.VsockTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class VsockLoopbackTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    VsockTestContext c;

    @BeforeEach
    void setUp() {
        c = new VsockTestContext(leaks);
    }

    private VsockSock[] pair(int type) {
        VsockSock l = c.listen(type, 1234, 16);
        VsockSock cl = c.connect(type, VmSockets.VMADDR_CID_LOCAL, 1234);
        c.run();
        VsockSock sv = c.accept(l);
        return new VsockSock[] {l, cl, sv};
    }

    private void closeAll(VsockSock... socks) {
        for (VsockSock s : socks) {
            c.release(s);
        }
        c.run();
        c.clock.advance(io.vsocksim.kernel.Clock.jiffiesToNanos(VirtioTransport.VSOCK_CLOSE_TIMEOUT));
        c.run();
    }

    @Test
    void shouldEstablishBothSidesWhenRequestReachesListenerOverLoopback() {
        VsockSock l = c.listen(Sock.SOCK_STREAM, 1234, 16);
        VsockSock cl = c.connect(Sock.SOCK_STREAM, VmSockets.VMADDR_CID_LOCAL, 1234);
        assertThat(c.lo.queued()).isEqualTo(1);
        c.run();
        assertThat(l.acceptQueue).hasSize(1);
        assertThat(l.ackBacklog).isEqualTo(1);
        VsockSock sv = c.accept(l);
        assertThat(sv.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(sv.transport).isSameAs(c.lo);
        assertThat(sv.localAddr.port()).isEqualTo(1234);
        assertThat(sv.remoteAddr.port()).isEqualTo(cl.localAddr.port());
        assertThat(cl.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(cl.sockState).isEqualTo(SocketState.SS_CONNECTED);
        assertThat(c.core.inConnectedTable(cl)).isTrue();
        assertThat(c.core.inConnectedTable(sv)).isTrue();
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST)).isEqualTo(1);
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RESPONSE)).isEqualTo(1);
        // Both learned the other's window from the REQUEST / RESPONSE.
        assertThat(vvs(sv).peerBufAlloc).isEqualTo(256 * 1024);
        assertThat(vvs(cl).peerBufAlloc).isEqualTo(256 * 1024);
        closeAll(cl, sv, l);
    }

    @Test
    void shouldMoveExactBytesBothWaysWhenEstablished() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        byte[] a = pattern(10_000, 1);
        byte[] b = pattern(333, 2);
        assertThat(c.send(p[1], a, 0)).isEqualTo(10_000);
        assertThat(c.send(p[2], b, 0)).isEqualTo(333);
        assertThat(c.lo.unsentBytes(p[1])).isEqualTo(10_000);
        c.run();
        assertThat(c.lo.unsentBytes(p[1])).isZero();
        assertThat(c.lo.streamHasData(p[2])).isEqualTo(10_000);
        assertThat(c.recv(p[2], 20_000, 0)).containsExactly(a);
        assertThat(c.recv(p[1], 1000, 0)).containsExactly(b);
        assertThat(vvs(p[2]).fwdCnt).isEqualTo(10_000);
        assertThat(c.core.counters().get(Counter.BYTES_COPIED_FROM_USER)).isEqualTo(10_333);
        assertThat(c.core.counters().get(Counter.BYTES_COPIED_TO_USER)).isEqualTo(10_333);
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldCutWriteIntoMaxPacketSkbsWhen200KiBSent() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        long rw0 = c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RW);
        assertThat(c.send(p[1], pattern(200 * 1024, 3), 0)).isEqualTo(200 * 1024);
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RW) - rw0).isEqualTo(4);
        c.run();
        VirtioVsockSock rx = vvs(p[2]);
        assertThat(rx.rxQueue.len()).isEqualTo(4);
        VsockSkb s = rx.rxQueue.peek();
        int[] lens = new int[4];
        boolean[] nonlinear = new boolean[4];
        for (int i = 0; i < 4; i++, s = rx.rxQueue.peekNext(s)) {
            lens[i] = s.len();
            nonlinear[i] = s.isNonlinear();
        }
        assertThat(lens).containsExactly(65536, 65536, 65536, 8192);
        assertThat(nonlinear).containsExactly(true, true, true, false);
        assertThat(c.recv(p[2], 200 * 1024, 0)).containsExactly(pattern(200 * 1024, 3));
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldSendCreditUpdateOnlyWhenFreeSpaceDropsBelow64KiBOrQueueRunsLow() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        c.send(p[1], pattern(200 * 1024, 4), 0);
        c.run();
        long cu0 = c.core.counters().get(Counter.CREDIT_UPDATES_SENT);
        // Partial read of the first skb: fwd_cnt does not move.
        c.recv(p[2], 1000, 0);
        assertThat(c.core.counters().get(Counter.CREDIT_UPDATES_SENT)).isEqualTo(cu0);
        // delta 64 KiB, 128 KiB, 192 KiB: free_space 192, 128, 64 KiB, none below 64 KiB; data left.
        c.recv(p[2], 65536 - 1000, 0);
        c.recv(p[2], 65536, 0);
        c.recv(p[2], 65536, 0);
        assertThat(c.core.counters().get(Counter.CREDIT_UPDATES_SENT)).isEqualTo(cu0);
        // The last 8 KiB: delta 200 KiB, free_space 56 KiB < 64 KiB.
        c.recv(p[2], 8192, 0);
        assertThat(c.core.counters().get(Counter.CREDIT_UPDATES_SENT)).isEqualTo(cu0 + 1);
        assertThat(vvs(p[2]).lastFwdCnt).isEqualTo(200 * 1024);
        c.run();
        assertThat(c.lo.streamHasSpace(p[1])).isEqualTo(256 * 1024);
        // Small write read back at once: the queue is empty (< SO_RCVLOWAT), so credit goes back.
        c.send(p[1], pattern(10, 5), 0);
        c.run();
        c.recv(p[2], 10, 0);
        assertThat(c.core.counters().get(Counter.CREDIT_UPDATES_SENT)).isEqualTo(cu0 + 2);
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldMergeOneBytePacketsIntoTailUntilTailroomIsExhausted() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        // A loopback skb for 1 byte was allocated for 45 bytes: osize 640, usable 320, tailroom 275 - 1
        // after its own byte. Merging needs len < tailroom, so each skb ends up holding 275 bytes.
        int perSkb = 320 - 44 - 1;
        assertThat(perSkb).isEqualTo(275);
        int n = 600;
        for (int i = 0; i < n; i++) {
            assertThat(c.send(p[1], new byte[] {(byte) i}, 0)).isEqualTo(1);
        }
        c.run();
        VirtioVsockSock rx = vvs(p[2]);
        assertThat(rx.rxQueue.len()).isEqualTo((n + perSkb - 1) / perSkb);
        assertThat(rx.rxQueue.peek().len()).isEqualTo(perSkb);
        assertThat(rx.rxQueue.peek().hdr().len()).isEqualTo(perSkb);
        assertThat(rx.rxQueue.peek().tailroom()).isEqualTo(1);
        assertThat(rx.rxBytes).isEqualTo(n);
        assertThat(c.core.counters().get(Counter.RX_MERGES)).isEqualTo(n - 3);
        byte[] got = c.recv(p[2], n, 0);
        for (int i = 0; i < n; i++) {
            assertThat(got[i]).isEqualTo((byte) i);
        }
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldResetWithEnobufsWhen456thSingleSkbSeqpacketMessageArrives() {
        VsockSock[] p = pair(Sock.SOCK_SEQPACKET);
        long rst0 = c.core.counters().get(Counter.RST_SENT);
        for (int i = 0; i < 455; i++) {
            assertThat(c.send(p[1], new byte[] {1}, 0)).isEqualTo(1);
        }
        c.run();
        assertThat(vvs(p[2]).rxQueue.len()).isEqualTo(455);
        assertThat(vvs(p[2]).msgCount).isEqualTo(455);
        assertThat(p[2].skErr).isZero();
        c.send(p[1], new byte[] {1}, 0);
        c.run();
        assertThat(p[2].skErr).isEqualTo(Errno.ENOBUFS);
        assertThat(p[2].sockFlag(VsockSock.SOCK_DONE)).isTrue();
        assertThat(c.core.inConnectedTable(p[2])).isFalse();
        assertThat(c.core.counters().get(Counter.RX_OVERFLOW_RESETS)).isEqualTo(1);
        assertThat(c.core.counters().get(Counter.RST_SENT)).isEqualTo(rst0 + 1);
        // The client got the RST and is done too.
        assertThat(p[1].sockFlag(VsockSock.SOCK_DONE)).isTrue();
        assertThat(p[1].skState).isEqualTo(TcpState.TCP_CLOSING);
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldCollapseQueueWhen456th129BytePacketArrives() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        int n = 456;
        byte[] all = pattern(n * 129, 6);
        for (int i = 0; i < n; i++) {
            byte[] chunk = java.util.Arrays.copyOfRange(all, i * 129, (i + 1) * 129);
            assertThat(c.send(p[1], chunk, 0)).isEqualTo(129);
            if (i == 454) {
                c.run();
                assertThat(vvs(p[2]).rxQueue.len()).isEqualTo(455);
                assertThat(c.core.counters().get(Counter.RX_COLLAPSES)).isZero();
            }
        }
        c.run();
        VirtioVsockSock rx = vvs(p[2]);
        assertThat(c.core.counters().get(Counter.RX_COLLAPSES)).isEqualTo(1);
        assertThat(p[2].skErr).isZero();
        assertThat(rx.rxQueue.len()).isEqualTo(1 + 204 + 1);
        VsockSkb s = rx.rxQueue.peek();
        assertThat(s.len()).isEqualTo(251 * 129).isEqualTo(32379);
        assertThat(s.hdr().len()).isEqualTo(32379);
        for (int i = 0; i < 205; i++) {
            s = rx.rxQueue.peekNext(s);
            assertThat(s.len()).isEqualTo(129);
        }
        assertThat(rx.rxBytes).isEqualTo(n * 129);
        assertThat(rx.bufUsed).isEqualTo(n * 129);
        assertThat(c.recv(p[2], n * 129, 0)).containsExactly(all);
        assertThat(rx.fwdCnt).isEqualTo(n * 129);
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldAssembleSeqpacketMessageWithEorAndPeekWithoutConsuming() {
        VsockSock[] p = pair(Sock.SOCK_SEQPACKET);
        byte[] m = pattern(100 * 1024, 7);
        assertThat(c.send(p[1], m, Sock.MSG_EOR)).isEqualTo(m.length);
        c.run();
        VirtioVsockSock rx = vvs(p[2]);
        assertThat(rx.rxQueue.len()).isEqualTo(2);
        assertThat(rx.msgCount).isEqualTo(1);
        p[2].lockSock();
        try {
            io.vsocksim.vsock.MsgHdr peek = new io.vsocksim.vsock.MsgHdr().init(java.nio.ByteBuffer.allocate(10), 0);
            assertThat(c.lo.seqpacketDequeue(p[2], peek, Sock.MSG_PEEK)).isEqualTo(m.length);
            assertThat(peek.msgFlags & Sock.MSG_EOR).isEqualTo(Sock.MSG_EOR);
            assertThat(rx.msgCount).isEqualTo(1);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(200 * 1024);
            io.vsocksim.vsock.MsgHdr msg = new io.vsocksim.vsock.MsgHdr().init(buf, 0);
            long cu0 = c.core.counters().get(Counter.CREDIT_UPDATES_SENT);
            assertThat(c.lo.seqpacketDequeue(p[2], msg, 0)).isEqualTo(m.length);
            assertThat(msg.msgFlags & Sock.MSG_EOR).isEqualTo(Sock.MSG_EOR);
            assertThat(java.util.Arrays.copyOf(buf.array(), m.length)).containsExactly(m);
            assertThat(rx.msgCount).isZero();
            assertThat(rx.rxBytes).isZero();
            assertThat(c.core.counters().get(Counter.CREDIT_UPDATES_SENT)).isEqualTo(cu0 + 1);
        } finally {
            p[2].releaseSock();
        }
        closeAll(p[1], p[2], p[0]);
    }

    @Test
    void shouldFinishGracefulCloseWhenPeerHasNoUnreadData() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        c.release(p[1]);
        assertThat(p[1].closeWorkScheduled).isTrue();
        c.run(); // SHUTDOWN -> server sends RST + do_close -> client do_close cancels its timer
        assertThat(p[2].peerShutdown).isEqualTo(Sock.SHUTDOWN_MASK);
        assertThat(p[2].sockFlag(VsockSock.SOCK_DONE)).isTrue();
        assertThat(p[2].skState).isEqualTo(TcpState.TCP_CLOSING);
        assertThat(c.core.inConnectedTable(p[2])).isFalse();
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN)).isEqualTo(1);
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        c.release(p[2]);
        c.release(p[0]);
        c.run();
        assertThat(c.core.liveSockets()).isZero();
    }

    @Test
    void shouldSendRstAfterCloseTimeoutWhenPeerKeepsUnreadData() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        c.send(p[1], pattern(100, 8), 0);
        c.run();
        c.release(p[1]);
        c.run();
        // The server still has data: it stays ESTABLISHED and readable, and sends no RST.
        assertThat(p[2].skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isZero();
        assertThat(c.core.liveSockets()).isEqualTo(3);
        c.clock.advance(io.vsocksim.kernel.Clock.jiffiesToNanos(VirtioTransport.VSOCK_CLOSE_TIMEOUT) - 1);
        c.run();
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isZero();
        c.clock.advance(1);
        c.run();
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        // 6.12.117 source: the SHUTDOWN(3) already took the server out of the connected table, so the
        // client's RST is looked up in the bound table, reaches the listener and is dropped there
        // (an RST is never answered). The server is not DONE; it learned the end from peer_shutdown.
        assertThat(c.core.counters().received(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        assertThat(p[2].sockFlag(VsockSock.SOCK_DONE)).isFalse();
        assertThat(p[2].peerShutdown).isEqualTo(Sock.SHUTDOWN_MASK);
        assertThat(p[2].skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(c.recv(p[2], 100, 0)).containsExactly(pattern(100, 8));
        c.release(p[2]);
        c.release(p[0]);
        c.run();
    }

    @Test
    void shouldNotLeakWhenClosingWithUnreadData() {
        VsockSock[] p = pair(Sock.SOCK_STREAM);
        c.send(p[1], pattern(70_000, 9), 0);
        c.send(p[2], pattern(50, 9), 0);
        c.run();
        closeAll(p[2], p[1], p[0]);
    }

    @Test
    void shouldNotLeakWhenSocketIsClosedDuringConnect() {
        VsockSock l = c.listen(Sock.SOCK_STREAM, 1234, 16);
        VsockSock cl = c.connect(Sock.SOCK_STREAM, VmSockets.VMADDR_CID_LOCAL, 1234);
        c.release(cl); // REQUEST still queued
        c.run(); // child created, RESPONSE answered with RST (client DONE), child closes
        assertThat(l.acceptQueue).hasSize(1);
        assertThat(l.acceptQueue.peekFirst().sockFlag(VsockSock.SOCK_DONE)).isTrue();
        c.release(l);
        c.run();
    }

    @Test
    void shouldResetClientWhenNobodyListens() {
        VsockSock cl = c.connect(Sock.SOCK_STREAM, VmSockets.VMADDR_CID_LOCAL, 4321);
        c.run();
        assertThat(cl.skErr).isEqualTo(Errno.ECONNRESET);
        assertThat(cl.skState).isEqualTo(TcpState.TCP_CLOSE);
        assertThat(c.core.counters().sent(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        c.release(cl);
        c.run();
    }
}
