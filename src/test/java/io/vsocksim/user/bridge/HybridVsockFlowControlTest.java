package io.vsocksim.user.bridge;

import static io.vsocksim.user.bridge.BridgeTestContext.FIRST_HOST_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Credit flow control end to end: a host program that stops reading fills the bridge's ring for that
 * direction, the bridge stops reading the vsock socket, the host socket's receive queue fills, the
 * guest's credit runs out and its non-blocking send fails with EAGAIN, for good. The bridge then holds
 * exactly one ring ({@link HybridVsock#RING_BYTES}). Once the program reads again, every byte arrives.
 */
class HybridVsockFlowControlTest extends BridgeTestBase {
    private static final long TOTAL = 4L << 20;


    /** The seeded stream {@link BridgeTestContext#expected} sums, handed out piece by piece. */
    private static final class Source {
        private final Random r = new Random(7);
        private final byte[] chunk = new byte[64 * 1024];
        private final CRC32 crc = new CRC32();
        private ByteBuffer left = ByteBuffer.allocate(0);
        private long handed;

        /** The bytes not yet sent, refilled from the stream; empty at {@code TOTAL}. */
        ByteBuffer next() {
            if (!left.hasRemaining() && handed < TOTAL) {
                r.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, TOTAL - handed);
                left = ByteBuffer.wrap(chunk, 0, n);
                handed += n;
            }
            return left;
        }

        /** Sends once from the stream; what send returned. */
        int send(VsockSocket g) throws ErrnoException {
            ByteBuffer b = next();
            int p = b.position();
            int n = g.send(b, 0);
            crc.update(chunk, p, n);
            return n;
        }
    }

    private static boolean wouldBlock(VsockSocket g, Source src) throws ErrnoException {
        try {
            src.send(g);
            return false;
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EAGAIN) {
                throw e;
            }
            return true;
        }
    }

    @Test
    @Timeout(120)
    void shouldStopTheGuestsSenderWhileTheUnixReaderDoesNotRead() throws Exception {
        BridgeTestContext.Connected conn = t.connectFromHost(t.guestListen(1234));
        ExternalProgram.Peer c = conn.unix();
        VsockSocket g = conn.guest();
        g.setNonBlocking(true);
        Source src = new Source();

        // Send until the state is stable: the guest's credit used up (EAGAIN) while the bridge's ring toward
        // the host is full, and still so after the machines settle. Until the Unix socket's own buffer is
        // full the bridge keeps moving bytes out of the ring, so one sighting is not enough.
        long sent = 0;
        int stableSightings = 0;
        while (stableSightings < 2) {
            try {
                sent += src.send(g);
                stableSightings = 0;
                continue;
            } catch (ErrnoException e) {
                assertThat(e.errno()).isEqualTo(Errno.EAGAIN);
            }
            t.machines.drain();
            if (t.bridge.bufferedBytes() == HybridVsock.RING_BYTES && wouldBlock(g, src)) {
                stableSightings++;
            } else {
                stableSightings = 0;
                Thread.yield(); // the bridge is still moving bytes to the Unix socket
            }
        }
        assertThat(wouldBlock(g, src)).as("EAGAIN for good").isTrue();
        // The bound, not an exact figure: until the Unix socket's own (real) buffer is full, the bridge's
        // writer may still move bytes out of the ring; what it holds never exceeds the ring.
        assertThat(t.bridge.bufferedBytes()).isBetween(0L, (long) HybridVsock.RING_BYTES);
        System.out.printf("hybrid vsock flow control: the guest's send blocked after %d bytes, %d of them in the bridge%n",
                sent, t.bridge.bufferedBytes());

        Future<BridgeTestContext.Sum> reader = t.async(() -> BridgeTestContext.unixRecv(c));
        g.setNonBlocking(false);
        while (src.next().hasRemaining()) {
            src.send(g);
        }
        g.shutdown(Sock.SHUT_WR);
        assertThat(reader.get()).isEqualTo(BridgeTestContext.expected(7, TOTAL))
                .isEqualTo(new BridgeTestContext.Sum(TOTAL, src.crc.getValue()));
        c.shutdownOutput();
        BridgeTestContext.await(() -> t.bridge.connections() == 0);
    }
}
