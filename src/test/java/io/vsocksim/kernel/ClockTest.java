package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClockTest {
    @Test
    void shouldUseDebianAmd64TickWhenConvertingTime() {
        assertThat(Clock.HZ).isEqualTo(250);
        assertThat(Clock.TICK_NSEC).isEqualTo(4_000_000L);
    }

    @Test
    void shouldRoundMsecsUpToWholeJiffiesWhenHzIs250() {
        assertThat(Clock.msecsToJiffies(0)).isZero();
        assertThat(Clock.msecsToJiffies(1)).isEqualTo(1);
        assertThat(Clock.msecsToJiffies(4)).isEqualTo(1);
        assertThat(Clock.msecsToJiffies(5)).isEqualTo(2);
        assertThat(Clock.msecsToJiffies(2000)).isEqualTo(500);
        assertThat(Clock.jiffiesToMsecs(500)).isEqualTo(2000);
    }

    @Test
    void shouldReturnMaxJiffyOffsetWhenMsecsDoNotFitAnInt() {
        assertThat(Clock.msecsToJiffies(-1)).isEqualTo(Clock.MAX_JIFFY_OFFSET);
        assertThat(Clock.msecsToJiffies(1L << 31)).isEqualTo(Clock.MAX_JIFFY_OFFSET);
        assertThat(Clock.usecsToJiffies(-1)).isEqualTo(Clock.MAX_JIFFY_OFFSET);
    }

    @Test
    void shouldRoundUsecsAndNanosUpWhenConvertingToJiffies() {
        assertThat(Clock.usecsToJiffies(1)).isEqualTo(1);
        assertThat(Clock.usecsToJiffies(4000)).isEqualTo(1);
        assertThat(Clock.usecsToJiffies(4001)).isEqualTo(2);
        assertThat(Clock.nanosToJiffies(0)).isZero();
        assertThat(Clock.nanosToJiffies(-5)).isZero();
        assertThat(Clock.nanosToJiffies(1)).isEqualTo(1);
        assertThat(Clock.nanosToJiffies(Clock.TICK_NSEC)).isEqualTo(1);
        assertThat(Clock.nanosToJiffies(Clock.TICK_NSEC + 1)).isEqualTo(2);
        assertThat(Clock.nanosToJiffies(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE / Clock.TICK_NSEC + 1);
    }

    @Test
    void shouldSaturateWhenJiffiesToNanosWouldOverflow() {
        assertThat(Clock.jiffiesToNanos(500)).isEqualTo(2_000_000_000L);
        assertThat(Clock.jiffiesToNanos(Clock.MAX_JIFFY_OFFSET)).isEqualTo(Long.MAX_VALUE);
        assertThat(Clock.deadline(10, Long.MAX_VALUE - 5)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldCompareAcrossWrapWhenUsingTimeAfter() {
        assertThat(Clock.timeAfter(Long.MIN_VALUE, Long.MAX_VALUE)).isTrue();
        assertThat(Clock.timeAfter(Long.MAX_VALUE, Long.MIN_VALUE)).isFalse();
        assertThat(Clock.timeAfterEq(7, 7)).isTrue();
        assertThat(Clock.timeAfter(7, 7)).isFalse();
    }

    @Test
    void shouldMoveOnlyWhenAdvancedWhenVirtual() {
        VirtualClock clock = new VirtualClock();
        assertThat(clock.nanoTime()).isZero();
        assertThat(clock.jiffies()).isZero();
        clock.advance(Clock.TICK_NSEC - 1);
        assertThat(clock.jiffies()).isZero();
        clock.advance(1);
        assertThat(clock.jiffies()).isEqualTo(1);
        clock.advanceJiffies(499);
        assertThat(clock.jiffies()).isEqualTo(500);
        assertThat(clock.nanoTime()).isEqualTo(2_000_000_000L);
        assertThatThrownBy(() -> clock.advance(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldStartAtBootAndNeverGoBackWhenReal() {
        RealClock clock = new RealClock();
        long a = clock.nanoTime();
        long b = clock.nanoTime();
        assertThat(a).isNotNegative();
        assertThat(b).isGreaterThanOrEqualTo(a);
    }

    @Test
    void shouldReachADeadlineByItselfAndJumpWhenAdvancedWhenSelfRunning() throws InterruptedException {
        VirtualClock clock = VirtualClock.selfRunning();
        assertThat(clock.isSelfRunning()).isTrue();
        assertThat(new VirtualClock().isSelfRunning()).isFalse();
        java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        java.util.concurrent.locks.Condition never = lock.newCondition();

        long deadline = clock.nanoTime() + 20_000_000L; // nobody signals and nobody advances
        lock.lock();
        try {
            while (clock.nanoTime() < deadline) {
                clock.awaitUntil(lock, never, deadline);
            }
        } finally {
            lock.unlock();
        }
        assertThat(clock.nanoTime()).isGreaterThanOrEqualTo(deadline);

        long before = clock.nanoTime();
        clock.advance(3_600_000_000_000L);
        assertThat(clock.nanoTime() - before).as("an advance adds to real time").isGreaterThanOrEqualTo(3_600_000_000_000L);
    }

    @Test
    void shouldWakeASleeperWhenAdvancedPastItsDeadlineWhenSelfRunning() throws Exception {
        VirtualClock clock = VirtualClock.selfRunning();
        java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        java.util.concurrent.locks.Condition never = lock.newCondition();
        long deadline = clock.nanoTime() + 3_600_000_000_000L; // an hour: only an advance ends it
        Thread sleeper = new Thread(() -> {
            lock.lock();
            try {
                while (clock.nanoTime() < deadline) {
                    clock.awaitUntil(lock, never, deadline);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        });
        sleeper.start();
        clock.awaitSleepers(1);
        clock.advance(3_600_000_000_000L);
        sleeper.join(10_000);
        assertThat(sleeper.isAlive()).isFalse();
    }
}
