package io.vsocksim.sim;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vhost.VhostVirtqueue;
import io.vsocksim.vhost.VringError;
import io.vsocksim.vsock.VsockCounters;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.uapi.VmSockets;
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
 * Bad input from a guest, end to end: a hostile guest A writes raw structures into its own rings in guest
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
        return c.connect(from, to, toCid, Sock.SOCK_STREAM, port);
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
        HostileGuestRing.header(mem, token.headGpa(), 3, UserInternals.sock(p[0]).localAddr.port(), 2, 1234, 100, STREAM, OP_RW);
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

    // ---- hostile guest A, bystander guest B -------------------------------------------------------------

    static final Guest.Options NO_INDIRECT = new Guest.Options(true, true, true, false, 128);
    static final int F_NEXT = VirtioRing.VRING_DESC_F_NEXT;
    static final int F_WRITE = VirtioRing.VRING_DESC_F_WRITE;
    static final int F_INDIRECT = VirtioRing.VRING_DESC_F_INDIRECT;

    Guest a;
    Guest b;
    /** Whether {@link #assertStuck} posts a good chain behind the bad one (not when the bad chain spans the table). */
    boolean postBehind = true;
    VsockSocket[] bPair;
    VsockSocket hostListener;

    /** Guest A (CID 3, TX chains in ring descriptors), guest B (CID 4) with a live connection to the host. */
    void twoGuests() throws Exception {
        a = c.guest(3, NO_INDIRECT);
        b = c.guest(4);
        bPair = pair(b, c.host, 2, 2000);
        hostListener = bPair[2];
        c.drain();
        assertWorks(bPair);
    }

    /** B's connection still passes data both ways, B's device saw no error, the host listener still accepts. */
    void assertOthersUnharmed() throws Exception {
        assertWorks(bPair);
        assertWorks(new VsockSocket[] {bPair[1], bPair[0]});
        assertThat(b.deviceCounters().get(Counter.VQ_ERRORS)).isZero();
        assertThat(b.vhost().vq(VSOCK_VQ_RX).errors() + b.vhost().vq(VSOCK_VQ_TX).errors()).isZero();
        assertThat(UserInternals.sock(hostListener).skState).isEqualTo(TcpState.TCP_LISTEN);
        VsockSocket again = c.track(VsockSocket.open(b, Sock.SOCK_STREAM));
        again.connect(2, 2000);
        VsockSocket acc = c.track(hostListener.accept());
        assertWorks(new VsockSocket[] {again, acc});
    }

    /** A linear guest skb used as a driver token: header at its head, {@code payload} bytes after it. */
    VsockSkb token(Guest g, long dst, int dstPort, int hdrLen, int payload, int type, int op) {
        VsockSkb skb = SkbPool.of(g.core()).allocLinear(VirtioVsockHdr.SIZE + Math.max(payload, 64));
        HostileGuestRing.header(g.kernel().memory(), skb.headGpa(), g.cid(), 5555, dst, dstPort, hdrLen, type, op);
        return skb;
    }

    /**
     * With A's device stopped (SET_RUNNING 0, as a VMM may do), A's driver posts a two-descriptor TX
     * chain (header, 64 payload bytes: a well-formed packet to a host port nobody listens on) and kicks a
     * device that does not look. Returns the chain's head; the test then corrupts it and {@link #resume}s.
     */
    int postPaused(HostileGuestRing r) {
        assertThat(a.vhost().setRunning(false)).isZero();
        VsockSkb t = token(a, 2, 4444, 64, 64, STREAM, OP_RW);
        assertThat(a.driver().addRawTxChain(new long[] {t.headGpa(), t.headGpa() + 44}, new int[] {44, 64}, 2,
                null, null, 0, t)).isZero();
        c.drain();
        int head = r.availEntry(a.driver().vq(VSOCK_VQ_TX).availIdxShadow() - 1);
        assertThat(r.descNext(head)).isBetween(0, r.num - 1);
        return head;
    }

    void resume(HostileGuestRing r) {
        assertThat(a.vhost().setRunning(true)).isZero();
        r.kick();
        c.drain();
    }

    /**
     * vhost_get_vq_desc failed with {@code why}: last_avail_idx and the used ring did not move, and the
     * same chain fails again at the next kick (the queue is stuck there). A well-formed chain the driver
     * adds behind it is never reached: its pages stay held until the guest goes away.
     */
    void assertStuck(HostileGuestRing r, int lastAvail, int lastUsed, VringError why) {
        VhostVirtqueue vq = r.device();
        assertThat(vq.lastError()).isEqualTo(why);
        assertThat(vq.errors(why)).isGreaterThanOrEqualTo(1);
        assertThat(vq.lastAvailIdx()).isEqualTo(lastAvail);
        assertThat(vq.lastUsedIdx()).isEqualTo(lastUsed);
        assertThat(a.deviceCounters().get(Counter.VQ_ERRORS)).isGreaterThanOrEqualTo(1);
        long before = vq.errors(why);
        r.kick();
        c.drain();
        assertThat(vq.errors(why)).isEqualTo(before + 1);
        assertThat(vq.lastAvailIdx()).isEqualTo(lastAvail);
        if (r.index == VSOCK_VQ_TX && postBehind) {
            long reclaimed = a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED);
            VsockSkb behind = token(a, 2, 4444, 0, 0, STREAM, OP_RW);
            assertThat(a.driver().addRawTxChain(new long[] {behind.headGpa()}, new int[] {44}, 1, null, null, 0, behind))
                    .isZero();
            r.kick();
            c.drain();
            assertThat(vq.lastAvailIdx()).isEqualTo(lastAvail);
            assertThat(vq.errors(why)).isGreaterThan(before + 1);
            assertThat(a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED)).isEqualTo(reclaimed);
            assertThat(a.driver().vq(VSOCK_VQ_TX).numFree()).isLessThan(r.num);
        }
    }

    /** The VM goes away: vhost fd closed, the hostile bytes put back, driver removed; LeakCheck follows. */
    void teardownA(HostileGuestRing r) {
        a.vhost().release();
        r.restore();
        r.close();
        a.close();
        assertThat(a.liveSockets()).isZero();
    }

    /** A hostile edit of A's TX ring, given the head of the paused two-descriptor chain. */
    interface Corrupt {
        void apply(HostileGuestRing r, int head);
    }

    /** Posts, corrupts, resumes; checks the queue is stuck for {@code why}, B unharmed, pages back. */
    void txRingCase(VringError why, Corrupt corrupt) throws Exception {
        twoGuests();
        HostileGuestRing r = new HostileGuestRing(a, VSOCK_VQ_TX);
        int head = postPaused(r);
        int lastAvail = r.device().lastAvailIdx();
        int lastUsed = r.device().lastUsedIdx();
        corrupt.apply(r, head);
        resume(r);
        assertStuck(r, lastAvail, lastUsed, why);
        assertThat(a.deviceCounters().get(Counter.TX_PKTS)).isZero();
        assertOthersUnharmed();
        teardownA(r);
        assertOthersUnharmed();
    }

    /** The payload descriptor of the paused chain (header at {@code head}). */
    static int second(HostileGuestRing r, int head) {
        return r.descNext(head);
    }

    long hdrGpa(HostileGuestRing r, int head) {
        return r.mem.getU64(r.desc + 16L * head);
    }

    @Test
    void shouldRereadAndRefuseEveryTimeWhenAvailIdxJumpsByMoreThanQueueSize() throws Exception {
        twoGuests();
        HostileGuestRing r = new HostileGuestRing(a, VSOCK_VQ_TX);
        VhostVirtqueue vq = r.device();
        int last = vq.lastAvailIdx();
        r.setAvailIdx(last + r.num + 1);
        r.kick();
        c.drain();
        assertThat(vq.errors(VringError.INVALID_AVAIL_IDX)).isEqualTo(1);
        assertThat(vq.lastAvailIdx()).isEqualTo(last);
        // 6.12.117 does not cache the bad index: every kick re-reads it and fails again.
        r.kick();
        c.drain();
        assertThat(vq.errors(VringError.INVALID_AVAIL_IDX)).isEqualTo(2);
        assertThat(vq.lastAvailIdx()).isEqualTo(last);
        assertOthersUnharmed();
        // The driver publishes a sane index again with its next chain: the queue moves on (a chain to
        // guest B's CID, dropped by the isolation check and returned).
        long iso = a.deviceCounters().get(Counter.DROP_ISOLATION);
        VsockSkb t = token(a, 4, 2000, 0, 0, STREAM, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value());
        assertThat(a.driver().addRawTxChain(new long[] {t.headGpa()}, new int[] {44}, 1, null, null, 0, t)).isZero();
        r.kick();
        c.drain();
        assertThat(vq.lastAvailIdx()).isEqualTo((last + 1) & 0xFFFF);
        assertThat(a.deviceCounters().get(Counter.DROP_ISOLATION)).isEqualTo(iso + 1);
        assertThat(b.deviceCounters().get(Counter.RX_PKTS)).isGreaterThan(0);
        teardownA(r);
        assertOthersUnharmed();
    }

    @Test
    void shouldStickWhenAvailRingNamesHeadOutOfRange() throws Exception {
        txRingCase(VringError.HEAD_OUT_OF_RANGE,
                (r, head) -> r.setAvailEntry(a.driver().vq(VSOCK_VQ_TX).availIdxShadow() - 1, r.num + 5));
    }

    @Test
    void shouldStickWhenNextIsOutOfRange() throws Exception {
        txRingCase(VringError.DESC_OUT_OF_RANGE, (r, head) -> r.desc(head, hdrGpa(r, head), 44, F_NEXT, r.num + 1));
    }

    @Test
    void shouldStickWhenChainLoops() throws Exception {
        // header -> payload -> header -> ...: more than num descriptors visited.
        txRingCase(VringError.DESC_LOOP, (r, head) -> {
            int p = second(r, head);
            r.desc(p, hdrGpa(r, head) + 44, 64, F_NEXT, head);
        });
    }

    @Test
    void shouldStickWhenChainIsLongerThanTheQueue() throws Exception {
        // Every descriptor of the table in one chain (head first), the last one linking back to the head:
        // a walk longer than num, which vhost can only tell from a loop by counting. (The chain uses the
        // driver's free descriptors too, so nothing is posted behind it: the driver would rewrite one.)
        postBehind = false;
        txRingCase(VringError.DESC_LOOP, (r, head) -> {
            long buf = hdrGpa(r, head);
            int prev = head;
            r.desc(head, buf, 1, F_NEXT, 0);
            for (int i = 0; i < r.num; i++) {
                if (i == head) {
                    continue;
                }
                r.desc(prev, buf, 1, F_NEXT, i);
                prev = i;
            }
            r.desc(prev, buf, 1, F_NEXT, head);
        });
    }

    @Test
    void shouldStickWhenTxChainHasReadableAfterWritable() throws Exception {
        txRingCase(VringError.OUT_AFTER_IN, (r, head) -> r.desc(head, hdrGpa(r, head), 44, F_NEXT | F_WRITE, second(r, head)));
    }

    @Test
    void shouldStickWhenBufferIsOutsideGuestMemory() throws Exception {
        txRingCase(VringError.TRANSLATION_FAULT,
                (r, head) -> r.desc(second(r, head), r.mem.size() + 4096, 64, 0, 0));
    }

    @Test
    void shouldStickWhenIndirectLengthIsNotMultipleOf16() throws Exception {
        txRingCase(VringError.INDIRECT_BAD_LEN, (r, head) -> {
            long table = r.page(0);
            r.desc(head, table, 40, F_INDIRECT, 0);
        });
    }

    @Test
    void shouldStickWhenIndirectTableIsNested() throws Exception {
        txRingCase(VringError.INDIRECT_NESTED, (r, head) -> {
            long table = r.page(0);
            HostileGuestRing.rawDesc(r.mem, table, hdrGpa(r, head), 44, F_NEXT, 1);
            HostileGuestRing.rawDesc(r.mem, table + 16, table, 32, F_INDIRECT, 0);
            r.desc(head, table, 32, F_INDIRECT, 0);
        });
    }

    @Test
    void shouldStickWhenIndirectTableLoops() throws Exception {
        txRingCase(VringError.INDIRECT_LOOP, (r, head) -> {
            long table = r.page(0);
            HostileGuestRing.rawDesc(r.mem, table, hdrGpa(r, head), 44, F_NEXT, 1);
            HostileGuestRing.rawDesc(r.mem, table + 16, hdrGpa(r, head) + 44, 64, F_NEXT, 0);
            r.desc(head, table, 32, F_INDIRECT, 0);
        });
    }

    @Test
    void shouldStickWhenIndirectTableIsOutsideGuestMemory() throws Exception {
        txRingCase(VringError.TRANSLATION_FAULT, (r, head) -> r.desc(head, r.mem.size() - 16, 32, F_INDIRECT, 0));
    }

    @Test
    void shouldStickWhenChainNeedsMoreThanUioMaxiovIovecs() throws Exception {
        // 1025 one-byte readable entries in an indirect table: vhost's iov array holds 1024.
        txRingCase(VringError.IOV_OVERFLOW, (r, head) -> {
            long table = r.page(3);
            long buf = hdrGpa(r, head);
            for (int i = 0; i < 1025; i++) {
                HostileGuestRing.rawDesc(r.mem, table + 16L * i, buf + (i % 44), 1, i < 1024 ? F_NEXT : 0, i + 1);
            }
            r.desc(head, table, 1025 * 16, F_INDIRECT, 0);
        });
    }

    @Test
    void shouldAcceptExactlyUioMaxiovOneByteIovecs() throws Exception {
        twoGuests();
        HostileGuestRing r = new HostileGuestRing(a, VSOCK_VQ_TX);
        int head = postPaused(r);
        // 1024 entries: the 44 header bytes one by one, then 980 payload bytes; hdr.len = 980, to a host
        // port nobody listens on (answered with RST by reset_no_sock).
        long table = r.page(3);
        long payload = r.page(0);
        long hdr = hdrGpa(r, head);
        HostileGuestRing.header(r.mem, hdr, 3, 5555, 2, 4444, 980, STREAM, OP_RW);
        for (int i = 0; i < 1024; i++) {
            long at = i < 44 ? hdr + i : payload + (i - 44);
            HostileGuestRing.rawDesc(r.mem, table + 16L * i, at, 1, i < 1023 ? F_NEXT : 0, i + 1);
        }
        // Keep the head's NEXT to the chain's second descriptor (now empty: no iovec): the driver frees
        // the chain by the shared NEXT flags when the device returns it.
        int p = second(r, head);
        r.desc(head, table, 1024 * 16, F_INDIRECT | F_NEXT, p);
        r.desc(p, payload, 0, 0, 0);
        long noSock = SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK);
        resume(r);
        assertThat(r.device().errors()).isZero();
        assertThat(a.deviceCounters().get(Counter.TX_PKTS)).isEqualTo(1);
        assertThat(a.deviceCounters().get(Counter.TX_BYTES)).isEqualTo(980);
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK)).isEqualTo(noSock + 1);
        assertOthersUnharmed();
        teardownA(r);
    }

    // ---- chains vhost_vsock_alloc_skb rejects: consumed, never returned, the queue goes on ---------------

    @Test
    void shouldConsumeWithoutReturningZeroLengthAndShortHeaderChains() throws Exception {
        twoGuests();
        VhostVirtqueue vq = a.vhost().vq(VSOCK_VQ_TX);
        int used = vq.lastUsedIdx();
        long reclaimed = a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED);
        // Zero-length chain: one descriptor of length 0, no iovec at all.
        VsockSkb zero = token(a, 2, 4444, 0, 0, STREAM, OP_RW);
        assertThat(a.driver().addRawTxChain(new long[] {zero.headGpa()}, new int[] {0}, 1, null, null, 0, zero)).isZero();
        // hdr.len = 4000 in a chain of 44 + 64.
        VsockSkb longHdr = token(a, 2, 4444, 4000, 64, STREAM, OP_RW);
        assertThat(a.driver().addRawTxChain(new long[] {longHdr.headGpa(), longHdr.headGpa() + 44}, new int[] {44, 64}, 2,
                null, null, 0, longHdr)).isZero();
        c.drain();
        assertThat(a.deviceCounters().get(Counter.DROP_TX_BAD_SIZE)).isEqualTo(1);
        assertThat(a.deviceCounters().get(Counter.DROP_TX_BAD_HDR_LEN)).isEqualTo(1);
        assertThat(vq.lastUsedIdx()).isEqualTo(used);
        assertThat(vq.errors()).isZero();
        assertThat(a.driverCounters().get(VirtioVsockCounters.Counter.TX_RECLAIMED)).isEqualTo(reclaimed);
        // The queue goes on: A still reaches the host.
        VsockSocket[] ap = pair(a, c.host, 2, 2100);
        assertWorks(ap);
        assertOthersUnharmed();
    }

    // ---- well-formed chains with nonsense inside: recv_pkt answers with RST ------------------------------

    @Test
    void shouldAnswerRstWhenGuestSendsUnknownType() throws Exception {
        twoGuests();
        long rst = SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT);
        long noSock = SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK);
        long rstIn = SimInternals.counters(a).received(VirtioVsockOp.VIRTIO_VSOCK_OP_RST);
        VsockSkb t = token(a, 2, 2000, 0, 0, 7, VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST.value());
        assertThat(a.driver().addRawTxChain(new long[] {t.headGpa()}, new int[] {44}, 1, null, null, 0, t)).isZero();
        c.drain();
        assertThat(a.deviceCounters().get(Counter.TX_PKTS)).isEqualTo(1);
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK)).isEqualTo(noSock + 1);
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT)).isEqualTo(rst + 1);
        // The RST carries the same unknown type; the guest drops it without answering.
        assertThat(SimInternals.counters(a).received(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(rstIn + 1);
        assertThat(SimInternals.counters(a).get(VsockCounters.Counter.RST_SENT)).isZero();
        assertThat(UserInternals.sock(hostListener).acceptQueue).isEmpty();
        assertOthersUnharmed();
    }

    @Test
    void shouldAnswerRstWhenGuestSendsUnknownOpToListenerAndDropItOnConnection() throws Exception {
        twoGuests();
        long rst = SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT);
        VsockSkb t = token(a, 2, 2000, 0, 0, STREAM, 99);
        assertThat(a.driver().addRawTxChain(new long[] {t.headGpa()}, new int[] {44}, 1, null, null, 0, t)).isZero();
        c.drain();
        // LISTEN + anything but REQUEST: reset_no_sock.
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT)).isEqualTo(rst + 1);
        assertThat(SimInternals.counters(a).received(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        assertThat(UserInternals.sock(hostListener).acceptQueue).isEmpty();
        // ESTABLISHED + unknown op: dropped, no reply, the connection is untouched.
        VsockSocket[] ap = pair(a, c.host, 2, 2100);
        c.drain();
        long dropped = SimInternals.counters(c.host).get(VsockCounters.Counter.PKTS_DROPPED);
        VsockSkb u = token(a, 2, 2100, 0, 0, STREAM, 99);
        HostileGuestRing.header(a.kernel().memory(), u.headGpa(), 3, UserInternals.sock(ap[0]).localAddr.port(), 2, 2100, 0, STREAM, 99);
        assertThat(a.driver().addRawTxChain(new long[] {u.headGpa()}, new int[] {44}, 1, null, null, 0, u)).isZero();
        c.drain();
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.PKTS_DROPPED)).isEqualTo(dropped + 1);
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT)).isEqualTo(rst + 1);
        assertWorks(ap);
        assertOthersUnharmed();
    }

    @Test
    void shouldCountNoSockDropAndAnswerRstWhenGuestConnectsToUnboundHostPort() throws Exception {
        twoGuests();
        long noSock = SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK);
        long rst = SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT);
        VsockSocket s = c.track(VsockSocket.open(a, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> s.connect(2, 4444)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ECONNRESET);
        c.drain();
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.DROP_NO_SOCK)).isEqualTo(noSock + 1);
        assertThat(SimInternals.counters(c.host).get(VsockCounters.Counter.RST_SENT)).isEqualTo(rst + 1);
        assertThat(SimInternals.counters(c.host).received(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST)).isGreaterThanOrEqualTo(2);
        assertThat(SimInternals.counters(a).received(VirtioVsockOp.VIRTIO_VSOCK_OP_RST)).isEqualTo(1);
        // Delivered by the device like any packet: accepted from the ring, not a device drop.
        assertThat(a.deviceCounters().get(Counter.TX_PKTS)).isEqualTo(1);
        assertThat(a.deviceCounters().get(Counter.DROP_ISOLATION)).isZero();
        // The host→guest direction counts the same way: the guest answers a connect to a closed port.
        VsockSocket h = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> h.connect(3, 4445)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ECONNRESET);
        assertThat(SimInternals.counters(a).get(VsockCounters.Counter.DROP_NO_SOCK)).isEqualTo(1);
        assertOthersUnharmed();
    }

    // ---- guest RX buffers ------------------------------------------------------------------------------

    /** A host socket connecting to guest A without waiting (its REQUEST goes to A's RX queue). */
    VsockSocket hostConnectsToA(int port) throws Exception {
        VsockSocket h = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM | Sock.SOCK_NONBLOCK));
        assertThatThrownBy(() -> h.connect(3, port)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EINPROGRESS);
        c.drain();
        return h;
    }

    void rxBadBufferCase(Corrupt corrupt) throws Exception {
        twoGuests();
        VsockSocket al = c.track(VsockSocket.open(a, Sock.SOCK_STREAM));
        al.bind(VmSockets.VMADDR_CID_ANY, 5000);
        al.listen(4);
        HostileGuestRing r = new HostileGuestRing(a, VSOCK_VQ_RX);
        VhostVirtqueue vq = r.device();
        int lastAvail = vq.lastAvailIdx();
        int lastUsed = vq.lastUsedIdx();
        long usedBufs = a.driverCounters().get(VirtioVsockCounters.Counter.RX_BUFS_USED);
        corrupt.apply(r, r.nextHead());
        VsockSocket lost = hostConnectsToA(5000);
        // Packet dropped and counted, the buffer consumed and never returned, no ring error.
        assertThat(a.deviceCounters().get(Counter.DROP_RX_BAD_BUFFER)).isEqualTo(1);
        assertThat(vq.lastAvailIdx()).isEqualTo((lastAvail + 1) & 0xFFFF);
        assertThat(vq.lastUsedIdx()).isEqualTo(lastUsed);
        assertThat(vq.errors()).isZero();
        assertThat(a.driverCounters().get(VirtioVsockCounters.Counter.RX_BUFS_USED)).isEqualTo(usedBufs);
        assertThat(UserInternals.sock(al).acceptQueue).isEmpty();
        assertThat(UserInternals.sock(lost).skState).isEqualTo(TcpState.TCP_SYN_SENT);
        // The next packet takes the next buffer: the host reaches A again.
        VsockSocket h = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        h.connect(3, 5000);
        VsockSocket acc = c.track(al.accept());
        assertWorks(new VsockSocket[] {h, acc});
        assertWorks(new VsockSocket[] {acc, h});
        assertOthersUnharmed();
        r.restore();
        r.close();
    }

    @Test
    void shouldDropPacketAndKeepBufferWhenRxBufferHasReadablePart() throws Exception {
        rxBadBufferCase((r, head) -> r.desc(head, r.mem.getU64(r.desc + 16L * head),
                (int) r.mem.getU32(r.desc + 16L * head + 8), 0, 0));
    }

    @Test
    void shouldDropPacketAndKeepBufferWhenRxBufferIsShorterThanHeader() throws Exception {
        rxBadBufferCase((r, head) -> r.desc(head, r.mem.getU64(r.desc + 16L * head), 43, F_WRITE, 0));
    }

    @Test
    void shouldStickRxQueueAndHoldHostPacketsWhenRxChainHasReadableAfterWritable() throws Exception {
        twoGuests();
        HostileGuestRing r = new HostileGuestRing(a, VSOCK_VQ_RX);
        VhostVirtqueue vq = r.device();
        int lastAvail = vq.lastAvailIdx();
        int lastUsed = vq.lastUsedIdx();
        int head = r.nextHead();
        int other = (head + 1) % r.num;
        r.desc(head, r.mem.getU64(r.desc + 16L * head), 3776, F_WRITE | F_NEXT, other);
        r.desc(other, r.mem.getU64(r.desc + 16L * head), 16, 0, 0);
        VsockSocket h1 = hostConnectsToA(5000);
        VsockSocket h2 = hostConnectsToA(5001);
        assertThat(vq.lastError()).isEqualTo(VringError.OUT_AFTER_IN);
        assertThat(vq.lastAvailIdx()).isEqualTo(lastAvail);
        assertThat(vq.lastUsedIdx()).isEqualTo(lastUsed);
        assertThat(a.deviceCounters().get(Counter.VQ_ERRORS)).isGreaterThanOrEqualTo(2);
        // Both REQUESTs wait in the device's send queue, holding host pages; nothing was dropped.
        assertThat(a.vhost().queuedPackets()).isEqualTo(2);
        assertThat(a.deviceCounters().get(Counter.DROP_RX_BAD_BUFFER)).isZero();
        long errs = vq.errors(VringError.OUT_AFTER_IN);
        r.kick();
        c.drain();
        assertThat(vq.errors(VringError.OUT_AFTER_IN)).isEqualTo(errs + 1);
        assertThat(UserInternals.sock(h1).skState).isEqualTo(TcpState.TCP_SYN_SENT);
        assertThat(UserInternals.sock(h2).skState).isEqualTo(TcpState.TCP_SYN_SENT);
        assertOthersUnharmed();
        // The VM goes away: the held host packets and every guest RX buffer come back (LeakCheck).
        teardownA(r);
        assertThat(a.vhost().queuedPackets()).isZero();
        assertOthersUnharmed();
    }
}
