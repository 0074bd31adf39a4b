package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vsock.guest.VirtioVsockCounters.Counter;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Host#startGuest} refuses, before it opens anything, the configurations in which the guest
 * cannot receive for its whole life ({@code Guest.checkConfig}); the tightest accepted ones really
 * receive, with the RX refill running again and again.
 */
@Timeout(60)
class GuestConfigTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    static Guest.Options queue(int size) {
        return new Guest.Options(true, true, true, true, size);
    }

    void assertRefused(int queueSize, ZerocopyPolicy policy, int rxPages, String message) {
        assertThatThrownBy(() -> c.guest(3, queue(queueSize), policy, rxPages))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    /** Nothing was opened for a refused configuration: the CID is free and a good guest boots on it. */
    void assertCidStillFree() throws Exception {
        assertThat(c.host.guests()).isEmpty();
        assertThat(c.guest(3).cid()).isEqualTo(3);
    }

    @Test
    void shouldRefuseWhenNoRxBufferFitsTheQueue() throws Exception {
        assertRefused(16, ZerocopyPolicy.PAGES, 16,
                "RX queue holds 0 buffer(s) of 17 descriptors, needs 2 for the driver to refill: queueSize=16 < 34");
        assertCidStillFree();
    }

    @Test
    void shouldRefuseWhenTheQueueHoldsOnlyOneRxBuffer() throws Exception {
        assertRefused(16, ZerocopyPolicy.PAGES, 8,
                "RX queue holds 1 buffer(s) of 9 descriptors, needs 2 for the driver to refill: queueSize=16 < 18");
        assertRefused(2, ZerocopyPolicy.SMALL_COPY, 1,
                "RX queue holds 1 buffer(s) of 2 descriptors, needs 2 for the driver to refill: queueSize=2 < 4");
        assertRefused(1, ZerocopyPolicy.OFF, 1,
                "RX queue holds 1 buffer(s) of 1 descriptors, needs 2 for the driver to refill: queueSize=1 < 2");
        assertCidStillFree();
    }

    @Test
    void shouldRefuseRxPagesPerBufferOutsideOneToSixteen() throws Exception {
        for (int pages : new int[] {0, -1, 17}) {
            for (ZerocopyPolicy policy : ZerocopyPolicy.values()) {
                assertRefused(128, policy, pages, "rx pages per buffer outside 1..16: rxPagesPerBuffer=" + pages);
            }
        }
        assertCidStillFree();
    }

    @Test
    void shouldRefuseQueueSizesThatNoSplitVirtqueueHas() throws Exception {
        for (int size : new int[] {0, -128, 3, 100, 65536, 1 << 30}) {
            assertRefused(size, ZerocopyPolicy.OFF, 1,
                    "queue size must be a power of 2 from 1 to 32768: queueSize=" + size);
        }
        assertCidStillFree();
    }

    @Test
    void shouldAcceptTheLargestQueue() throws Exception {
        Guest g = c.guest(3, queue(32768), ZerocopyPolicy.PAGES, 16);
        for (int i = 0; i < 3; i++) {
            assertThat(g.driver().vq(i).size()).isEqualTo(32768);
        }
    }

    /**
     * Exactly two RX buffers: the connect's RESPONSE takes one, the first data packet the other, and
     * from then on every drained queue is refilled. Ten host → guest packets, each received, use 11
     * buffers: at least nine of them were posted by refills.
     */
    @ParameterizedTest
    @CsvSource({"OFF, 2, 1", "PAGES, 4, 1", "PAGES, 32, 15", "SMALL_COPY, 32, 15"})
    void shouldReceiveAndRefillWhenTheQueueHoldsExactlyTwoRxBuffers(ZerocopyPolicy policy, int queueSize,
            int rxPages) throws Exception {
        Guest g = c.guest(3, queue(queueSize), policy, rxPages);
        assertThat(g.driver().rxBufMaxNr()).isEqualTo(2);
        VsockSocket[] p = c.connect(g, c.host, 2, Sock.SOCK_STREAM, 1234);

        for (int i = 0; i < 10; i++) {
            byte[] msg = {(byte) i, 1, 2, 3, 4, 5, 6, 7};
            assertThat(p[1].send(ByteBuffer.wrap(msg), 0)).isEqualTo(8);
            ByteBuffer in = ByteBuffer.allocate(16);
            assertThat(p[0].recv(in, 0)).isEqualTo(8);
            assertThat(in.flip()).isEqualTo(ByteBuffer.wrap(msg));
        }
        c.drain();

        var counters = g.driverCounters();
        assertThat(counters.get(Counter.RX_BUFS_USED)).isEqualTo(11);
        assertThat(counters.get(Counter.RX_PKTS)).isEqualTo(11);
        assertThat(counters.get(Counter.RX_BUFS_POSTED)).isEqualTo(11 + g.driver().rxBufNr());
        assertThat(g.driver().rxBufMaxNr()).isEqualTo(2);
    }
}
