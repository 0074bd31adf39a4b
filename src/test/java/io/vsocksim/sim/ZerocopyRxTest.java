package io.vsocksim.sim;

import static io.vsocksim.sim.ZerocopyRxSupport.PAGE;
import static io.vsocksim.sim.ZerocopyRxSupport.mapRx;
import static io.vsocksim.sim.ZerocopyRxSupport.pattern;
import static io.vsocksim.sim.ZerocopyRxSupport.readMapping;
import static io.vsocksim.sim.ZerocopyRxSupport.sendAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import io.vsocksim.sim.ZerocopyRxSupport.Pkt;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioVsockSock;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Zerocopy receive (RFC v1 ABI, not upstream) on the three kinds of receiving socket: loopback, a host
 * socket fed by vhost, a guest socket fed by the guest driver's RX pages.
 */
@Timeout(60)
class ZerocopyRxTest {
    static final int PORT = 7000;

    /** Where the receiving socket lives. */
    enum Placement { LOOPBACK, HOST, GUEST }

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    Guest guest;

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** A connected pair {sender, receiver}; the receiver is created in {@code p}. */
    VsockSocket[] pair(Placement where, int type, UserProcess p, ZerocopyPolicy policy) throws Exception {
        c.host.setZerocopyPolicy(policy);
        Machine rx;
        Machine tx;
        int cid;
        if (where == Placement.LOOPBACK) {
            rx = c.host;
            tx = c.host;
            cid = VmSockets.VMADDR_CID_LOCAL;
        } else {
            guest = c.guest(3, Guest.Options.DEFAULTS, policy);
            rx = where == Placement.HOST ? c.host : guest;
            tx = where == Placement.HOST ? guest : c.host;
            cid = where == Placement.HOST ? VmSockets.VMADDR_CID_HOST : 3;
        }
        assertThat(p.machine()).isSameAs(rx);
        VsockSocket l = c.track(p.socket(type));
        l.bind(VmSockets.VMADDR_CID_ANY, PORT);
        listenerBuf(l);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(tx, type));
        cl.connect(cid, PORT);
        VsockSocket sv = c.track(l.accept());
        return new VsockSocket[] {cl, sv};
    }

    Machine rxMachine(Placement where) throws Exception {
        return where == Placement.GUEST ? null : c.host;
    }

    static VirtioVsockSock vvs(VsockSocket s) {
        return VirtioTransport.vvs(UserInternals.sock(s));
    }

    /** Waits (bounded, draining work) until {@code s} has {@code n} bytes queued. */
    void awaitRxBytes(VsockSocket s, int n) {
        for (int i = 0; i < 20000 && Integer.toUnsignedLong(vvs(s).rxBytes) < n; i++) {
            c.drain();
            Thread.yield();
        }
        assertThat(Integer.toUnsignedLong(vvs(s).rxBytes)).isEqualTo(n);
    }

    /** Builds the process of the receiving side; the guest must exist first for GUEST. */
    UserProcess[] holder = new UserProcess[1];
    /** Data pages per guest RX buffer: 16 so that the host's 8200-byte packet arrives as one. */
    int rxPages = 16;
    /** Receive buffer of the listener (inherited by the accepted socket); 0 = default. */
    long rxBuf;

    void listenerBuf(VsockSocket l) throws ErrnoException {
        if (rxBuf > 0) {
            l.setsockoptLong(VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_MAX_SIZE, rxBuf);
            l.setBufferSize(rxBuf);
        }
    }

    VsockSocket[] setup(Placement where, int type, ZerocopyPolicy policy) throws Exception {
        if (where == Placement.GUEST) {
            c.host.setZerocopyPolicy(policy);
            guest = c.guest(3, Guest.Options.DEFAULTS, policy, rxPages);
            holder[0] = UserProcess.spawn(guest, "rx");
            VsockSocket l = c.track(holder[0].socket(type));
            l.bind(VmSockets.VMADDR_CID_ANY, PORT);
            listenerBuf(l);
            l.listen(4);
            VsockSocket cl = c.track(VsockSocket.open(c.host, type));
            cl.connect(3, PORT);
            return new VsockSocket[] {cl, c.track(l.accept())};
        }
        holder[0] = UserProcess.spawn(c.host, "rx");
        return pair(where, type, holder[0], policy);
    }

    @ParameterizedTest
    @EnumSource(Placement.class)
    void shouldMapRfcExampleExactlyWhenPacketsOf56And4096And8200Queued(Placement where) throws Exception {
        VsockSocket[] s = setup(where, Sock.SOCK_STREAM, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        byte[] a = pattern(56, 1);
        byte[] b = pattern(4096, 2);
        byte[] d = pattern(8200, 3);
        sendAll(s[0], a, 0);
        sendAll(s[0], b, 0);
        sendAll(s[0], d, 0);
        awaitRxBytes(s[1], 56 + 4096 + 8200);
        long addr = s[1].mmap(16L * PAGE, Mman.PROT_READ);

        assertThat(mapRx(s[1], addr, 8)).isEqualTo(8);

        int[] hdr = new int[5];
        for (int i = 0; i < 4; i++) {
            hdr[i] = p.readU32(addr + 8L * i);
        }
        assertThat(hdr).startsWith(56, 4096, 8200, 0);
        int[] expected = {56, 4096, 4096, 4096, 8};
        byte[][] src = {a, b, java.util.Arrays.copyOfRange(d, 0, 4096), java.util.Arrays.copyOfRange(d, 4096, 8192),
            java.util.Arrays.copyOfRange(d, 8192, 8200)};
        for (int pg = 1; pg <= 5; pg++) {
            byte[] got = new byte[PAGE];
            p.read(addr + (long) pg * PAGE, got, 0, PAGE);
            assertThat(java.util.Arrays.copyOf(got, expected[pg - 1])).as("page %d", pg).isEqualTo(src[pg - 1]);
            // The rest of a partly filled page is zero: nothing but this packet's bytes is visible.
            for (int i = expected[pg - 1]; i < PAGE; i++) {
                assertThat(got[i]).isZero();
            }
        }
        assertThat(UserInternals.mm(p).mappedPages()).isEqualTo(6);
        assertThatThrownBy(() -> p.readByte(addr + 6L * PAGE)).isInstanceOf(SegmentationFault.class);
        // Mapped bytes are consumed: queue empty, credit returned.
        assertThat(vvs(s[1]).rxBytes).isZero();
        assertThat(vvs(s[1]).fwdCnt).isEqualTo(56 + 4096 + 8200);
        assertThat(p.madvise(addr, 16L * PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThat(UserInternals.mm(p).mappedPages()).isZero();
        p.close();
    }

    @ParameterizedTest
    @EnumSource(Placement.class)
    void shouldMapDataPagesWithoutCopyWhenPolicyIsPages(Placement where) throws Exception {
        VsockSocket[] s = setup(where, Sock.SOCK_STREAM, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        sendAll(s[0], pattern(3 * PAGE, 9), 0);
        awaitRxBytes(s[1], 3 * PAGE);
        Machine rx = where == Placement.GUEST ? guest : c.host;
        long addr = s[1].mmap(8L * PAGE, Mman.PROT_READ);
        long allocsBefore = rx.kernel().pages().allocCount();
        long mappedBefore = SimInternals.counters(rx).get(io.vsocksim.vsock.VsockCounters.Counter.PAGES_MAPPED);
        long copiedBefore = SimInternals.counters(rx).get(io.vsocksim.vsock.VsockCounters.Counter.BYTES_COPIED_TO_USER);
        mapRx(s[1], addr, 8);
        // Only the header page is new (plus at most one credit-update skb head): data pages are the packets' own.
        assertThat(rx.kernel().pages().allocCount() - allocsBefore).isLessThanOrEqualTo(2);
        assertThat(SimInternals.counters(rx).get(io.vsocksim.vsock.VsockCounters.Counter.PAGES_MAPPED) - mappedBefore).isEqualTo(3);
        assertThat(SimInternals.counters(rx).get(io.vsocksim.vsock.VsockCounters.Counter.BYTES_COPIED_TO_USER)).isEqualTo(copiedBefore);
        List<Pkt> pk = readMapping(p, addr);
        int total = pk.stream().mapToInt(Pkt::length).sum();
        assertThat(total).isEqualTo(3 * PAGE);
        assertThat(p.madvise(addr, 8L * PAGE, Mman.MADV_DONTNEED)).isZero();
        p.close();
    }

    @Test
    void shouldSeeDeviceSplitPacketsWhenGuestPostsOnePagePerBuffer() throws Exception {
        rxPages = 1;
        VsockSocket[] s = setup(Placement.GUEST, Sock.SOCK_STREAM, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        byte[] d = pattern(8200, 3);
        sendAll(s[0], d, 0);
        awaitRxBytes(s[1], 8200);
        long addr = s[1].mmap(8L * PAGE, Mman.PROT_READ);

        List<Pkt> pk = ZerocopyRxSupport.takeOnce(p, s[1], addr, 8);

        // vhost splits what does not fit one posted buffer: one header per virtio packet.
        assertThat(pk).extracting(Pkt::length).containsExactly(4096, 4096, 8);
        assertThat(pk.get(0).data()).isEqualTo(java.util.Arrays.copyOf(d, 4096));
        p.close();
    }

    @Test
    void shouldKeepMappedPagesReadableWhenConnectionResetWhileMapped() throws Exception {
        VsockSocket[] s = setup(Placement.GUEST, Sock.SOCK_STREAM, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        byte[] d = pattern(2 * PAGE, 8);
        sendAll(s[0], d, 0);
        awaitRxBytes(s[1], 2 * PAGE);
        long addr = s[1].mmap(4L * PAGE, Mman.PROT_READ);
        mapRx(s[1], addr, 8);
        sendAll(s[0], pattern(PAGE, 9), 0);
        awaitRxBytes(s[1], PAGE);

        assertThat(c.host.sendTransportReset(guest)).isZero();
        for (int i = 0; i < 20000 && UserInternals.sock(s[1]).skState != io.vsocksim.uapi.TcpState.TCP_CLOSE; i++) {
            c.drain();
            Thread.yield();
        }

        assertThat(UserInternals.sock(s[1]).skErr).isEqualTo(Errno.ECONNRESET);
        assertThat(readMapping(p, addr)).extracting(Pkt::data).singleElement().isEqualTo(d);
        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThatThrownBy(() -> mapRx(s[1], addr, 8)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ENOTCONN);
        p.close();
    }

    @Test
    void shouldSplitPacketAcrossCallsWhenMappingTooSmall() throws Exception {
        VsockSocket[] s = setup(Placement.LOOPBACK, Sock.SOCK_SEQPACKET, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        byte[] msg = pattern(5 * PAGE + 100, 4);
        sendAll(s[0], msg, Sock.MSG_EOR);
        awaitRxBytes(s[1], msg.length);
        long addr = s[1].mmap(3L * PAGE, Mman.PROT_READ);

        List<Pkt> first = ZerocopyRxSupport.takeOnce(p, s[1], addr, 3);
        List<Pkt> second = ZerocopyRxSupport.takeOnce(p, s[1], addr, 3);
        List<Pkt> third = ZerocopyRxSupport.takeOnce(p, s[1], addr, 3);

        assertThat(first).extracting(Pkt::length).containsExactly(2 * PAGE);
        assertThat(first.get(0).flags()).isZero();
        assertThat(second).extracting(Pkt::length).containsExactly(2 * PAGE);
        assertThat(third).extracting(Pkt::length).containsExactly(PAGE + 100);
        assertThat(third.get(0).flags())
                .isEqualTo(VirtioVsock.VIRTIO_VSOCK_SEQ_EOM | VirtioVsock.VIRTIO_VSOCK_SEQ_EOR);
        ByteBuffer all = ByteBuffer.allocate(msg.length);
        for (List<Pkt> l : List.of(first, second, third)) {
            all.put(l.get(0).data());
        }
        assertThat(all.array()).isEqualTo(msg);
        assertThat(vvs(s[1]).msgCount).isZero();
        p.close();
    }

    @Test
    void shouldStopAt255DataPagesWhenMappingIsLarger() throws Exception {
        rxBuf = 4L << 20;
        VsockSocket[] s = setup(Placement.LOOPBACK, Sock.SOCK_STREAM, ZerocopyPolicy.PAGES);
        UserProcess p = holder[0];
        s[0].setsockoptLong(VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_MAX_SIZE, rxBuf);
        s[0].setBufferSize(rxBuf);
        int n = 300 * PAGE;
        Thread t = new Thread(() -> {
            try {
                sendAll(s[0], pattern(n, 5), 0);
            } catch (ErrnoException e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        t.join(30_000);
        awaitRxBytes(s[1], n);
        long addr = s[1].mmap(400L * PAGE, Mman.PROT_READ);
        mapRx(s[1], addr, 8);
        assertThat(UserInternals.mm(p).mappedPages()).isEqualTo(256);
        long mapped = readMapping(p, addr).stream().mapToLong(Pkt::length).sum();
        assertThat(mapped).isEqualTo(255L * PAGE);
        assertThat(p.madvise(addr, 400L * PAGE, Mman.MADV_DONTNEED)).isZero();
        List<Pkt> rest = ZerocopyRxSupport.takeOnce(p, s[1], addr, 400);
        assertThat(rest.stream().mapToLong(Pkt::length).sum()).isEqualTo(45L * PAGE);
        p.close();
    }
}
