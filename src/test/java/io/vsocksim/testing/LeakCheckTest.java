package io.vsocksim.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import org.junit.jupiter.api.Test;

class LeakCheckTest {
    @Test
    void shouldFailWhenAPageIsLeaked() {
        LeakCheck check = new LeakCheck();
        PageAllocator a = check.track(new PageAllocator(new GuestMemory("leaky", 1 << 20)));
        long h = a.allocPages(0);
        assertThatThrownBy(check::verify)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("memory leaked: allocator over leaky")
                .hasMessageContaining("holds 1 page(s), 0 slab object(s) more than at the start");
        a.freePages(h);
        check.verify();
    }

    @Test
    void shouldMeasureFromTheCountAtTrackingTime() {
        LeakCheck check = new LeakCheck();
        PageAllocator a = new PageAllocator(new GuestMemory("shared", 1 << 20));
        long held = a.allocPages(1);
        check.track(a);
        long h = a.allocPages(0);
        a.freePages(h);
        check.verify();
        a.freePages(held);
        assertThatThrownBy(check::verify).hasMessageContaining("holds -2 page(s), 0 slab object(s) more");
    }

    @Test
    void shouldFailWhenAWarningFiredOnATrackedMachine() {
        LeakCheck check = new LeakCheck();
        try (io.vsocksim.kernel.KernelContext k = check.track(io.vsocksim.kernel.KernelContext.deterministic("m", 1 << 20))) {
            check.verify();
            k.warnings().warnOnce(true, "rx_queue is empty, but rx_bytes is non-zero");
            assertThatThrownBy(check::verify).hasMessageContaining("WARN_ONCE fired on m");
        }
    }

    @Test
    void shouldReportOutstandingProbes() {
        LeakCheck check = new LeakCheck();
        int[] sockets = {1};
        check.probe(() -> sockets[0] == 0 ? null : sockets[0] + " socket(s) still open");
        assertThatThrownBy(check::verify).hasMessageContaining("1 socket(s) still open");
        sockets[0] = 0;
        check.verify();
        assertThat(sockets[0]).isZero();
    }
}
