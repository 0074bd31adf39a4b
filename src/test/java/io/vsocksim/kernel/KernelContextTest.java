package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.testing.LeakCheck;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class KernelContextTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();

    @Test
    void shouldRunWorkOnlyWhenTheTestSaysSoWhenDeterministic() {
        try (KernelContext k = KernelContext.deterministic("guest3", 1 << 20)) {
            leaks.track(k.pages());
            AtomicInteger runs = new AtomicInteger();
            DelayedWork timeout = new DelayedWork("close_work", runs::incrementAndGet);
            k.systemWq().queueDelayedWork(timeout, 8 * Clock.HZ);

            ((ManualWorkQueue) k.systemWq()).runUntilIdle();
            assertThat(runs).hasValue(0);
            ((VirtualClock) k.clock()).advanceJiffies(8 * Clock.HZ - 1);
            ((ManualWorkQueue) k.systemWq()).runUntilIdle();
            assertThat(runs).hasValue(0);
            ((VirtualClock) k.clock()).advanceJiffies(1);
            ((ManualWorkQueue) k.systemWq()).runUntilIdle();
            assertThat(runs).hasValue(1);
        }
    }

    @Test
    void shouldPoisonFreedPagesWhenDeterministic() {
        try (KernelContext k = KernelContext.deterministic("guest3", 1 << 20)) {
            PageAllocator pages = leaks.track(k.pages());
            long h = pages.allocPages(0);
            pages.page(h, 0).put(0, (byte) 0x42);
            pages.freePages(h);
            assertThat(pages.isPoisoned(PageAllocator.pfn(h))).isTrue();
            assertThat(k.memory().size()).isEqualTo(1 << 20);
            assertThat(pages.totalPages()).isEqualTo(256);
        }
    }

    @Test
    void shouldRefusePartsThatDoNotBelongTogether() {
        VirtualClock clock = new VirtualClock();
        GuestMemory memory = new GuestMemory("m", 1 << 20);
        try (ManualWorkQueue wq = new ManualWorkQueue("wq", new VirtualClock())) {
            assertThatThrownBy(() -> new KernelContext("m", clock, wq, memory, new PageAllocator(memory)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clock");
        }
        try (ManualWorkQueue wq = new ManualWorkQueue("wq", clock)) {
            PageAllocator foreign = new PageAllocator(new GuestMemory("other", 1 << 20));
            assertThatThrownBy(() -> new KernelContext("m", clock, wq, memory, foreign))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allocator");
        }
    }
}
