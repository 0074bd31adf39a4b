package io.vsocksim.sim;

import static io.vsocksim.sim.ZerocopyRxSupport.PAGE;
import static io.vsocksim.sim.ZerocopyRxSupport.mapRx;
import static io.vsocksim.sim.ZerocopyRxSupport.pattern;
import static io.vsocksim.sim.ZerocopyRxSupport.sendAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Mman;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.virtio.VirtioTransport;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Measurements for docs/zerocopy.md, from the page allocators' counters: pages a queued packet holds
 * under each {@link ZerocopyPolicy}, and pages a zerocopy receiver pins compared with its window.
 * Numbers are printed ({@code zc-mem ...}) and their invariants asserted.
 */
@Timeout(120)
class ZerocopyRxMemoryTest {
    static final int N = 64;
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    final ExecutorService pool = c.pool;

    @AfterEach
    void tearDown() {
        c.close();
    }

    void await(VsockSocket s, int bytes) {
        for (int i = 0; i < 20000 && VirtioTransport.vvs(UserInternals.sock(s)).rxBytes < bytes; i++) {
            c.drain();
            Thread.yield();
        }
        assertThat(VirtioTransport.vvs(UserInternals.sock(s)).rxBytes).isEqualTo(bytes);
        c.drain();
    }

    /** Pages the receiving machine holds beyond its device's posted buffers. */
    static long held(Machine m) {
        return m.kernel().pages().pagesInUse() - m.devicePages();
    }

    @ParameterizedTest(name = "{0} {1} {2}B")
    @CsvSource({
        "OFF,GUEST,1", "OFF,GUEST,4096", "PAGES,GUEST,1", "PAGES,GUEST,4096", "SMALL_COPY,GUEST,1", "SMALL_COPY,GUEST,4096",
        "OFF,HOST,1", "OFF,HOST,4096", "PAGES,HOST,1", "PAGES,HOST,4096", "SMALL_COPY,HOST,1", "SMALL_COPY,HOST,4096",
        "OFF,LOOPBACK,1", "OFF,LOOPBACK,4096", "PAGES,LOOPBACK,1", "PAGES,LOOPBACK,4096",
        "SMALL_COPY,LOOPBACK,1", "SMALL_COPY,LOOPBACK,4096"})
    void shouldMeasurePagesPerQueuedPacketWhenPolicyVaries(ZerocopyPolicy policy, String where, int size)
            throws Exception {
        c.host.setZerocopyPolicy(policy);
        Machine rx;
        Machine tx;
        int cid;
        if (where.equals("LOOPBACK")) {
            rx = c.host;
            tx = c.host;
            cid = VmSockets.VMADDR_CID_LOCAL;
        } else {
            Guest g = c.guest(3, Guest.Options.DEFAULTS, policy, 1);
            rx = where.equals("GUEST") ? g : c.host;
            tx = where.equals("GUEST") ? c.host : g;
            cid = where.equals("GUEST") ? 3 : VmSockets.VMADDR_CID_HOST;
        }
        VsockSocket l = c.track(VsockSocket.open(rx, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 7300);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(tx, Sock.SOCK_STREAM));
        cl.connect(cid, 7300);
        VsockSocket sv = c.track(l.accept());
        c.drain();
        long base = held(rx);
        byte[] b = pattern(size, 1);
        for (int i = 0; i < N; i++) {
            sendAll(cl, b, 0);
            await(sv, (i + 1) * size);
        }
        double perPacket = (double) (held(rx) - base) / N;
        System.out.printf("zc-mem policy=%s rx=%s size=%d pagesPerPacket=%.2f skbsQueued=%d%n", policy, where, size,
                perPacket, VirtioTransport.vvs(UserInternals.sock(sv)).rxQueue.len());
        if (policy == ZerocopyPolicy.PAGES) {
            assertThat(perPacket).isGreaterThanOrEqualTo(1.0);
        }
        if (policy == ZerocopyPolicy.SMALL_COPY && size == 1) {
            assertThat(perPacket).isLessThan(1.0);
        }
    }

    @Test
    void shouldPinMoreThanReceiveWindowWhenZerocopyHoldsPages() throws Exception {
        c.host.setZerocopyPolicy(ZerocopyPolicy.PAGES);
        Machine m = c.host;
        UserProcess p = UserProcess.spawn(m, "rx");
        VsockSocket l = c.track(p.socket(Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 7301);
        long window = 64 * 1024;
        l.setBufferSize(window);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(m, Sock.SOCK_STREAM));
        cl.connect(VmSockets.VMADDR_CID_LOCAL, 7301);
        VsockSocket sv = c.track(l.accept());
        c.drain();
        long base = m.kernel().pages().pagesInUse();
        // One-byte writes: each is a packet, each packet a page; the window counts bytes.
        int small = 4000;
        Future<?> sender = pool.submit(() -> {
            for (int i = 0; i < small; i++) {
                sendAll(cl, new byte[] {(byte) i}, 0);
            }
            return null;
        });
        long addr = sv.mmap(256L * PAGE, Mman.PROT_READ);
        long got = 0;
        long peakPinned = 0;
        long peakMapped = 0;
        while (got < small) {
            sv.poll(io.vsocksim.uapi.Poll.POLLIN, 20_000);
            // Let the sender refill the credit the previous call returned before mapping again.
            c.drain();
            mapRx(sv, addr, 8);
            peakPinned = Math.max(peakPinned, m.kernel().pages().pagesInUse() - base);
            peakMapped = Math.max(peakMapped, UserInternals.mm(p).mappedPages());
            got += ZerocopyRxSupport.readMapping(p, addr).stream().mapToLong(ZerocopyRxSupport.Pkt::length).sum();
            assertThat(p.madvise(addr, 256L * PAGE, Mman.MADV_DONTNEED)).isZero();
        }
        sender.get(60, TimeUnit.SECONDS);
        System.out.printf("zc-mem pinned window=%d bytes=%d mappingPages=256 peakMappedPages=%d peakPinnedPages=%d"
                + " (%d KiB) = %.0fx window%n", window, small, peakMapped, peakPinned, peakPinned * 4,
                peakPinned * 4096.0 / window);
        // 255 one-byte packets hold 255 pages (1 MiB) for 255 bytes of credit.
        assertThat(peakPinned * PAGE).isGreaterThan(window);
        p.close();
    }
}
