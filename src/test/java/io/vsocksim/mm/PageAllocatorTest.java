package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.ENOMEM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PageAllocatorTest {
    private static final int MAX_BLOCK = 1 << PageAllocator.MAX_ORDER;

    /** 4 MiB memory, allocator over all of it: exactly one order-10 block. */
    private static PageAllocator oneMaxBlock(boolean poison) {
        return new PageAllocator(new GuestMemory("t", 4L << 20), 0, MAX_BLOCK, poison);
    }

    @Test
    void shouldCountPagesWhenAllocatingAndFreeing() {
        PageAllocator a = oneMaxBlock(false);
        assertThat(a.totalPages()).isEqualTo(1024);
        assertThat(a.freePages()).isEqualTo(1024);

        long h0 = a.allocPages(0);
        long h3 = a.allocPages(3);
        assertThat(h0).isPositive();
        assertThat(PageAllocator.order(h0)).isZero();
        assertThat(PageAllocator.order(h3)).isEqualTo(3);
        assertThat(a.pagesInUse()).isEqualTo(9);
        assertThat(a.freePages()).isEqualTo(1015);
        assertThat(a.allocCount()).isEqualTo(2);

        a.freePages(h3);
        assertThat(a.pagesInUse()).isEqualTo(1);
        a.freePages(h0);
        assertThat(a.pagesInUse()).isZero();
        assertThat(a.freeCount()).isEqualTo(2);
        assertThat(a.freePages()).isEqualTo(1024);
        assertThat(a.toString()).contains("freePages=1024", "pagesInUse=0", "highWater=9");
    }

    @Test
    void shouldReturnAlignedContiguousBlocksWhenAllocatingEachOrder() {
        // A range that starts at an odd pfn: blocks must still be aligned in absolute pfn.
        GuestMemory mem = new GuestMemory("t", 16L << 20);
        PageAllocator a = new PageAllocator(mem, 3, 4093, false);
        List<Long> handles = new ArrayList<>();
        for (int order = 0; order <= PageAllocator.MAX_ORDER; order++) {
            long h = a.allocPages(order);
            if (h < 0) {
                continue; // the range does not hold this order after the others
            }
            handles.add(h);
            long pfn = PageAllocator.pfn(h);
            assertThat(pfn % (1L << order)).as("alignment of order %d", order).isZero();
            assertThat(pfn).isBetween(3L, 4096L - (1L << order));
            assertThat(a.gpa(h)).isEqualTo(pfn << 12);
            for (int i = 0; i < 1 << order; i++) {
                assertThat(a.page(h, i)).isSameAs(mem.page(pfn + i));
            }
        }
        assertThat(handles).hasSizeGreaterThan(9);
        handles.forEach(a::freePages);
        assertThat(a.pagesInUse()).isZero();
        assertThat(a.freePages()).isEqualTo(4093);
    }

    @Test
    void shouldMergeBuddiesWhenEverythingIsFreed() {
        PageAllocator a = oneMaxBlock(false);
        long[] pages = new long[MAX_BLOCK];
        for (int i = 0; i < MAX_BLOCK; i++) {
            pages[i] = a.allocPages(0);
            assertThat(pages[i]).isPositive();
        }
        assertThat(a.freeBlocks(PageAllocator.MAX_ORDER)).isZero();
        assertThat(a.allocPages(0)).isEqualTo(-ENOMEM);
        // Free in an interleaved order so merges happen both left and right.
        for (int i = 0; i < MAX_BLOCK; i += 2) {
            a.freePages(pages[i]);
        }
        assertThat(a.freeBlocks(0)).isEqualTo(MAX_BLOCK / 2);
        for (int i = MAX_BLOCK - 1; i > 0; i -= 2) {
            a.freePages(pages[i]);
        }
        assertThat(a.freeBlocks(PageAllocator.MAX_ORDER)).isEqualTo(1);
        for (int o = 0; o < PageAllocator.MAX_ORDER; o++) {
            assertThat(a.freeBlocks(o)).as("order %d", o).isZero();
        }
        long big = a.allocPages(PageAllocator.MAX_ORDER);
        assertThat(big).isPositive();
        assertThat(PageAllocator.pfn(big)).isZero();
        a.freePages(big);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldSplitLargerBlockWhenSmallOrderIsRequested() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(0);
        // 1024 = 1 + 1 + 2 + 4 + ... + 512: one free block of every order below 10.
        for (int o = 0; o < PageAllocator.MAX_ORDER; o++) {
            assertThat(a.freeBlocks(o)).as("order %d", o).isEqualTo(1);
        }
        a.freePages(h);
        assertThat(a.freeBlocks(PageAllocator.MAX_ORDER)).isEqualTo(1);
    }

    @Test
    void shouldReturnEnomemWhenNoBlockOfThatOrderIsFree() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(1);
        assertThat(a.allocPages(PageAllocator.MAX_ORDER)).isEqualTo(-ENOMEM);
        assertThat(a.allocFailures()).isEqualTo(1);
        assertThat(a.allocPages(9)).isPositive().satisfies(a::freePages);
        a.freePages(h);
        assertThat(a.pagesInUse()).isZero();
        assertThatThrownBy(() -> a.allocPages(PageAllocator.MAX_ORDER + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.allocPages(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldFreeBlockWhenLastReferenceIsPut() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(2);
        assertThat(a.refCount(h)).isEqualTo(1);
        a.getPage(h);
        a.getPage(h);
        assertThat(a.refCount(h)).isEqualTo(3);
        assertThat(a.putPage(h)).isEqualTo(2);
        assertThat(a.putPage(h)).isEqualTo(1);
        assertThat(a.pagesInUse()).isEqualTo(4);
        assertThat(a.putPage(h)).isZero();
        assertThat(a.pagesInUse()).isZero();
        assertThatThrownBy(() -> a.refCount(h)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldThrowWhenFreeingBlockStillReferenced() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(0);
        a.getPage(h);
        assertThatThrownBy(() -> a.freePages(h))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("still referenced")
                .hasMessageContaining("refcount=2");
        assertThat(a.pagesInUse()).isEqualTo(1); // nothing was freed
        a.putPage(h);
        a.freePages(h);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldThrowWhenBlockIsFreedTwice() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(0);
        long other = a.allocPages(0); // keeps h's buddy busy, so h stays a free head
        a.freePages(h);
        assertThatThrownBy(() -> a.freePages(h)).isInstanceOf(IllegalStateException.class).hasMessageContaining("double free");
        assertThatThrownBy(() -> a.putPage(h)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> a.getPage(h)).isInstanceOf(IllegalStateException.class);
        a.freePages(other);
        // Now h was merged away into a larger block: still a double free.
        assertThatThrownBy(() -> a.freePages(other)).isInstanceOf(IllegalStateException.class).hasMessageContaining("double free");
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldThrowWhenStaleHandleNamesReallocatedBlock() {
        PageAllocator a = oneMaxBlock(false);
        long h = a.allocPages(0);
        a.freePages(h);
        long again = a.allocPages(0);
        assertThat(PageAllocator.pfn(again)).isEqualTo(PageAllocator.pfn(h));
        assertThatThrownBy(() -> a.freePages(h)).isInstanceOf(IllegalStateException.class).hasMessageContaining("stale");
        assertThat(a.refCount(again)).isEqualTo(1);
        a.freePages(again);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldThrowWhenHandleIsForeign() {
        GuestMemory mem = new GuestMemory("t", 8L << 20);
        PageAllocator a = new PageAllocator(mem, 0, 1024, false);
        PageAllocator b = new PageAllocator(mem, 1024, 1024, false);
        long hb = b.allocPages(0);
        long ha = a.allocPages(3);

        assertThatThrownBy(() -> a.freePages(hb)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("foreign");
        assertThatThrownBy(() -> a.freePages(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.freePages(-ENOMEM)).isInstanceOf(IllegalArgumentException.class);
        long wrongOrder = (ha & ~0xFL) | 2;
        assertThatThrownBy(() -> a.freePages(wrongOrder)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wrong order");
        long inside = ha + (1L << 4); // pfn + 1, a tail page of the order-3 block
        assertThatThrownBy(() -> a.freePages(inside)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inside an allocated block");

        // Same pfn range in another memory: the cookie tells them apart.
        PageAllocator c = new PageAllocator(new GuestMemory("u", 4L << 20), 0, 1024, false);
        long hc = c.allocPages(3);
        assertThat(PageAllocator.pfn(hc)).isEqualTo(PageAllocator.pfn(ha));
        assertThatThrownBy(() -> a.freePages(hc)).isInstanceOf(IllegalStateException.class);

        assertThat(a.refCount(ha)).isEqualTo(1);
        a.freePages(ha);
        b.freePages(hb);
        c.freePages(hc);
        assertThat(a.pagesInUse() + b.pagesInUse() + c.pagesInUse()).isZero();
    }

    @Test
    void shouldFillFreedPagesWithPoisonWhenPoisoningIsOn() {
        PageAllocator a = oneMaxBlock(true);
        assertThat(a.isPoisoned(0)).isTrue(); // pages enter the allocator poisoned
        long h = a.allocPages(1);
        long pfn = PageAllocator.pfn(h);
        a.page(h, 0).putInt(0, 0x12345678);
        a.page(h, 1).put(4095, (byte) 1);
        assertThat(a.isPoisoned(pfn)).isFalse();
        a.freePages(h);
        assertThat(a.isPoisoned(pfn)).isTrue();
        assertThat(a.isPoisoned(pfn + 1)).isTrue();
        assertThat(a.memory().page(pfn).get(0)).isEqualTo(PageAllocator.PAGE_POISON);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldThrowOnAllocationWhenFreePageWasWritten() {
        PageAllocator a = oneMaxBlock(true);
        long h = a.allocPages(0);
        long pfn = PageAllocator.pfn(h);
        a.freePages(h);
        a.memory().page(pfn).put(100, (byte) 0); // a stale writer
        assertThatThrownBy(() -> a.allocPages(0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("pfn=" + pfn).hasMessageContaining("offset=96");
        // The corrupted block went back, re-poisoned: nothing leaked and the next allocation is clean.
        assertThat(a.pagesInUse()).isZero();
        assertThat(a.isPoisoned(pfn)).isTrue();
        long again = a.allocPages(0);
        assertThat(again).isPositive();
        a.freePages(again);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldTrackHighWaterWhenUsageRisesAndFalls() {
        PageAllocator a = oneMaxBlock(false);
        long h1 = a.allocPages(4);
        long h2 = a.allocPages(4);
        a.freePages(h1);
        long h3 = a.allocPages(0);
        assertThat(a.highWater()).isEqualTo(32);
        a.freePages(h2);
        a.freePages(h3);
        assertThat(a.highWater()).isEqualTo(32);
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    @Timeout(30)
    void shouldEndWithAllPagesFreeWhenFourThreadsAllocateAndFree() throws Exception {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 16L << 20), 0, 4096, true);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                Callable<Long> worker = () -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    long[] held = new long[64];
                    int n = 0;
                    long ok = 0;
                    start.await();
                    for (int i = 0; i < 20_000; i++) {
                        if (n < held.length && rnd.nextBoolean()) {
                            long h = a.allocPages(rnd.nextInt(4));
                            if (h > 0) {
                                a.page(h, 0).putLong(0, h); // owned: nobody else may write it
                                held[n++] = h;
                                ok++;
                            }
                        } else if (n > 0) {
                            int k = rnd.nextInt(n);
                            long h = held[k];
                            held[k] = held[--n];
                            if (a.page(h, 0).getLong(0) != h) {
                                throw new AssertionError("block shared between owners: " + Long.toHexString(h));
                            }
                            a.page(h, 0).putLong(0, 0xaaaaaaaaaaaaaaaaL);
                            a.getPage(h);
                            a.putPage(h);
                            a.freePages(h);
                        }
                    }
                    while (n > 0) {
                        long h = held[--n];
                        a.page(h, 0).putLong(0, 0xaaaaaaaaaaaaaaaaL);
                        a.freePages(h);
                    }
                    return ok;
                };
                results.add(pool.submit(worker));
            }
            start.countDown();
            long allocs = 0;
            for (Future<Long> f : results) {
                allocs += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(a.allocCount()).isEqualTo(allocs);
            assertThat(a.freeCount()).isEqualTo(allocs);
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.pagesInUse()).isZero();
        assertThat(a.freePages()).isEqualTo(4096);
        assertThat(a.freeBlocks(PageAllocator.MAX_ORDER)).isEqualTo(4);
    }

    @Test
    void shouldRejectRangeWhenOutsideMemory() {
        GuestMemory mem = new GuestMemory("t", 4L << 20);
        assertThatThrownBy(() -> new PageAllocator(mem, 1, 1024, false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PageAllocator(mem, 0, 0, false)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new PageAllocator(mem).totalPages()).isEqualTo(1024);
    }

    @Test
    void shouldRunArmedRetryOnceAfterTheNextFreeWhenMemoryWasShort() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 4, false);
        long[] held = {a.allocPages(0), a.allocPages(0), a.allocPages(0), a.allocPages(0)};
        assertThat(a.allocPages(0)).isEqualTo(-ENOMEM);
        int[] runs = new int[1];
        Runnable retry = () -> runs[0]++;

        assertThat(a.retryAfterReclaim(1, retry)).isTrue();
        assertThat(a.retryAfterReclaim(1, retry)).as("armed once however often it is asked").isTrue();
        assertThat(a.reclaimWaiters()).isEqualTo(1);
        assertThat(runs[0]).isZero();

        a.freePages(held[0]);
        assertThat(runs[0]).isEqualTo(1);
        assertThat(a.reclaimWaiters()).isZero();
        a.freePages(held[1]);
        assertThat(runs[0]).as("one shot: a later free does not run it again").isEqualTo(1);

        a.freePages(held[2]);
        a.freePages(held[3]);
    }

    @Test
    void shouldRefuseToArmRetryWhenTheNeededPagesAreAlreadyFree() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 4, false);
        long h0 = a.allocPages(1);
        int[] runs = new int[1];

        assertThat(a.retryAfterReclaim(2, () -> runs[0]++)).as("two pages are free: retry now").isFalse();
        long h1 = a.allocPages(1);
        assertThat(a.retryAfterReclaim(1, () -> runs[0]++)).isTrue();
        a.putPage(h1); // the last reference going also counts as a free
        assertThat(runs[0]).isEqualTo(1);
        a.freePages(h0);
        assertThat(a.reclaimWaiters()).isZero();
    }

    @Test
    void shouldNotWakeRetryUntilEnoughPagesAreFreeSoAGivenBackPartialAllocationDoesNotWakeItsOwner() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 4, false);
        long[] held = {a.allocPages(0), a.allocPages(0), a.allocPages(0), a.allocPages(0)};
        int[] runs = new int[1];
        Runnable retry = () -> runs[0]++;
        assertThat(a.retryAfterReclaim(3, retry)).isTrue(); // e.g. a header page and two data pages

        a.freePages(held[0]);
        a.freePages(held[1]);
        assertThat(runs[0]).as("2 of the 3 pages free").isZero();
        a.freePages(held[2]);
        assertThat(runs[0]).isEqualTo(1);
        assertThat(a.reclaimWaiters()).isZero();
        a.freePages(held[3]);
    }

    @Test
    void shouldNotRunCancelledRetry() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 1, true);
        long h = a.allocPages(0);
        int[] runs = new int[1];
        Runnable retry = () -> runs[0]++;
        assertThat(a.retryAfterReclaim(1, retry)).isTrue();

        assertThat(a.cancelRetry(retry)).isTrue();
        assertThat(a.cancelRetry(retry)).isFalse();
        a.freePages(h);
        assertThat(runs[0]).isZero();
    }

    @Test
    void shouldNotTouchMemoryAtBootWhenPoisoningButStillHandOutPoisonedPagesAndCatchWritesAfterFree() {
        GuestMemory mem = new GuestMemory("lazy", 16L << 20);
        PageAllocator a = new PageAllocator(mem, 0, (int) mem.pages(), true);
        assertThat(mem.residentBytes()).as("boot poisons nothing it need not").isZero();
        assertThat(a.isPoisoned(4000)).as("a page never allocated counts as poisoned").isTrue();
        assertThat(mem.residentBytes()).isZero();

        long h = a.allocPages(1);
        long pfn = PageAllocator.pfn(h);
        assertThat(a.isPoisoned(pfn)).isTrue();
        assertThat(a.isPoisoned(pfn + 1)).isTrue();
        assertThat(mem.residentBytes()).as("only the bank holding the block").isEqualTo(GuestMemory.BANK_SIZE);
        a.freePages(h);
        mem.write(GuestMemory.pfnToGpa(pfn) + 100, new byte[] {1}, 0, 1); // a write after free
        assertThatThrownBy(() -> a.allocPages(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("pfn=" + pfn + " offset=96");
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldPoisonByDefaultOnlyWhenThePagePoisonPropertyAsksForIt() {
        String old = System.getProperty("vsocksim.page_poison");
        try {
            System.setProperty("vsocksim.page_poison", "1");
            assertThat(PageAllocator.poisonByDefault()).isTrue();
            System.setProperty("vsocksim.page_poison", "true");
            assertThat(PageAllocator.poisonByDefault()).isTrue();
            System.setProperty("vsocksim.page_poison", "0");
            assertThat(PageAllocator.poisonByDefault()).isFalse();
            System.clearProperty("vsocksim.page_poison");
            assertThat(PageAllocator.poisonByDefault()).isFalse();
        } finally {
            if (old == null) {
                System.clearProperty("vsocksim.page_poison");
            } else {
                System.setProperty("vsocksim.page_poison", old);
            }
        }
    }
}
