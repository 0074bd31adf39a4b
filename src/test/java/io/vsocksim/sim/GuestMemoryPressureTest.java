package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.PageAllocator;
import io.vsocksim.mm.PageHold;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vsock.guest.VirtioVsockCounters.Counter;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A guest whose memory runs out for a while: its driver cannot refill the RX queue, the device runs
 * out of buffers and vhost holds the host's packets. In the kernel the refill's {@code GFP_KERNEL}
 * allocation waits for reclaim instead of failing; here the refill resumes at the next page free. Once
 * memory is back the guest must post buffers again and receive every byte, without help.
 */
@Timeout(60)
class GuestMemoryPressureTest {
    private static final int PAYLOAD = 1024;
    /** Packets beyond the posted RX buffers: they wait in vhost while the guest has no memory. */
    private static final int EXTRA = 40;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** Takes every free page of {@code pages} and every free object of its slab caches. */
    private static PageHold holdAllMemory(PageAllocator pages) {
        PageHold held = new PageHold(pages, Long.MAX_VALUE);
        assertThat(pages.freePages()).isZero();
        return held;
    }

    private static byte patternByte(int packet, int i) {
        return (byte) (packet * 31 + i);
    }

    @ParameterizedTest
    @EnumSource(value = ZerocopyPolicy.class, names = {"OFF", "PAGES"})
    void shouldRefillRxQueueAndDeliverHeldPacketsWhenMemoryComesBack(ZerocopyPolicy policy) throws Exception {
        Guest g = c.guest(3, Guest.Options.DEFAULTS, policy);
        VsockSocket[] p = c.connect(c.host, g, 3, Sock.SOCK_STREAM, 1234);
        c.drain();
        int posted = g.driver().rxBufNr();
        assertThat(posted).isPositive();
        PageAllocator pages = g.kernel().pages();
        int packets = posted + EXTRA;

        PageHold held = holdAllMemory(pages);
        byte[] chunk = new byte[PAYLOAD];
        for (int n = 0; n < packets; n++) {
            for (int i = 0; i < PAYLOAD; i++) {
                chunk[i] = patternByte(n, i);
            }
            assertThat(p[0].send(ByteBuffer.wrap(chunk), 0)).isEqualTo(PAYLOAD);
        }
        c.drain();

        assertThat(g.driver().rxBufNr()).as("every posted buffer used, none posted again").isZero();
        assertThat(g.vhost().queuedPackets()).as("packets held in vhost for want of RX buffers").isEqualTo(EXTRA);
        assertThat(g.driverCounters().get(Counter.RX_FILL_NOMEM)).isPositive();
        assertThat(pages.reclaimWaiters()).as("the refill waits for memory").isEqualTo(1);

        held.close();
        c.drain();

        assertThat(g.vhost().queuedPackets()).as("vhost delivered what it held").isZero();
        int after = g.driver().rxBufNr();
        assertThat(after).as("refilled: at or above half of the most ever posted, the kernel's refill mark")
                .isGreaterThanOrEqualTo(g.driver().rxBufMaxNr() / 2).isPositive();
        assertThat(g.driverCounters().get(Counter.RX_BUFS_POSTED) - g.driverCounters().get(Counter.RX_BUFS_USED))
                .isEqualTo(after);
        assertThat(pages.reclaimWaiters()).isZero();
        ByteBuffer got = ByteBuffer.allocate(packets * PAYLOAD);
        while (got.hasRemaining()) {
            assertThat(p[1].recv(got, 0)).isPositive();
        }
        got.flip();
        for (int n = 0; n < packets; n++) {
            for (int i = 0; i < PAYLOAD; i++) {
                assertThat(got.get()).as("packet %d byte %d", n, i).isEqualTo(patternByte(n, i));
            }
        }
    }
}
