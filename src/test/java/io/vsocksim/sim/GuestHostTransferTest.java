package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.vhost.VhostVsockCounters;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Data over guest ↔ vhost ↔ host: volume, checksums, exact packet counts, many guests, back-pressure. */
@Timeout(60)
class GuestHostTransferTest {
    static final int PORT = 1234;
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    final ExecutorService pool = c.pool;

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** {client, server, listener}: client on {@code from}, listener on {@code to} at {@code toCid}. */
    VsockSocket[] pair(Machine from, Machine to, int toCid, int type, int port) throws Exception {
        return c.connect(from, to, toCid, type, port);
    }

    static long sendRandom(VsockSocket s, long total, long seed, int maxWrite, boolean seqpacket) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        CRC32 crc = new CRC32();
        byte[] buf = new byte[maxWrite];
        long sent = 0;
        while (sent < total) {
            int n = (int) Math.min(total - sent, 1 + rnd.nextInt(maxWrite));
            for (int i = 0; i < n; i++) {
                buf[i] = (byte) rnd.nextInt();
            }
            crc.update(buf, 0, n);
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) {
                int w = s.send(b, seqpacket ? Sock.MSG_EOR : 0);
                assertThat(w).isPositive();
                if (seqpacket) {
                    assertThat(w).isEqualTo(n);
                }
            }
            sent += n;
        }
        return crc.getValue();
    }

    static long recvAll(VsockSocket s, long total, int bufSize) throws Exception {
        CRC32 crc = new CRC32();
        ByteBuffer b = ByteBuffer.allocate(bufSize);
        long got = 0;
        while (got < total) {
            b.clear();
            int n = s.recv(b, 0);
            assertThat(n).isPositive();
            crc.update(b.array(), 0, n);
            got += n;
        }
        return crc.getValue();
    }

    void transfer(Machine from, Machine to, int toCid, int type, long total, long seed, int port) throws Exception {
        VsockSocket[] p = pair(from, to, toCid, type, port);
        boolean seq = type == Sock.SOCK_SEQPACKET;
        Future<Long> tx = pool.submit(() -> sendRandom(p[0], total, seed, seq ? 48 * 1024 : 100_000, seq));
        long rx = recvAll(p[1], total, 128 * 1024);
        assertThat(rx).isEqualTo(tx.get(30, TimeUnit.SECONDS));
    }

    @Test
    void shouldDeliverChecksummedStreamBothWaysWhenTransferringManyMegabytes() throws Exception {
        Guest g = c.guest(3);
        transfer(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, 16L << 20, 1, PORT);
        transfer(c.host, g, 3, Sock.SOCK_STREAM, 16L << 20, 2, PORT + 1);
        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.DROP_ISOLATION)).isZero();
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.RX_DROP_SHORT_LONG)).isZero();
    }

    @Test
    void shouldKeepMessageBoundariesWhenTransferringSeqpacketBothWays() throws Exception {
        Guest g = c.guest(3);
        transfer(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_SEQPACKET, 8L << 20, 3, PORT);
        // Host -> guest messages: every one split over 3732-byte RX buffers, EOM only on the last.
        VsockSocket[] p = pair(c.host, g, 3, Sock.SOCK_SEQPACKET, PORT + 1);
        SplittableRandom rnd = new SplittableRandom(4);
        for (int m = 0; m < 200; m++) {
            int n = 1 + rnd.nextInt(60_000);
            byte[] msg = new byte[n];
            for (int i = 0; i < n; i++) {
                msg[i] = (byte) (m + i);
            }
            assertThat(p[0].send(ByteBuffer.wrap(msg), Sock.MSG_EOR)).isEqualTo(n);
            ByteBuffer r = ByteBuffer.allocate(65536);
            int[] flags = new int[1];
            assertThat(p[1].recvmsg(r, 0, flags)).isEqualTo(n);
            assertThat(flags[0] & Sock.MSG_EOR).isEqualTo(Sock.MSG_EOR);
            assertThat(java.util.Arrays.copyOf(r.array(), n)).isEqualTo(msg);
        }
    }

    @Test
    void shouldSplitIntoEighteenRxBuffersWhenHostWrites64KiB() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = pair(c.host, g, 3, Sock.SOCK_STREAM, PORT);
        c.drain();
        long rx0 = g.deviceCounters().get(VhostVsockCounters.Counter.RX_PKTS);
        long drv0 = g.driverCounters().get(VirtioVsockCounters.Counter.RX_PKTS);
        assertThat(p[0].send(ByteBuffer.allocate(65536), 0)).isEqualTo(65536);
        assertThat(recvAll(p[1], 65536, 65536)).isNotNegative();
        c.drain();
        // ceil(65536 / (3776 - 44)) = 18: 17 x 3732 + 2092.
        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.RX_PKTS) - rx0).isEqualTo(18);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.RX_PKTS) - drv0).isEqualTo(18);
    }

    @Test
    void shouldSendFourTxPacketsWhenGuestWrites200KiB() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = pair(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, PORT);
        c.drain();
        long tx0 = g.deviceCounters().get(VhostVsockCounters.Counter.TX_PKTS);
        long drv0 = g.driverCounters().get(VirtioVsockCounters.Counter.TX_PKTS);
        assertThat(p[0].send(ByteBuffer.allocate(200 * 1024), 0)).isEqualTo(200 * 1024);
        recvAll(p[1], 200 * 1024, 256 * 1024);
        c.drain();
        // 3 x 64 KiB + 8 KiB, all within the 256 KiB window.
        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.TX_PKTS) - tx0).isEqualTo(4);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TX_PKTS) - drv0).isEqualTo(4);
    }

    @Test
    void shouldKeepStreamsApartWhenManyGuestsTransferAtOnce() throws Exception {
        int guests = 8;
        int conns = 3;
        List<Callable<Void>> jobs = new ArrayList<>();
        for (int i = 0; i < guests; i++) {
            Guest g = c.guest(10 + i);
            for (int k = 0; k < conns; k++) {
                int port = 2000 + i * 10 + k;
                long seed = i * 100L + k;
                boolean up = k % 2 == 0;
                VsockSocket[] p = up ? pair(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, port)
                        : pair(c.host, g, 10 + i, Sock.SOCK_STREAM, port);
                jobs.add(() -> {
                    Future<Long> tx = pool.submit(() -> sendRandom(p[0], 1L << 20, seed, 20_000, false));
                    assertThat(recvAll(p[1], 1L << 20, 64 * 1024)).isEqualTo(tx.get(30, TimeUnit.SECONDS));
                    // The server side sees exactly its own client's CID.
                    return null;
                });
            }
        }
        for (Future<Void> f : pool.invokeAll(jobs)) {
            f.get();
        }
        for (Guest g : c.host.guests()) {
            assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.DROP_ISOLATION)).isZero();
        }
    }

    @Test
    void shouldBlockHostSenderOnCreditAndLoseNothingWhenGuestStopsReading() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = pair(c.host, g, 3, Sock.SOCK_STREAM, PORT);
        long total = 4L << 20;
        Future<Long> tx = pool.submit(() -> sendRandom(p[0], total, 9, 64 * 1024, false));
        // The guest reads nothing: at most its 256 KiB buffer can be in flight; the sender waits.
        c.drain();
        assertThat(tx.isDone()).isFalse();
        assertThat(UserInternals.sock(p[1]).transport.streamHasData(UserInternals.sock(p[1]))).isLessThanOrEqualTo(256 * 1024);
        assertThat(recvAll(p[1], total, 32 * 1024)).isEqualTo(tx.get(30, TimeUnit.SECONDS));
    }
}
