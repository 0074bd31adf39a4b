package io.vsocksim.kernel;

import static io.vsocksim.uapi.Errno.ERESTARTSYS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class WaitQueueHeadTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final VirtualClock clock = new VirtualClock();
    private final WaitQueueHead wq = new WaitQueueHead(clock);
    private final AtomicBoolean ready = new AtomicBoolean();

    /** A user thread blocked in a wait; {@link #join()} returns the wait's result. */
    private static final class Waiter {
        private final Thread thread;
        private volatile long result;
        private volatile boolean interruptedAfter;

        Waiter(LongSupplier wait) {
            thread = new Thread(() -> {
                result = wait.getAsLong();
                interruptedAfter = Thread.currentThread().isInterrupted();
            }, "waiter");
            thread.start();
        }

        long join() throws InterruptedException {
            thread.join();
            return result;
        }
    }

    @Test
    void shouldReturnFullTimeoutWhenConditionAlreadyTrue() {
        ready.set(true);
        assertThat(wq.waitEventInterruptibleTimeout(ready::get, SECOND)).isEqualTo(SECOND);
        assertThat(wq.waitEventInterruptibleTimeout(ready::get, WaitQueueHead.MAX_SCHEDULE_TIMEOUT))
                .isEqualTo(WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
    }

    @Test
    void shouldReturnOneWhenConditionTrueAndNoTimeLeft() {
        ready.set(true);
        assertThat(wq.waitEventInterruptibleTimeout(ready::get, 0)).isEqualTo(1);
    }

    @Test
    void shouldReturnZeroWhenNoTimeoutAndConditionFalse() {
        assertThat(wq.waitEventInterruptibleTimeout(ready::get, 0)).isZero();
        assertThat(wq.waiters()).isZero();
    }

    @Test
    void shouldWakeWaiterWhenConditionBecomesTrue() throws InterruptedException {
        Waiter waiter = new Waiter(() -> wq.waitEventInterruptibleTimeout(ready::get, SECOND));
        clock.awaitSleepers(1);
        assertThat(wq.waiters()).isEqualTo(1);

        ready.set(true);
        wq.wakeUp();
        assertThat(waiter.join()).isEqualTo(SECOND); // virtual time did not move
        assertThat(wq.waiters()).isZero();
    }

    @Test
    void shouldKeepSleepingWhenWokenButConditionStillFalse() throws InterruptedException {
        AtomicInteger checks = new AtomicInteger();
        Waiter waiter = new Waiter(() -> wq.waitEventInterruptibleTimeout(() -> {
            checks.incrementAndGet();
            return ready.get();
        }, SECOND));
        clock.awaitSleepers(1);
        wq.wakeUp(); // spurious for this waiter: it re-checks and sleeps again
        clock.advance(SECOND / 2);
        ready.set(true);
        wq.wakeUp();
        assertThat(waiter.join()).isEqualTo(SECOND / 2);
        assertThat(checks.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldWakeForeverWaiterWhenWokenUp() throws InterruptedException {
        Waiter waiter = new Waiter(() -> wq.waitEventInterruptibleTimeout(ready::get,
                WaitQueueHead.MAX_SCHEDULE_TIMEOUT));
        ready.set(true);
        wq.wakeUp(); // whether or not the waiter is parked yet, it must not miss this
        assertThat(waiter.join()).isEqualTo(WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
    }

    @Test
    void shouldNotLoseWakeupWhenConditionTurnsTrueBetweenCheckAndSleep() {
        // The condition's first evaluation plays the waker racing in right after the check.
        AtomicInteger checks = new AtomicInteger();
        long ret = wq.waitEventInterruptibleTimeout(() -> {
            if (checks.getAndIncrement() == 0) {
                ready.set(true);
                wq.wakeUp();
                return false;
            }
            return ready.get();
        }, WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
        assertThat(ret).isEqualTo(WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
        assertThat(checks).hasValue(2);
    }

    @Test
    void shouldTimeOutExactlyWhenVirtualClockPassesDeadline() throws InterruptedException {
        long timeout = Clock.jiffiesToNanos(2);
        Waiter waiter = new Waiter(() -> wq.waitEventInterruptibleTimeout(ready::get, timeout));
        clock.awaitSleepers(1);

        clock.advance(timeout - 1);
        assertThat(waiter.thread.isAlive()).isTrue(); // not due: the advance woke nobody
        assertThat(clock.sleepers()).isEqualTo(1);

        clock.advance(1);
        assertThat(waiter.join()).isZero();
    }

    @Test
    void shouldReturnRestartSysAndKeepInterruptWhenInterrupted() throws InterruptedException {
        Waiter waiter = new Waiter(() -> wq.waitEventInterruptibleTimeout(ready::get, SECOND));
        clock.awaitSleepers(1);
        waiter.thread.interrupt();
        assertThat(waiter.join()).isEqualTo(-ERESTARTSYS);
        assertThat(waiter.interruptedAfter).isTrue(); // the "signal" stays pending for the syscall edge
    }

    @Test
    void shouldPreferConditionOverPendingInterrupt() {
        Thread.currentThread().interrupt();
        try {
            ready.set(true);
            assertThat(wq.waitEventInterruptibleTimeout(ready::get, SECOND)).isEqualTo(SECOND);
            ready.set(false);
            assertThat(wq.waitEventInterruptibleTimeout(ready::get, SECOND)).isEqualTo(-ERESTARTSYS);
            assertThat(wq.waitEventInterruptibleTimeout(ready::get, 0)).isZero(); // timeout beats signal
        } finally {
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    @Test
    void shouldReleaseAndRetakeLockWhenWaitingWithLockHeld() throws InterruptedException {
        ReentrantLock sk = new ReentrantLock();
        AtomicBoolean heldAtEveryCheck = new AtomicBoolean(true);
        AtomicBoolean heldOnReturn = new AtomicBoolean();
        Waiter waiter = new Waiter(() -> {
            sk.lock();
            try {
                long ret = wq.waitEventInterruptibleTimeout(sk, () -> {
                    heldAtEveryCheck.compareAndSet(true, sk.isHeldByCurrentThread());
                    return ready.get();
                }, SECOND);
                heldOnReturn.set(sk.isHeldByCurrentThread());
                return ret;
            } finally {
                sk.unlock();
            }
        });
        clock.awaitSleepers(1);

        assertThat(sk.tryLock()).isTrue(); // released while the waiter sleeps
        try {
            ready.set(true);
            wq.wakeUp();
        } finally {
            sk.unlock();
        }
        assertThat(waiter.join()).isEqualTo(SECOND);
        assertThat(heldAtEveryCheck).isTrue();
        assertThat(heldOnReturn).isTrue();
    }

    @Test
    void shouldReturnZeroWhenRealClockTimeoutExpires() {
        WaitQueueHead real = new WaitQueueHead(new RealClock());
        assertThat(real.waitEventInterruptibleTimeout(ready::get, TimeUnit.MILLISECONDS.toNanos(1))).isZero();
    }
}
