package io.vsocksim.sim;

import static io.vsocksim.sim.ZerocopyRxSupport.PAGE;
import static io.vsocksim.sim.ZerocopyRxSupport.mapRx;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Mman;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Zerocopy and copy receive of the same random writes (host → guest over vhost) give the same stream:
 * same bytes, and for SEQPACKET the same message boundaries and EOR flags.
 */
@Timeout(180)
class ZerocopyRxStreamTest {
    /** Bytes per transfer: 256 MiB (65536 pages) by default; {@code -Dzc.total=...} to change. */
    static final long TOTAL = Long.getLong("zc.total", 256L << 20);
    static final int MAX_WRITE = 64 * 1024;
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    final ExecutorService pool = c.pool;

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** What a receiver saw: CRC of all bytes, message lengths and EOR flags (SEQPACKET). */
    record Seen(long crc, long bytes, List<Integer> msgLens, List<Boolean> eor) {
    }

    /** Sends TOTAL bytes in random writes (seeded) and returns what the receiver must see. */
    Seen send(VsockSocket s, boolean seq) throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        CRC32 crc = new CRC32();
        byte[] buf = new byte[MAX_WRITE];
        List<Integer> lens = new ArrayList<>();
        List<Boolean> eor = new ArrayList<>();
        long sent = 0;
        while (sent < TOTAL) {
            int n = (int) Math.min(TOTAL - sent, 1 + rnd.nextInt(MAX_WRITE));
            rnd.nextBytes(buf);
            boolean e = seq && rnd.nextBoolean();
            crc.update(buf, 0, n);
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) {
                s.send(b, e ? Sock.MSG_EOR : 0);
            }
            lens.add(n);
            eor.add(e);
            sent += n;
        }
        return new Seen(crc.getValue(), sent, seq ? lens : List.of(), seq ? eor : List.of());
    }

    Seen recvCopy(VsockSocket s, boolean seq) throws Exception {
        CRC32 crc = new CRC32();
        ByteBuffer b = ByteBuffer.allocate(MAX_WRITE);
        List<Integer> lens = new ArrayList<>();
        List<Boolean> eor = new ArrayList<>();
        long got = 0;
        int[] flags = new int[1];
        while (got < TOTAL) {
            b.clear();
            int n = s.recvmsg(b, 0, flags);
            assertThat(n).isPositive();
            crc.update(b.array(), 0, n);
            if (seq) {
                lens.add(n);
                eor.add((flags[0] & Sock.MSG_EOR) != 0);
            }
            got += n;
        }
        return new Seen(crc.getValue(), got, lens, eor);
    }

    Seen recvZerocopy(UserProcess p, VsockSocket s, boolean seq, int npages) throws Exception {
        long addr = s.mmap((long) npages * PAGE, Mman.PROT_READ);
        CRC32 crc = new CRC32();
        List<Integer> lens = new ArrayList<>();
        List<Boolean> eor = new ArrayList<>();
        byte[] page = new byte[PAGE];
        long got = 0;
        int msgLen = 0;
        while (got < TOTAL) {
            assertThat(s.poll(Poll.POLLIN, 20_000) & Poll.POLLIN).isNotZero();
            mapRx(s, addr, 8);
            long data = addr + PAGE;
            for (int i = 0; i < PAGE / 8; i++) {
                int len = p.readU32(addr + 8L * i);
                int fl = p.readU32(addr + 8L * i + 4);
                if (len == 0) {
                    break;
                }
                for (int off = 0; off < len; off += PAGE) {
                    int n = Math.min(PAGE, len - off);
                    p.read(data, page, 0, n);
                    crc.update(page, 0, n);
                    data += PAGE;
                }
                got += len;
                msgLen += len;
                if (seq && (fl & VirtioVsock.VIRTIO_VSOCK_SEQ_EOM) != 0) {
                    lens.add(msgLen);
                    eor.add((fl & VirtioVsock.VIRTIO_VSOCK_SEQ_EOR) != 0);
                    msgLen = 0;
                }
            }
            assertThat(p.madvise(addr, (long) npages * PAGE, Mman.MADV_DONTNEED)).isZero();
        }
        return new Seen(crc.getValue(), got, lens, eor);
    }

    @ParameterizedTest(name = "{0} zerocopy={1}")
    @CsvSource({"STREAM,true", "STREAM,false", "SEQPACKET,true", "SEQPACKET,false"})
    void shouldReceiveSameStreamWhenZerocopyOrCopy(String kind, boolean zerocopy) throws Exception {
        boolean seq = kind.equals("SEQPACKET");
        int type = seq ? Sock.SOCK_SEQPACKET : Sock.SOCK_STREAM;
        c.host.setZerocopyPolicy(ZerocopyPolicy.PAGES);
        Guest g = c.guest(3, Guest.Options.DEFAULTS, ZerocopyPolicy.PAGES, 16);
        UserProcess p = UserProcess.spawn(g, "rx");
        VsockSocket l = c.track(p.socket(type));
        l.bind(VmSockets.VMADDR_CID_ANY, 7200);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(c.host, type));
        cl.connect(3, 7200);
        VsockSocket sv = c.track(l.accept());
        Future<Seen> sender = pool.submit(() -> send(cl, seq));

        long t0 = System.nanoTime();
        Seen got = zerocopy ? recvZerocopy(p, sv, seq, 64) : recvCopy(sv, seq);
        Seen want = sender.get(120, TimeUnit.SECONDS);
        System.out.printf("zerocopy-rx stream %s zerocopy=%s: %d MiB in %d ms%n", kind, zerocopy, TOTAL >> 20,
                (System.nanoTime() - t0) / 1_000_000);

        assertThat(got).isEqualTo(want);
        p.close();
    }
}
