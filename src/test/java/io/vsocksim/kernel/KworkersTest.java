package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.Latches;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Work queues of many machines on one bounded set of worker threads ({@link Kworkers}). */
@Timeout(30)
class KworkersTest {
    private final Kworkers pool = new Kworkers("kw-test", 2);
    private final List<ThreadedWorkQueue> queues = new ArrayList<>();

    private ThreadedWorkQueue queue(String name, int maxActive, Clock clock) {
        ThreadedWorkQueue q = new ThreadedWorkQueue(name, maxActive, clock, pool);
        queues.add(q);
        return q;
    }

    @AfterEach
    void close() {
        queues.forEach(ThreadedWorkQueue::close);
        pool.close();
        pool.awaitTermination();
    }

    @Test
    void shouldRunTheWorkOfFiveHundredQueuesOnTheSameTwoThreads() throws InterruptedException {
        int n = 500;
        CountDownLatch ran = new CountDownLatch(n * 4);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < n; i++) {
            ThreadedWorkQueue q = queue("guest" + i + "/system_wq", 2, new RealClock());
            for (int k = 0; k < 4; k++) {
                q.queueWork(new Work("w" + k, () -> {
                    threads.add(Thread.currentThread().getName());
                    ran.countDown();
                }));
            }
        }
        assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
        // Two workers, and a few more only for moments when both were blocked on a contended lock:
        // never one per queue.
        assertThat(pool.started()).isLessThan(10);
        assertThat(threads).allMatch(t -> t.startsWith("kw-test/"));
    }

    @Test
    void shouldKeepAnOrderedQueuesOrderAndItsOneAtATimeRule() throws InterruptedException {
        ThreadedWorkQueue q = queue("vhost", 1, new RealClock());
        int n = 2000;
        int[] order = new int[n];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int id = i;
            q.queueWork(new Work("w" + i, () -> {
                if (inside.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                order[next.getAndIncrement()] = id;
                inside.decrementAndGet();
                done.countDown();
            }));
        }
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(overlaps.get()).isZero();
        for (int i = 0; i < n; i++) {
            assertThat(order[i]).isEqualTo(i);
        }
    }

    @Test
    void shouldStartAnotherWorkerWhenEveryWorkerIsBlockedInsideAWorkAndWorkIsReady() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(2);
        ThreadedWorkQueue a = queue("a", 2, new RealClock());
        for (int i = 0; i < 2; i++) {
            a.queueWork(new Work("block" + i, () -> {
                blocked.countDown();
                Latches.awaitUninterruptibly(release); // a wait the pool cannot see
            }));
        }
        assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
        CountDownLatch ran = new CountDownLatch(1);
        queue("b", 1, new RealClock()).queueWork(new Work("other machine", ran::countDown));
        try {
            assertThat(ran.await(10, TimeUnit.SECONDS)).as("the manager started a worker for it").isTrue();
            assertThat(pool.workers()).isEqualTo(3);
        } finally {
            release.countDown();
        }
    }

    @Test
    void shouldWakeAnIdleWorkerForReadyWorkWhenTheWorkerCountedAsRunningIsBlocked() throws InterruptedException {
        Kworkers one = new Kworkers("kw-one", 1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        ThreadedWorkQueue a = new ThreadedWorkQueue("a", 1, new RealClock(), one);
        ThreadedWorkQueue b = new ThreadedWorkQueue("b", 1, new RealClock(), one);
        try {
            a.queueWork(new Work("block", () -> {
                blocked.countDown();
                Latches.awaitUninterruptibly(release); // still counts as running: the pool cannot see it
            }));
            assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch first = new CountDownLatch(1);
            b.queueWork(new Work("first", first::countDown));
            assertThat(first.await(10, TimeUnit.SECONDS)).as("a second worker was started").isTrue();
            // The second worker is idle now, but the running count still says the one CPU is taken.
            CountDownLatch second = new CountDownLatch(1);
            b.queueWork(new Work("second", second::countDown));
            assertThat(second.await(10, TimeUnit.SECONDS)).as("the manager woke the idle worker").isTrue();
            assertThat(one.started()).isEqualTo(2);
        } finally {
            release.countDown();
            a.close();
            b.close();
            one.close();
            one.awaitTermination();
        }
    }

    @Test
    void shouldFireAManualClocksTimerOnTheSharedThreadsWhenTheClockIsAdvancedPastIt() throws InterruptedException {
        VirtualClock clock = new VirtualClock();
        ThreadedWorkQueue q = queue("timers", 1, clock);
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork dw = new DelayedWork("close-timeout", ran::countDown);
        q.queueDelayedWork(dw, 2000); // VSOCK_CLOSE_TIMEOUT in jiffies

        clock.advanceJiffies(1999);
        assertThat(dw.pending()).isTrue();
        clock.advanceJiffies(1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldFireASelfRunningClocksTimerInRealTime() throws InterruptedException {
        ThreadedWorkQueue q = queue("self", 2, VirtualClock.selfRunning());
        CountDownLatch ran = new CountDownLatch(1);
        q.queueDelayedWork(new DelayedWork("soon", ran::countDown), 1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }
}
