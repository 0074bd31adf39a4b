package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class MutexTest {
    private long counter; // guarded by the mutex under test

    @Test
    void shouldExcludeWhenFourThreadsContend() throws InterruptedException {
        Mutex m = new Mutex();
        int threads = 4;
        int rounds = 200_000;
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    m.lock();
                    try {
                        long c = counter;
                        Thread.onSpinWait(); // widen the read-modify-write window
                        counter = c + 1;
                    } finally {
                        m.unlock();
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        assertThat(counter).isEqualTo((long) threads * rounds);
        assertThat(m.isLocked()).isFalse();
    }

    @Test
    void shouldBeReentrantAndReportItsHolder() {
        Mutex m = new Mutex();
        m.lock();
        m.lock();
        assertThat(m.getHoldCount()).isEqualTo(2);
        assertThat(m.isHeldByCurrentThread()).isTrue();
        m.unlock();
        assertThat(m.isHeldByCurrentThread()).isTrue();
        m.unlock();
        assertThat(m.isLocked()).isFalse();
    }

    @Test
    void shouldQueueAfterSpinningWhenOwnerHoldsOn() throws InterruptedException {
        Mutex m = new Mutex();
        m.lock();
        Thread waiter = new Thread(() -> {
            m.lock(); // spins SPINS times, then queues until the owner lets go
            m.unlock();
        });
        waiter.start();
        while (!m.hasQueuedThread(waiter)) {
            Thread.onSpinWait();
        }
        m.unlock();
        waiter.join();
        assertThat(m.isLocked()).isFalse();
    }
}
