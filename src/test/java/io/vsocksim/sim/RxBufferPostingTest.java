package io.vsocksim.sim;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.PageAllocator;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.uapi.VirtioVsockHdr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What posting an RX buffer writes: {@code virtio_vsock_rx_fill} allocates the skb and hands its
 * buffer to the device without clearing the header (the device writes it), so an idle guest's posted
 * buffers are pages nobody has written.
 */
class RxBufferPostingTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    @Test
    void shouldPostRxBuffersWithoutWritingTheirHeaderAsVirtioVsockRxFillDoes() throws Exception {
        Guest g = c.guest(3);
        assertThat(g.kernel().pages().poisonsOnFree()).as("the project's tests run with page poisoning").isTrue();
        try (HostileGuestRing r = new HostileGuestRing(g, VSOCK_VQ_RX)) { // only read here
            int head = r.nextHead();
            long addr = r.mem.getU64(r.desc + (long) VirtioRing.DESC_SIZE * head + VirtioRing.DESC_ADDR);
            byte[] hdr = new byte[VirtioVsockHdr.SIZE];
            assertThat(r.mem.read(addr, hdr, 0, hdr.length)).isZero();
            // The page holds what its allocation left there: the poison pattern, not a cleared header.
            assertThat(hdr).containsOnly(PageAllocator.PAGE_POISON);
        }
    }
}
