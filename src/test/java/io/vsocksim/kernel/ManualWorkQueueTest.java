package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ManualWorkQueueTest {
    private final VirtualClock clock = new VirtualClock();
    private final ManualWorkQueue wq = new ManualWorkQueue("test_wq", clock);
    private final AtomicInteger runs = new AtomicInteger();
    private final Work counting = new Work("counting", runs::incrementAndGet);

    @Test
    void shouldReturnFalseAndRunOnceWhenQueuedTwiceWhilePending() {
        assertThat(wq.queueWork(counting)).isTrue();
        assertThat(wq.queueWork(counting)).isFalse();
        assertThat(counting.pending()).isTrue();

        assertThat(wq.runPending()).isEqualTo(1);
        assertThat(runs).hasValue(1);
        assertThat(counting.pending()).isFalse();
        assertThat(wq.runPending()).isZero();
    }

    @Test
    void shouldRunAgainWhenWorkQueuesItselfWhileRunning() {
        Work[] self = new Work[1];
        self[0] = new Work("again", () -> {
            if (runs.incrementAndGet() == 1) {
                assertThat(self[0].pending()).isFalse(); // PENDING is cleared before the function
                assertThat(wq.queueWork(self[0])).isTrue();
            }
        });
        wq.queueWork(self[0]);
        assertThat(wq.runUntilIdle()).isEqualTo(2);
        assertThat(runs).hasValue(2);
    }

    @Test
    void shouldRunOnlyAlreadyQueuedWorkWhenRunPending() {
        Work second = new Work("second", runs::incrementAndGet);
        Work first = new Work("first", () -> wq.queueWork(second));
        wq.queueWork(first);

        assertThat(wq.runPending()).isEqualTo(1);
        assertThat(second.pending()).isTrue();
        assertThat(wq.queued()).isEqualTo(1);
        assertThat(wq.runUntilIdle()).isEqualTo(1);
        assertThat(runs).hasValue(1);
    }

    @Test
    void shouldRunInQueueingOrderWhenRunUntilIdle() {
        List<String> order = new ArrayList<>();
        Work c = new Work("c", () -> order.add("c"));
        Work b = new Work("b", () -> {
            order.add("b");
            wq.queueWork(c);
        });
        Work a = new Work("a", () -> order.add("a"));
        wq.queueWork(b);
        wq.queueWork(a);
        assertThat(wq.runUntilIdle()).isEqualTo(3);
        assertThat(order).containsExactly("b", "a", "c");
    }

    @Test
    void shouldThrowWhenWorkRequeuesItselfForever() {
        ManualWorkQueue bounded = new ManualWorkQueue("loop_wq", clock, 50);
        Work[] self = new Work[1];
        self[0] = new Work("forever", () -> bounded.queueWork(self[0]));
        bounded.queueWork(self[0]);
        assertThatThrownBy(bounded::runUntilIdle).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("maxRuns=50");
    }

    @Test
    void shouldFireDelayedWorkExactlyWhenClockReachesDeadline() {
        DelayedWork dw = new DelayedWork("timer", runs::incrementAndGet);
        assertThat(wq.queueDelayedWork(dw, 2)).isTrue();
        assertThat(wq.queueDelayedWork(dw, 2)).isFalse();
        assertThat(wq.nextTimerDeadline()).isEqualTo(2 * Clock.TICK_NSEC);

        clock.advance(2 * Clock.TICK_NSEC - 1);
        assertThat(wq.runUntilIdle()).isZero();
        assertThat(dw.pending()).isTrue();

        clock.advance(1);
        assertThat(wq.runUntilIdle()).isEqualTo(1);
        assertThat(runs).hasValue(1);
        assertThat(dw.pending()).isFalse();
    }

    @Test
    void shouldAlignDeadlineToTickWhenDelayIsInJiffies() {
        clock.advance(1_000_000); // 1 ms into jiffy 0
        DelayedWork dw = new DelayedWork("tick", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 1);
        assertThat(wq.nextTimerDeadline()).isEqualTo(Clock.TICK_NSEC); // expires = jiffies + 1
    }

    @Test
    void shouldFireAfterExactNanosWhenDelayIsInNanos() {
        clock.advance(1_000_000);
        DelayedWork dw = new DelayedWork("ns", runs::incrementAndGet);
        wq.queueDelayedWorkNanos(dw, 500);
        clock.advance(499);
        assertThat(wq.runPending()).isZero();
        clock.advance(1);
        assertThat(wq.runPending()).isEqualTo(1);
    }

    @Test
    void shouldQueueAtOnceWhenDelayIsZero() {
        DelayedWork dw = new DelayedWork("now", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 0);
        assertThat(wq.nextTimerDeadline()).isEqualTo(-1);
        assertThat(wq.runPending()).isEqualTo(1);
    }

    @Test
    void shouldRearmTimerWhenModDelayedWork() {
        DelayedWork dw = new DelayedWork("mod", runs::incrementAndGet);
        assertThat(wq.modDelayedWork(dw, 10)).isFalse(); // idle: queued
        assertThat(wq.modDelayedWork(dw, 3)).isTrue(); // pending: re-armed
        clock.advanceJiffies(3);
        assertThat(wq.runUntilIdle()).isEqualTo(1);
        clock.advanceJiffies(10);
        assertThat(wq.runUntilIdle()).isZero();
    }

    @Test
    void shouldMoveQueuedWorkBackToTimerWhenModDelayedWork() {
        DelayedWork dw = new DelayedWork("mod", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 0);
        assertThat(wq.modDelayedWork(dw, 1)).isTrue();
        assertThat(wq.runPending()).isZero();
        clock.advanceJiffies(1);
        assertThat(wq.runPending()).isEqualTo(1);
    }

    @Test
    void shouldNeverRunWhenDelayedWorkCancelled() {
        DelayedWork dw = new DelayedWork("cancel", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 5);
        assertThat(dw.cancel()).isTrue();
        assertThat(dw.pending()).isFalse();
        assertThat(dw.cancelSync()).isFalse();
        clock.advanceJiffies(5);
        assertThat(wq.runUntilIdle()).isZero();
        assertThat(runs).hasValue(0);
        assertThat(wq.queueDelayedWork(dw, 1)).isTrue(); // reusable after cancel
    }

    @Test
    void shouldDequeueWhenCancelSyncOnQueuedWork() {
        wq.queueWork(counting);
        assertThat(counting.cancelSync()).isTrue();
        assertThat(wq.runUntilIdle()).isZero();
        assertThat(counting.cancelSync()).isFalse();
    }

    @Test
    void shouldRunTimerNowWhenFlushDelayedWork() {
        DelayedWork dw = new DelayedWork("flush", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 100);
        assertThat(dw.flush()).isTrue();
        assertThat(runs).hasValue(1);
        assertThat(dw.flush()).isFalse();
    }

    @Test
    void shouldRunQueueUpToWorkWhenFlushWork() {
        List<String> order = new ArrayList<>();
        Work a = new Work("a", () -> order.add("a"));
        Work b = new Work("b", () -> order.add("b"));
        Work c = new Work("c", () -> order.add("c"));
        wq.queueWork(a);
        wq.queueWork(b);
        wq.queueWork(c);
        assertThat(b.flush()).isTrue();
        assertThat(order).containsExactly("a", "b");
        wq.flush();
        assertThat(order).containsExactly("a", "b", "c");
    }

    @Test
    void shouldRefuseWhenWorkFlushesOrCancelsItself() {
        AtomicBoolean refused = new AtomicBoolean();
        Work[] self = new Work[1];
        self[0] = new Work("self", () -> {
            assertThatThrownBy(self[0]::flush).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(self[0]::cancelSync).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(wq::flush).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(wq::runPending).isInstanceOf(IllegalStateException.class);
            refused.set(true);
        });
        wq.queueWork(self[0]);
        wq.runPending();
        assertThat(refused).isTrue();
    }

    @Test
    void shouldBeInContextOnlyWhileRunningWork() {
        AtomicBoolean inside = new AtomicBoolean();
        wq.queueWork(new Work("ctx", () -> inside.set(wq.inContext())));
        assertThat(wq.inContext()).isFalse();
        wq.runPending();
        assertThat(inside).isTrue();
        assertThat(wq.inContext()).isFalse();
    }

    @Test
    void shouldPropagateAndStayUsableWhenWorkThrows() {
        Work boom = new Work("boom", () -> {
            throw new IllegalArgumentException("boom");
        });
        wq.queueWork(boom);
        assertThatThrownBy(wq::runPending).isInstanceOf(IllegalArgumentException.class);
        assertThat(boom.pending()).isFalse();
        assertThat(wq.queueWork(counting)).isTrue();
        assertThat(wq.runPending()).isEqualTo(1);
    }

    @Test
    void shouldRejectWorkOfAnotherQueue() {
        ManualWorkQueue other = new ManualWorkQueue("other", clock);
        wq.queueWork(counting);
        assertThatThrownBy(() -> other.queueWork(counting)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldDrainAndCancelTimersWhenClosed() {
        DelayedWork dw = new DelayedWork("late", runs::incrementAndGet);
        wq.queueDelayedWork(dw, 1);
        wq.queueWork(counting);
        wq.close();
        assertThat(runs).hasValue(1);
        assertThat(dw.pending()).isFalse();
        assertThatThrownBy(() -> wq.queueWork(counting)).isInstanceOf(IllegalStateException.class);
        assertThat(counting.pending()).isFalse();
        wq.close(); // idempotent
    }
}
