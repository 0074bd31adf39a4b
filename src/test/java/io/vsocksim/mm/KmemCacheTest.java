package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.ENOMEM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The slab caches ({@code mm/slub.c}, {@code mm/slab_common.c}) over one page allocator. */
class KmemCacheTest {
    /** 4 MiB, one order-10 block. */
    private static PageAllocator pages(boolean poison) {
        return new PageAllocator(new GuestMemory("t", 4L << 20), 0, 1024, poison);
    }

    @ParameterizedTest(name = "{0}-byte objects: order {1}, {2} a slab, min_partial {3}")
    @CsvSource({
        // size, calculate_order on 2 CPUs, objects per slab, min_partial
        "640, 1, 12, 5",
        "1024, 2, 16, 5",
        "2048, 3, 16, 5",
        "4096, 3, 8, 6",
        "8192, 3, 4, 6",
        "64, 0, 64, 5",
        "192, 0, 21, 5",
    })
    void shouldSizeSlabsAsSlubDoesOnTwoCpus(int size, int order, int objects, int minPartial) {
        KmemCache c = pages(false).slab().kmemCacheCreate("c" + size, size);
        assertThat(c.order()).isEqualTo(order);
        assertThat(c.objectsPerSlab()).isEqualTo(objects);
        assertThat(c.minPartial()).isEqualTo(minPartial);
    }

    @Test
    void shouldRoundKmallocSizesToTheX8664Caches() {
        assertThat(Kmalloc.kmallocSizeRoundup(1)).isEqualTo(8);
        assertThat(Kmalloc.kmallocSizeRoundup(65)).isEqualTo(96);
        assertThat(Kmalloc.kmallocSizeRoundup(1088)).isEqualTo(2048);
        assertThat(Kmalloc.kmallocSizeRoundup(8192)).isEqualTo(8192);
        assertThat(Kmalloc.kmallocSizeRoundup(8193)).isEqualTo(16384);
        assertThat(Kmalloc.kmallocSizeRoundup(33000)).isEqualTo(65536);
    }

    @Test
    void shouldCarveObjectsInAddressOrderAndReuseTheLastFreedFirst() {
        PageAllocator a = pages(false);
        KmemCache c = a.slab().kmallocCache(4096);
        long first = c.alloc();
        long second = c.alloc();
        assertThat(a.pagesInUse()).as("one order-3 slab").isEqualTo(8);
        assertThat(c.gpa(second) - c.gpa(first)).isEqualTo(4096);
        long third = c.alloc();
        c.free(second);
        long again = c.alloc();
        assertThat(c.gpa(again)).as("LIFO freelist").isEqualTo(c.gpa(second));
        assertThat(again).as("same object, same handle").isEqualTo(second);
        assertThat(c.objectsInUse()).isEqualTo(3);
        c.free(first);
        c.free(third);
        c.free(again);
        assertThat(c.objectsInUse()).isZero();
    }

    @Test
    void shouldKeepMinPartialEmptySlabsAndGiveTheRestBack() {
        PageAllocator a = pages(false);
        KmemCache c = a.slab().kmallocCache(4096);
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < 8 * 10; i++) { // ten full slabs
            objs.add(c.alloc());
        }
        assertThat(c.slabs()).isEqualTo(10);
        assertThat(a.pagesInUse()).isEqualTo(80);
        for (long h : objs) {
            c.free(h);
        }
        // Each emptied slab goes back while the cache already has min_partial (6) partial slabs.
        assertThat(c.slabs()).isEqualTo(c.minPartial() - 1);
        assertThat(c.slabPages()).isEqualTo(8L * (c.minPartial() - 1));
        assertThat(Footprint.of(a)).isEqualTo(new Footprint(0, 0));
        assertThat(a.slab().shrinkAll()).isEqualTo(8L * (c.minPartial() - 1));
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldServeLargeKmallocsFromThePageAllocator() {
        PageAllocator a = pages(false);
        Kmalloc k = a.slab();
        long big = k.kmalloc(8193);
        assertThat(KmemCache.isObject(big)).isFalse();
        assertThat(PageAllocator.order(big)).isEqualTo(2);
        assertThat(k.gpa(big)).isEqualTo(a.gpa(big));
        long small = k.kmalloc(100);
        assertThat(KmemCache.isObject(small)).isTrue();
        assertThat(Footprint.of(a)).isEqualTo(new Footprint(4, 1));
        k.kfree(big);
        k.kfree(small);
        assertThat(Footprint.of(a)).isEqualTo(new Footprint(0, 0));
    }

    @Test
    void shouldFallBackToTheSmallestSlabWhenNoBlockOfTheCachesOrderIsFree() {
        PageAllocator a = pages(false);
        List<Long> held = new ArrayList<>();
        for (long h; (h = a.allocPages(0)) > 0; ) {
            held.add(h);
        }
        // Free every other page: plenty of memory, no order-1 block, let alone order 3.
        for (int i = 0; i < held.size(); i += 2) {
            a.freePages(held.get(i));
        }
        KmemCache c = a.slab().kmallocCache(4096);
        long h = c.alloc();
        assertThat(h).isPositive();
        assertThat(c.slabPages()).as("an order-0 slab of one object").isEqualTo(1);
        c.free(h);
        a.slab().shrinkAll();
        for (int i = 1; i < held.size(); i += 2) {
            a.freePages(held.get(i));
        }
        assertThat(a.pagesInUse()).isZero();
    }

    @Test
    void shouldFailWithEnomemWhenNoObjectAndNoPageIsFree() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 8, false);
        KmemCache c = a.slab().kmallocCache(4096);
        for (int i = 0; i < 8; i++) {
            assertThat(c.alloc()).isPositive();
        }
        assertThat(c.alloc()).isEqualTo(-ENOMEM);
    }

    @Test
    void shouldRunReclaimWaitersWhenAnObjectComesBackWithoutFreeingAPage() {
        PageAllocator a = new PageAllocator(new GuestMemory("t", 4L << 20), 0, 8, false);
        KmemCache c = a.slab().kmallocCache(4096);
        long[] objs = new long[8];
        for (int i = 0; i < 8; i++) {
            objs[i] = c.alloc();
        }
        AtomicInteger ran = new AtomicInteger();
        assertThat(a.retryAfterReclaim(1, ran::incrementAndGet)).isTrue();
        c.free(objs[0]);
        assertThat(ran).as("an object is free again: the waiter retries").hasValue(1);
        assertThat(a.reclaimWaiters()).isZero();
        for (int i = 1; i < 8; i++) {
            c.free(objs[i]);
        }
    }

    @Test
    void shouldReportDoubleFreeStaleAndForeignHandles() {
        PageAllocator a = pages(false);
        KmemCache c1 = a.slab().kmallocCache(1024);
        KmemCache c2 = a.slab().kmallocCache(2048);
        long h = c1.alloc();
        assertThatThrownBy(() -> c2.free(h)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not an object of kmalloc-2048");
        c1.free(h);
        assertThatThrownBy(() -> c1.free(h)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("double free");
        a.slab().shrinkAll(); // the slab goes: its slot's stamp changes when it is reused
        long other = c1.alloc();
        assertThatThrownBy(() -> c1.free(h)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stale");
        c1.free(other);
        assertThatThrownBy(() -> a.slab().kfree(KmemCache.OBJECT_TAG | (63L << 56)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no slab cache 63");
    }

    @Test
    void shouldCatchAWriteToAFreedObjectWhenPoisoning() {
        PageAllocator a = pages(true);
        KmemCache c = a.slab().kmemCacheCreate("skbuff_small_head", 640);
        long h = c.alloc();
        long gpa = c.gpa(h);
        c.free(h);
        a.memory().putU32(gpa + 100, 0x1234);
        assertThatThrownBy(c::alloc).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("use after free").hasMessageContaining("skbuff_small_head")
                .hasMessageContaining("offset=96");
    }

    @Test
    void shouldAllocateFromManyThreadsWithoutLosingAnObject() throws Exception {
        PageAllocator a = pages(false);
        KmemCache c = a.slab().kmemCacheCreate("skbuff_small_head", 640);
        Thread[] ts = new Thread[4];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = new Thread(() -> {
                long[] mine = new long[50];
                for (int round = 0; round < 200; round++) {
                    for (int i = 0; i < mine.length; i++) {
                        mine[i] = c.alloc();
                    }
                    for (long h : mine) {
                        c.free(h);
                    }
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertThat(c.objectsInUse()).isZero();
        a.slab().shrinkAll();
        assertThat(a.pagesInUse()).isZero();
    }
}
