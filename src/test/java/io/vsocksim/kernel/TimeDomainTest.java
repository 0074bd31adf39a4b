package io.vsocksim.kernel;

import static io.vsocksim.testing.Latches.awaitUninterruptibly;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When a time domain's clocks jump: only once every thread in a call is asleep in the simulation and
 * every queue is idle. "Not yet" is checked after the keeper has looked at the domain several times
 * (its check counter), never by waiting a fixed time.
 */
@Timeout(30)
class TimeDomainTest {
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);

    private final VirtualClock clock = VirtualClock.selfRunning();
    private final ThreadedWorkQueue wq = new ThreadedWorkQueue("td/system_wq", 2, clock);
    private final TimeDomain domain = new TimeDomain("td");
    private final WaitQueueHead wait = new WaitQueueHead(clock);

    @AfterEach
    void close() {
        domain.close();
        wq.close();
    }

    /** A thread that makes a call which sleeps on {@link #wait} for an hour; its result goes to {@code out}. */
    private Thread sleeperInCall(AtomicLong out) {
        Thread t = new Thread(() -> {
            TimeDomain.enterCall(clock);
            try {
                out.set(wait.waitEventInterruptibleTimeout(() -> false, HOUR));
            } finally {
                TimeDomain.exitCall(clock);
            }
        }, "sleeper");
        t.start();
        return t;
    }

    /** Spins (no sleep) until the keeper has gone round its loop {@code n} more times. */
    private void awaitKeeperPasses(int n) {
        long target = domain.passes() + n;
        while (domain.passes() < target) {
            Thread.onSpinWait();
        }
    }

    /** Spins (no sleep) until the keeper has looked at the idle-looking domain {@code n} more times. */
    private void awaitKeeperChecks(int n) {
        long target = domain.checks() + n;
        while (domain.checks() < target) {
            Thread.onSpinWait();
        }
    }

    @Test
    void shouldJumpToTheDeadlineWhenTheOnlyCallSleepsWithATimeout() throws InterruptedException {
        domain.add(clock, wq);
        AtomicLong result = new AtomicLong(-1);
        long t0 = clock.nanoTime();
        Thread t = sleeperInCall(result);
        t.join();
        assertThat(result.get()).as("timed out").isZero();
        assertThat(clock.nanoTime() - t0).isGreaterThanOrEqualTo(HOUR);
        assertThat(domain.jumps()).isPositive();
        assertThat(domain.jumpedNanos()).isGreaterThan(HOUR / 2);
    }

    @Test
    void shouldNotJumpWhileAnotherCallIsRunning() throws InterruptedException {
        domain.add(clock, wq);
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread busy = new Thread(() -> {
            TimeDomain.enterCall(clock);
            try {
                inCall.countDown();
                awaitUninterruptibly(leave); // in a call, not asleep in the simulation: running
            } finally {
                TimeDomain.exitCall(clock);
            }
        }, "busy");
        busy.start();
        assertThat(inCall.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicLong result = new AtomicLong(-1);
        Thread sleeper = sleeperInCall(result);
        clock.awaitSleepers(1);
        awaitKeeperPasses(3);

        assertThat(domain.jumps()).isZero();
        assertThat(result.get()).as("still asleep").isEqualTo(-1);

        leave.countDown();
        busy.join();
        sleeper.join();
        assertThat(result.get()).isZero();
        assertThat(domain.jumps()).isPositive();
    }

    @Test
    void shouldNotJumpWhileAWorkIsRunningOnAQueueOfTheDomain() throws InterruptedException {
        domain.add(clock, wq);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        wq.queueWork(new Work("busy", () -> {
            running.countDown();
            awaitUninterruptibly(finish);
        }));
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicLong result = new AtomicLong(-1);
        Thread sleeper = sleeperInCall(result);
        clock.awaitSleepers(1);
        awaitKeeperChecks(3); // the domain looks idle by its running count; the queue says no

        assertThat(domain.jumps()).isZero();
        assertThat(result.get()).isEqualTo(-1);

        finish.countDown();
        sleeper.join();
        assertThat(result.get()).isZero();
        assertThat(domain.jumps()).isPositive();
    }

    @Test
    void shouldFollowRealTimeOnlyWhenTheClockIsInNoDomain() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong result = new AtomicLong(-1);
        Thread t = new Thread(() -> {
            TimeDomain.enterCall(clock);
            try {
                result.set(wait.waitEventInterruptibleTimeout(() -> false, TimeUnit.MILLISECONDS.toNanos(20)));
            } finally {
                TimeDomain.exitCall(clock);
                done.countDown();
            }
        });
        t.start();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(result.get()).isZero();
        assertThat(clock.domain()).isNull();
        assertThat(domain.jumps()).isZero();
    }
}
