package io.vsocksim.vsock.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockSock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class VirtioTransportUnitTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();

    /** A transport at CID 2 that records what it sends (and owns it until the test frees it). */
    static final class Recording extends VirtioTransport {
        final List<VsockSkb> sent = new ArrayList<>();

        Recording(VsockCore core) {
            super(core);
        }

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public int sendPkt(VsockSkb skb) {
            sent.add(skb);
            return skb.len();
        }

        @Override
        public int getLocalCid() {
            return 2;
        }

        @Override
        public int cancelPkt(VsockSock vsk) {
            return 0;
        }

        @Override
        public boolean seqpacketAllow(int remoteCid) {
            return true;
        }

        @Override
        public boolean msgzerocopyAllow() {
            return false;
        }
    }

    KernelContext k;
    VsockCore core;
    Recording t;

    @BeforeEach
    void setUp() {
        k = leaks.track(KernelContext.deterministic("h", 16L << 20));
        core = new VsockCore(k, 3);
        t = new Recording(core);
        core.coreRegister(t, io.vsocksim.vsock.VsockTransport.VSOCK_TRANSPORT_F_H2G);
        leaks.probe(() -> SkbPool.of(core).inUse() == 0 ? null : "skbs in use: " + SkbPool.of(core).inUse());
    }

    @AfterEach
    void freeSent() {
        t.sent.forEach(VsockSkb::kfreeSkb);
        t.sent.clear();
    }

    private VsockSkb packet(int type, int op, int srcCid, int srcPort, int dstPort, int len) {
        VsockSkb skb = t.pool().allocLinear(44 + len);
        VirtioTransportSend.initHdr(skb, type, op, 0, len, srcCid, srcPort, 2, dstPort);
        skb.put(len);
        return skb;
    }

    // ---- skb sizes -------------------------------------------------------------------------------------

    record SizeRow(int size, int osize, int tailroomEmpty) { }

    static List<SizeRow> sizes() {
        return List.of(new SizeRow(44, 640, 276), new SizeRow(45, 640, 276), new SizeRow(44 + 129, 640, 276), new SizeRow(600, 1024, 660),
                new SizeRow(VsockSkb.VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE, 4096, 3732), new SizeRow(8236, 16384, 16020),
                new SizeRow(32448, 32768, 32404));
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void shouldRoundHeadLikeKmallocReserveWhenAllocatingLinearSkb(SizeRow r) {
        assertThat(SkbPool.kmallocReserve(r.size())).isEqualTo(r.osize());
        VsockSkb skb = t.pool().allocLinear(r.size());
        assertThat(skb.tailroom()).isEqualTo(r.tailroomEmpty());
        skb.kfreeSkb();
    }

    @Test
    void shouldUsePageFragsWhenPayloadExceedsLinearLimit() {
        assertThat(VirtioTransportRecv.MAX_COLLAPSE_LEN).isEqualTo(32404);
        VsockSkb lin = t.pool().alloc(32448);
        assertThat(lin.isNonlinear()).isFalse();
        VsockSkb big = t.pool().alloc(44 + 65536);
        assertThat(big.isNonlinear()).isTrue();
        assertThat(big.nrFrags()).isEqualTo(2);
        assertThat(big.tailroom()).isZero();
        VsockSkb odd = t.pool().alloc(44 + 40000);
        assertThat(odd.nrFrags()).isEqualTo(2); // 32 KiB + 8 KiB (order 1 covers the 7232-byte rest)
        lin.kfreeSkb();
        big.kfreeSkb();
        odd.kfreeSkb();
        long created = t.pool().created();
        for (int i = 0; i < 100; i++) {
            t.pool().alloc(44 + 100).kfreeSkb();
        }
        assertThat(t.pool().created()).isEqualTo(created);
    }

    // ---- credit ----------------------------------------------------------------------------------------

    record CreditRow(int peerBufAlloc, int bufAlloc, int txCnt, int peerFwdCnt, int ask, long space, int granted) { }

    static List<CreditRow> credits() {
        return List.of(
                new CreditRow(262144, 262144, 0, 0, 1000, 262144, 1000),
                new CreditRow(262144, 65536, 0, 0, 100000, 65536, 65536), // own buf_alloc caps the window
                new CreditRow(262144, 262144, 262144, 0, 1, 0, 0),
                new CreditRow(262144, 262144, 5, -10, 100, 262129, 100), // tx_cnt wrapped past peer_fwd_cnt
                new CreditRow(262144, 262144, 0x7fffffff, 0x7fff0000, 0, 262144 - 0xffff, 0),
                new CreditRow(1000, 262144, 5000, 0, 10, 0, 0), // peer shrank its window: s64, never negative
                new CreditRow(-1, -1, 0, 0, 7, 0xFFFFFFFFL, 7));
    }

    @ParameterizedTest
    @MethodSource("credits")
    void shouldGrantMinOfRequestAndSpaceWhenGettingCredit(CreditRow r) {
        VirtioVsockSock vvs = new VirtioVsockSock(null);
        vvs.peerBufAlloc = r.peerBufAlloc();
        vvs.bufAlloc = r.bufAlloc();
        vvs.txCnt = r.txCnt();
        vvs.peerFwdCnt = r.peerFwdCnt();
        vvs.txLock.lock();
        try {
            assertThat(VirtioTransport.hasSpace(vvs)).isEqualTo(r.space());
        } finally {
            vvs.txLock.unlock();
        }
        assertThat(VirtioTransport.getCredit(vvs, r.ask())).isEqualTo(r.granted());
        assertThat(vvs.txCnt).isEqualTo(r.txCnt() + r.granted());
        assertThat(vvs.bytesUnsent).isEqualTo(r.granted());
        VirtioTransport.putCredit(vvs, r.granted());
        assertThat(vvs.txCnt).isEqualTo(r.txCnt());
        assertThat(vvs.bytesUnsent).isZero();
    }

    // ---- reset_no_sock ---------------------------------------------------------------------------------

    @Test
    void shouldReplyRstWithSwappedAddressesWhenPortIsUnknown() {
        VirtioTransportRecv.recvPkt(t, packet(1, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value(), 3, 5000, 77, 0));
        assertThat(t.sent).hasSize(1);
        VsockSkb rst = t.sent.get(0);
        assertThat(rst.hdr().op()).isEqualTo(VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value());
        assertThat(rst.hdr().type()).isEqualTo(1);
        assertThat(rst.hdr().srcCid()).isEqualTo(2);
        assertThat(rst.hdr().srcPort()).isEqualTo(77);
        assertThat(rst.hdr().dstCid()).isEqualTo(3);
        assertThat(rst.hdr().dstPort()).isEqualTo(5000);
        assertThat(rst.hdr().bufAlloc()).isZero();
        assertThat(rst.hdr().fwdCnt()).isZero();
        assertThat(rst.isReply()).isTrue();
    }

    @Test
    void shouldCopyBadTypeIntoRstWhenTypeIsInvalid() {
        VirtioTransportRecv.recvPkt(t, packet(9, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value(), 3, 5000, 77, 0));
        assertThat(t.sent).hasSize(1);
        assertThat(t.sent.get(0).hdr().type()).isEqualTo(9);
    }

    @Test
    void shouldNotReplyRstToRst() {
        VirtioTransportRecv.recvPkt(t, packet(1, VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value(), 3, 5000, 77, 0));
        assertThat(t.sent).isEmpty();
    }

    // ---- state x op ------------------------------------------------------------------------------------

    record StateRow(TcpState state, VirtioVsockOp op, boolean rstSent, TcpState after, int skErr) { }

    static List<StateRow> states() {
        return List.of(
                new StateRow(TcpState.TCP_SYN_SENT, VirtioVsockOp.VIRTIO_VSOCK_OP_INVALID, false, TcpState.TCP_SYN_SENT, 0),
                new StateRow(TcpState.TCP_SYN_SENT, VirtioVsockOp.VIRTIO_VSOCK_OP_RST, false, TcpState.TCP_CLOSE, 104),
                new StateRow(TcpState.TCP_SYN_SENT, VirtioVsockOp.VIRTIO_VSOCK_OP_RW, true, TcpState.TCP_CLOSE, 71),
                new StateRow(TcpState.TCP_SYN_SENT, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST, true, TcpState.TCP_CLOSE, 71),
                new StateRow(TcpState.TCP_ESTABLISHED, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST, false, TcpState.TCP_ESTABLISHED, 0),
                new StateRow(TcpState.TCP_ESTABLISHED, VirtioVsockOp.VIRTIO_VSOCK_OP_RESPONSE, false, TcpState.TCP_ESTABLISHED, 0),
                new StateRow(TcpState.TCP_ESTABLISHED, VirtioVsockOp.VIRTIO_VSOCK_OP_INVALID, false, TcpState.TCP_ESTABLISHED, 0),
                new StateRow(TcpState.TCP_ESTABLISHED, VirtioVsockOp.VIRTIO_VSOCK_OP_RST, false, TcpState.TCP_CLOSING, 0),
                new StateRow(TcpState.TCP_CLOSING, VirtioVsockOp.VIRTIO_VSOCK_OP_RW, false, TcpState.TCP_CLOSING, 0),
                new StateRow(TcpState.TCP_CLOSING, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST, false, TcpState.TCP_CLOSING, 0),
                new StateRow(TcpState.TCP_CLOSE, VirtioVsockOp.VIRTIO_VSOCK_OP_RW, true, TcpState.TCP_CLOSE, 0),
                new StateRow(TcpState.TCP_CLOSE, VirtioVsockOp.VIRTIO_VSOCK_OP_RST, false, TcpState.TCP_CLOSE, 0));
    }

    @ParameterizedTest
    @MethodSource("states")
    void shouldHandlePacketPerStateTableAndFreeItWhenNotQueued(StateRow r) {
        VsockSock s = core.create(Sock.SOCK_STREAM, io.vsocksim.uapi.Capability.ALL);
        s.lockSock();
        s.remoteAddr = new SockaddrVm(3, 5000);
        assertThat(core.assignTransport(s, null)).isZero();
        assertThat(core.bindConnectible(s, io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY, 6000)).isZero();
        s.skState = r.state();
        s.releaseSock();
        int inUse = t.pool().inUse();
        VirtioTransportRecv.recvPkt(t,
                packet(1, r.op().value(), 3, 5000, 6000, r.op() == VirtioVsockOp.VIRTIO_VSOCK_OP_RW ? 10 : 0));
        assertThat(t.pool().inUse()).as("packet freed, only replies held").isEqualTo(inUse + t.sent.size());
        assertThat(t.sent.stream().anyMatch(x -> x.hdr().op() == VirtioVsockOp.VIRTIO_VSOCK_OP_RST.value()))
                .isEqualTo(r.rstSent());
        assertThat(s.skState).isEqualTo(r.after());
        assertThat(s.skErr).isEqualTo(r.skErr());
        s.lockSock();
        s.sockSetFlag(VsockSock.SOCK_DEAD);
        s.transport.release(s);
        s.releaseSock();
        s.sockPut();
        // Sent skbs hold their socket, and an ESTABLISHED close arms the 8 s timer: let both go.
        freeSent();
        ((io.vsocksim.kernel.VirtualClock) k.clock()).advance(
                io.vsocksim.kernel.Clock.jiffiesToNanos(VirtioTransport.VSOCK_CLOSE_TIMEOUT));
        ((io.vsocksim.kernel.ManualWorkQueue) k.systemWq()).runUntilIdle();
        freeSent();
        assertThat(core.liveSockets()).isZero();
    }

    @Test
    void shouldAnswerRstAndIgnoreCreditWhenPacketIsNotFromPeer() {
        VsockSock s = core.create(Sock.SOCK_STREAM, io.vsocksim.uapi.Capability.ALL);
        s.lockSock();
        s.remoteAddr = new SockaddrVm(3, 5000);
        core.assignTransport(s, null);
        core.bindConnectible(s, io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY, 6000);
        s.skState = TcpState.TCP_ESTABLISHED;
        s.releaseSock();
        VsockSkb p = packet(1, VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value(), 3, 5001, 6000, 10);
        p.hdr().bufAlloc(12345);
        VirtioTransportRecv.recvPkt(t, p);
        assertThat(t.sent).hasSize(1);
        assertThat(VirtioTransport.vvs(s).peerBufAlloc).isZero();
        assertThat(VirtioTransport.vvs(s).rxBytes).isZero();
        s.lockSock();
        s.sockSetFlag(VsockSock.SOCK_DEAD);
        s.transport.release(s);
        s.releaseSock();
        s.sockPut();
    }
}
