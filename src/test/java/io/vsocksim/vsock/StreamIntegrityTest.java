package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_TRUNC;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.VsockCounters.Counter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Data integrity over loopback under load: one STREAM connection carrying 64 MiB, 32 STREAM
 * connections multiplexed by 8 threads with non-blocking I/O, and 10,000 SEQPACKET messages keeping
 * their boundaries and MSG_EOR. Sizes and contents come from fixed seeds; both ends are checksummed.
 */
@Timeout(120)
class StreamIntegrityTest {
    private static final int KIB = 1024;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
    }

    /** A seeded byte source: the same seed yields the same stream on both ends. */
    private static final class Source {
        private final Random rnd;
        private final byte[] block = new byte[64 * KIB];
        private int pos = block.length;

        Source(long seed) {
            rnd = new Random(seed);
        }

        void fill(byte[] dst, int off, int len) {
            while (len > 0) {
                if (pos == block.length) {
                    rnd.nextBytes(block);
                    pos = 0;
                }
                int n = Math.min(len, block.length - pos);
                System.arraycopy(block, pos, dst, off, n);
                pos += n;
                off += n;
                len -= n;
            }
        }
    }

    @Test
    void shouldDeliver64MiBIntactWhenWriteAndReadSizesAreRandom() throws Exception {
        c = LoopbackTestContext.threaded("integrity", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        long total = 64L << 20;
        Future<Long> writer = c.spawn("writer", () -> {
            Random sizes = new Random(11);
            Source src = new Source(12);
            CRC32 crc = new CRC32();
            byte[] buf = new byte[256 * KIB];
            long sent = 0;
            while (sent < total) {
                int n = (int) Math.min(total - sent, 1 + sizes.nextInt(buf.length));
                src.fill(buf, 0, n);
                crc.update(buf, 0, n);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    sent += p[0].send(b, 0);
                }
            }
            p[0].shutdown(io.vsocksim.uapi.Sock.SHUT_WR);
            return crc.getValue();
        });
        Random sizes = new Random(13);
        CRC32 crc = new CRC32();
        byte[] buf = new byte[128 * KIB];
        long got = 0;
        int n;
        while ((n = p[1].recv(ByteBuffer.wrap(buf, 0, 1 + sizes.nextInt(buf.length)), 0)) > 0) {
            crc.update(buf, 0, n);
            got += n;
        }
        assertThat(got).isEqualTo(total);
        assertThat(crc.getValue()).isEqualTo(writer.get());
        Source expect = new Source(12);
        CRC32 ref = new CRC32();
        for (long left = total; left > 0; left -= buf.length) {
            expect.fill(buf, 0, buf.length);
            ref.update(buf, 0, buf.length);
        }
        assertThat(crc.getValue()).isEqualTo(ref.getValue());
        assertThat(c.counter(Counter.RX_OVERFLOW_RESETS)).isZero();
    }

    /** One connection driven by a multiplexing thread: both ends, non-blocking. */
    private static final class Conn {
        final VsockSocket w;
        final VsockSocket r;
        final long total;
        final Random sizes;
        final Source src;
        final CRC32 sentCrc = new CRC32();
        final CRC32 gotCrc = new CRC32();
        final byte[] wbuf = new byte[64 * KIB];
        ByteBuffer pending = ByteBuffer.allocate(0);
        long sent;
        long got;

        Conn(VsockSocket[] pair, long total, long seed) {
            this.w = pair[0];
            this.r = pair[1];
            this.total = total;
            this.sizes = new Random(seed);
            this.src = new Source(seed + 1);
        }

        boolean done() {
            return got == total;
        }

        /** One non-blocking step on each end; true if any byte moved. */
        boolean step(byte[] rbuf) throws ErrnoException {
            boolean progress = false;
            if (!pending.hasRemaining() && sent < total) {
                int n = (int) Math.min(total - sent, 1 + sizes.nextInt(wbuf.length));
                src.fill(wbuf, 0, n);
                sentCrc.update(wbuf, 0, n);
                pending = ByteBuffer.wrap(wbuf, 0, n);
            }
            if (pending.hasRemaining()) {
                try {
                    sent += w.send(pending, MSG_DONTWAIT);
                    progress = true;
                } catch (ErrnoException e) {
                    assertThat(e.errno()).isEqualTo(EAGAIN);
                }
            }
            if (got < total) {
                try {
                    int n = r.recv(ByteBuffer.wrap(rbuf, 0, 1 + sizes.nextInt(rbuf.length)), MSG_DONTWAIT);
                    assertThat(n).isPositive();
                    gotCrc.update(rbuf, 0, n);
                    got += n;
                    progress = true;
                } catch (ErrnoException e) {
                    assertThat(e.errno()).isEqualTo(EAGAIN);
                }
            }
            return progress;
        }
    }

    @Test
    void shouldKeepEach32ConnectionsStreamIntactWhenEightThreadsInterleaveThem() throws Exception {
        c = LoopbackTestContext.threaded("integrity", leaks);
        VsockSocket l = c.listener(SOCK_STREAM, 4000);
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            conns.add(new Conn(c.pair(SOCK_STREAM, l), (1L << 20) + 4099L * i, 100 + 2L * i));
        }
        List<Future<Integer>> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            List<Conn> mine = conns.subList(4 * t, 4 * t + 4);
            threads.add(c.spawn("mux-" + t, () -> {
                byte[] rbuf = new byte[48 * KIB];
                int waits = 0;
                for (;;) {
                    boolean progress = false;
                    Conn unread = null;
                    Conn unsent = null;
                    for (Conn k : mine) {
                        if (!k.done()) {
                            progress |= k.step(rbuf);
                            if (k.got < k.sent && unread == null) {
                                unread = k;
                            }
                            if (k.sent < k.total && unsent == null) {
                                unsent = k;
                            }
                        }
                    }
                    if (unread == null && unsent == null) {
                        return waits;
                    }
                    if (!progress) {
                        // Every writer lacks credit and every reader is empty: either bytes are in
                        // flight to a reader, or all was read and a CREDIT_UPDATE is in flight.
                        if (unread != null) {
                            assertThat(unread.r.poll(POLLIN, -1) & POLLIN).isEqualTo(POLLIN);
                        } else {
                            assertThat(unsent.w.poll(POLLOUT, -1) & POLLOUT).isEqualTo(POLLOUT);
                        }
                        waits++;
                    }
                }
            }));
        }
        for (Future<Integer> f : threads) {
            f.get();
        }
        for (Conn k : conns) {
            assertThat(k.got).isEqualTo(k.total);
            assertThat(k.gotCrc.getValue()).as("connection with %d bytes", k.total).isEqualTo(k.sentCrc.getValue());
        }
        assertThat(c.counter(Counter.RX_OVERFLOW_RESETS)).isZero();
    }

    @Test
    void shouldKeepBoundariesAndEorWhenTenThousandSeqpacketMessagesOfRandomSize() throws Exception {
        c = LoopbackTestContext.threaded("integrity", leaks);
        VsockSocket[] p = c.pair(SOCK_SEQPACKET);
        int count = 10_000;
        byte[] block = new byte[128 * KIB];
        new Random(21).nextBytes(block);
        Future<Integer> writer = c.spawn("writer", () -> {
            Random plan = new Random(22);
            for (int i = 0; i < count; i++) {
                int len = 1 + plan.nextInt(64 * KIB);
                int off = plan.nextInt(64 * KIB);
                boolean eor = plan.nextBoolean();
                assertThat(p[0].send(ByteBuffer.wrap(block, off, len), eor ? MSG_EOR : 0)).isEqualTo(len);
            }
            return count;
        });
        Random plan = new Random(22);
        ByteBuffer buf = ByteBuffer.allocate(64 * KIB + 1);
        int[] flags = new int[1];
        int eors = 0;
        for (int i = 0; i < count; i++) {
            int len = 1 + plan.nextInt(64 * KIB);
            int off = plan.nextInt(64 * KIB);
            boolean eor = plan.nextBoolean();
            buf.clear();
            assertThat(p[1].recvmsg(buf, 0, flags)).as("message %d", i).isEqualTo(len);
            assertThat(flags[0] & MSG_EOR).as("MSG_EOR of message %d", i).isEqualTo(eor ? MSG_EOR : 0);
            assertThat(flags[0] & MSG_TRUNC).isZero();
            assertThat(ByteBuffer.wrap(buf.array(), 0, len)).as("contents of message %d", i)
                    .isEqualTo(ByteBuffer.wrap(block, off, len));
            eors += eor ? 1 : 0;
        }
        assertThat(writer.get()).isEqualTo(count);
        assertThat(eors).isBetween(count / 2 - 300, count / 2 + 300);
        // Nothing more: the next read would block.
        LoopbackTestContext.assertErrno(() -> p[1].recv(ByteBuffer.allocate(1), MSG_DONTWAIT), EAGAIN);
        assertThat(c.counter(Counter.RX_OVERFLOW_RESETS)).isZero();
    }
}
