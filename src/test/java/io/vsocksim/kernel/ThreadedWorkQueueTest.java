package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ThreadedWorkQueueTest {
    private final List<ThreadedWorkQueue> queues = new ArrayList<>();

    private ThreadedWorkQueue queue(String name, int threads, Clock clock) {
        ThreadedWorkQueue wq = new ThreadedWorkQueue(name, threads, clock);
        queues.add(wq);
        return wq;
    }

    @AfterEach
    void closeQueues() {
        queues.forEach(ThreadedWorkQueue::close);
    }

    @Test
    void shouldRunWorkOnWorkerThreadWhenQueued() throws InterruptedException {
        ThreadedWorkQueue wq = queue("vhost-42", 1, new RealClock());
        AtomicBoolean inContext = new AtomicBoolean();
        AtomicReference<String> thread = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        wq.queueWork(new Work("probe", () -> {
            inContext.set(wq.inContext());
            thread.set(Thread.currentThread().getName());
            ran.countDown();
        }));
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(inContext).isTrue();
        assertThat(thread.get()).isEqualTo("vhost-42/0");
        assertThat(wq.inContext()).isFalse();
    }

    @Test
    void shouldRunInQueueingOrderWhenOneThread() {
        ThreadedWorkQueue wq = queue("ordered", 1, new RealClock());
        List<Integer> order = new ArrayList<>(); // only the single worker writes it
        for (int i = 0; i < 200; i++) {
            int n = i;
            wq.queueWork(new Work("w" + i, () -> order.add(n)));
        }
        wq.flush();
        assertThat(order).hasSize(200).isSorted();
    }

    @Test
    void shouldNeverRunWorkConcurrentlyWithItselfWhenManyWorkersAndProducers() throws InterruptedException {
        ThreadedWorkQueue wq = queue("concurrent", 4, new RealClock());
        AtomicInteger active = new AtomicInteger();
        AtomicInteger maxActive = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("hot", () -> {
            maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
            for (int i = 0; i < 100; i++) {
                Thread.onSpinWait(); // widen the window a second worker would have to slip in
            }
            runs.incrementAndGet();
            active.decrementAndGet();
        });
        int producers = 4;
        CountDownLatch done = new CountDownLatch(producers);
        for (int p = 0; p < producers; p++) {
            new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    wq.queueWork(w);
                }
                done.countDown();
            }, "producer-" + p).start();
        }
        assertThat(done.await(15, TimeUnit.SECONDS)).isTrue();
        wq.flush();
        assertThat(maxActive).hasValue(1);
        assertThat(runs.get()).isPositive();
        assertThat(w.pending()).isFalse();
    }

    @Test
    void shouldFireDelayedWorkWhenVirtualClockCrossesDeadline() throws InterruptedException {
        VirtualClock clock = new VirtualClock();
        ThreadedWorkQueue wq = queue("timers", 1, clock);
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork dw = new DelayedWork("timeout", ran::countDown);
        wq.queueDelayedWork(dw, 5); // armed when this returns; the pool hears of every advance

        clock.advance(5 * Clock.TICK_NSEC - 1);
        assertThat(dw.pending()).isTrue(); // not due: nobody was woken

        clock.advance(1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldFireDelayedWorkWhenRealClockDeadlinePasses() throws InterruptedException {
        ThreadedWorkQueue wq = queue("real-timers", 2, new RealClock());
        CountDownLatch ran = new CountDownLatch(1);
        wq.queueDelayedWork(new DelayedWork("soon", ran::countDown), 1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldWaitForRunningInstanceWhenCancelSync() throws InterruptedException {
        ThreadedWorkQueue wq = queue("cancel", 1, new RealClock());
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("slow", () -> {
            started.countDown();
            await(gate);
            finished.set(true);
            runs.incrementAndGet();
        });
        wq.queueWork(w);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        wq.queueWork(w); // a second, pending instance that cancelSync steals unless the gate opens first

        AtomicBoolean finishedWhenCancelReturned = new AtomicBoolean();
        AtomicBoolean stole = new AtomicBoolean();
        Thread canceller = new Thread(() -> {
            stole.set(w.cancelSync());
            finishedWhenCancelReturned.set(finished.get());
        });
        canceller.start();
        gate.countDown();
        canceller.join();
        assertThat(finishedWhenCancelReturned).isTrue();
        assertThat(w.pending()).isFalse();
        wq.flush();
        assertThat(runs).hasValue(stole.get() ? 1 : 2); // a stolen instance never runs
    }

    @Test
    void shouldRunQueuedWorkAndRejectNewWorkWhenClosed() {
        ThreadedWorkQueue wq = new ThreadedWorkQueue("closing", 2, new RealClock());
        AtomicInteger runs = new AtomicInteger();
        for (int i = 0; i < 50; i++) {
            wq.queueWork(new Work("w" + i, runs::incrementAndGet));
        }
        wq.close();
        assertThat(runs).hasValue(50);
        assertThatThrownBy(() -> wq.queueWork(new Work("late", runs::incrementAndGet)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldRethrowOnCloseWhenWorkThrew() {
        ThreadedWorkQueue wq = new ThreadedWorkQueue("oops", 1, new RealClock());
        wq.queueWork(new Work("boom", () -> {
            throw new IllegalArgumentException("boom");
        }));
        assertThatThrownBy(wq::close).isInstanceOf(IllegalStateException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
