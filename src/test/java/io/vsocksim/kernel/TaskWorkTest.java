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
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Work a thread queues inside a {@link TaskWork} scope: who runs it and when. Where a test needs the
 * workers not to take the work first, it parks every worker in a blocker work; nothing here waits on
 * time.
 */
@Timeout(20)
class TaskWorkTest {
    private final List<ThreadedWorkQueue> queues = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    private ThreadedWorkQueue queue(String name, int threads) {
        ThreadedWorkQueue wq = new ThreadedWorkQueue(name, threads, new RealClock());
        queues.add(wq);
        return wq;
    }

    /** Occupies every worker of {@code wq} until {@link #release} opens; returns once all are busy. */
    private void blockWorkers(ThreadedWorkQueue wq, int threads) throws InterruptedException {
        CountDownLatch busy = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            wq.queueWork(new Work("blocker" + i, () -> {
                busy.countDown();
                awaitUninterruptibly(release);
            }));
        }
        assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        for (;;) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @AfterEach
    void closeQueues() {
        release.countDown();
        queues.forEach(ThreadedWorkQueue::close);
    }

    @Test
    void shouldRunDeferredWorkInCallingThreadAtExitWithoutWakingWorker() throws InterruptedException {
        ThreadedWorkQueue wq = queue("tw", 2);
        blockWorkers(wq, 2);
        AtomicReference<Thread> runner = new AtomicReference<>();
        AtomicBoolean inContext = new AtomicBoolean();
        Work w = new Work("deferred", () -> {
            runner.set(Thread.currentThread());
            inContext.set(wq.inContext());
        });

        TaskWork.enter();
        try {
            assertThat(wq.queueWork(w)).isTrue();
            assertThat(w.pending()).isTrue();
            assertThat(runner.get()).isNull();
        } finally {
            TaskWork.exit();
        }

        assertThat(runner.get()).isSameAs(Thread.currentThread());
        assertThat(inContext).as("inContext() while running it in place of a worker").isTrue();
        assertThat(w.pending()).isFalse();
        assertThat(wq.inContext()).isFalse();
    }

    @Test
    void shouldWakeWorkerWhenQueuedOutsideScope() throws InterruptedException {
        ThreadedWorkQueue wq = queue("plain", 1);
        AtomicReference<String> runner = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        wq.queueWork(new Work("plain", () -> {
            runner.set(Thread.currentThread().getName());
            ran.countDown();
        }));
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.get()).isEqualTo("plain/0");
    }

    @Test
    void shouldHandOrderedQueueWorkToItsWorkerWhenAnotherWorkRuns() throws InterruptedException {
        ThreadedWorkQueue wq = queue("ordered", 1);
        blockWorkers(wq, 1);
        AtomicReference<String> runner = new AtomicReference<>();
        Work w = new Work("behind-blocker", () -> runner.set(Thread.currentThread().getName()));

        TaskWork.enter();
        try {
            wq.queueWork(w);
        } finally {
            TaskWork.exit();
        }
        assertThat(runner.get()).as("an ordered queue never runs two works at once").isNull();
        assertThat(w.pending()).isTrue();

        release.countDown();
        wq.flush();
        assertThat(runner.get()).isEqualTo("ordered/0");
    }

    @Test
    void shouldRunDeferredWorkBeforeSleepingSoItsWakeUpIsNotLost() throws InterruptedException {
        ThreadedWorkQueue wq = queue("sleep", 2);
        blockWorkers(wq, 2);
        WaitQueueHead wait = new WaitQueueHead(new RealClock());
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Thread> runner = new AtomicReference<>();
        Work w = new Work("waker", () -> {
            runner.set(Thread.currentThread());
            done.set(true);
            wait.wakeUp();
        });
        ReentrantLock sockLock = new ReentrantLock();

        TaskWork.enter();
        long ret;
        sockLock.lock();
        try {
            wq.queueWork(w);
            ret = wait.waitEventInterruptibleTimeout(sockLock, done::get, WaitQueueHead.MAX_SCHEDULE_TIMEOUT);
        } finally {
            sockLock.unlock();
            TaskWork.exit();
        }

        assertThat(ret).isPositive();
        assertThat(runner.get()).as("workers are blocked: only the sleeper could run it").isSameAs(Thread.currentThread());
    }

    @Test
    void shouldHandWorkToWorkersWhenSleeperStillHoldsTheLock() throws InterruptedException {
        ThreadedWorkQueue wq = queue("nested", 2);
        WaitQueueHead wait = new WaitQueueHead(new RealClock());
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> runner = new AtomicReference<>();
        Work w = new Work("waker", () -> {
            runner.set(Thread.currentThread().getName());
            done.set(true);
            wait.wakeUp();
        });
        ReentrantLock sockLock = new ReentrantLock();

        TaskWork.enter();
        sockLock.lock();
        sockLock.lock(); // taken twice: releasing once for the sleep still leaves it held
        try {
            wq.queueWork(w);
            assertThat(wait.waitEventInterruptibleTimeout(sockLock, done::get, WaitQueueHead.MAX_SCHEDULE_TIMEOUT))
                    .isPositive();
        } finally {
            sockLock.unlock();
            sockLock.unlock();
            TaskWork.exit();
        }
        assertThat(runner.get()).startsWith("nested/");
    }

    @Test
    void shouldHandDeferredWorkToWorkersBeforeFlushingIt() {
        ThreadedWorkQueue wq = queue("flush", 2);
        AtomicReference<String> runner = new AtomicReference<>();
        Work w = new Work("flushed", () -> runner.set(Thread.currentThread().getName()));

        TaskWork.enter();
        try {
            wq.queueWork(w);
            w.flush(); // returns (false if the woken worker was quicker): it did not wait for this thread
            assertThat(runner.get()).startsWith("flush/");
            assertThat(w.pending()).isFalse();
        } finally {
            TaskWork.exit();
        }
    }

    @Test
    void shouldRunAtMostMaxInlineWorksPerDrainAndHandTheRestToWorkers() throws InterruptedException {
        ThreadedWorkQueue wq = queue("budget", 2);
        blockWorkers(wq, 2);
        int total = TaskWork.MAX_INLINE + 36;
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger byCaller = new AtomicInteger();
        Thread caller = Thread.currentThread();
        Work[] self = new Work[1];
        self[0] = new Work("requeue", () -> {
            if (Thread.currentThread() == caller) {
                byCaller.incrementAndGet();
            }
            if (runs.incrementAndGet() < total) {
                wq.queueWork(self[0]);
            }
        });

        TaskWork.enter();
        try {
            wq.queueWork(self[0]);
        } finally {
            TaskWork.exit();
        }
        assertThat(byCaller.get()).isEqualTo(TaskWork.MAX_INLINE);
        assertThat(self[0].pending()).isTrue();

        release.countDown();
        while (!wq.idle()) {
            wq.flush();
        }
        assertThat(runs.get()).isEqualTo(total);
    }

    @Test
    void shouldHandChainedWorkToWorkersWhenStreamingSenderExits() throws InterruptedException {
        ThreadedWorkQueue device = queue("device", 2);
        ThreadedWorkQueue peer = queue("peer", 1);
        blockWorkers(peer, 1);
        AtomicReference<Thread> deviceRunner = new AtomicReference<>();
        AtomicReference<String> peerRunner = new AtomicReference<>();
        Work rx = new Work("peer-rx", () -> peerRunner.set(Thread.currentThread().getName()));
        Work tx = new Work("device-tx", () -> {
            deviceRunner.set(Thread.currentThread());
            peer.queueWork(rx);
        });

        TaskWork.enterSend();
        TaskWork.exit(); // the first send of a stream
        TaskWork.enterSend();
        try {
            device.queueWork(tx);
        } finally {
            TaskWork.exit();
        }
        assertThat(deviceRunner.get()).as("what the call queued runs at its exit").isSameAs(Thread.currentThread());
        assertThat(peerRunner.get()).as("what that queued goes to the peer's worker").isNull();

        release.countDown();
        peer.flush();
        assertThat(peerRunner.get()).isEqualTo("peer/0");
    }

    @Test
    void shouldRunChainedWorkAtExitOfRequestAfterReceive() throws InterruptedException {
        ThreadedWorkQueue device = queue("device", 2);
        ThreadedWorkQueue peer = queue("peer", 2);
        blockWorkers(device, 2);
        blockWorkers(peer, 2);
        AtomicReference<Thread> peerRunner = new AtomicReference<>();
        Work rx = new Work("peer-rx", () -> peerRunner.set(Thread.currentThread()));
        Work tx = new Work("device-tx", () -> peer.queueWork(rx));

        TaskWork.enter();
        TaskWork.exit(); // a receive
        TaskWork.enterSend();
        try {
            device.queueWork(tx);
        } finally {
            TaskWork.exit();
        }
        assertThat(peerRunner.get()).isSameAs(Thread.currentThread());
    }

    @Test
    void shouldHandWorkToWorkersWhenOtherThreadsKeepQueueingItWhileItRunsInline() throws InterruptedException {
        ThreadedWorkQueue wq = queue("rerun", 2);
        blockWorkers(wq, 2);
        int total = TaskWork.MAX_RERUNS + 20;
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger byCaller = new AtomicInteger();
        Thread caller = Thread.currentThread();
        Work[] self = new Work[1];
        self[0] = new Work("busy", () -> {
            if (Thread.currentThread() == caller) {
                byCaller.incrementAndGet();
            }
            if (runs.incrementAndGet() < total) {
                // Another thread queues the work while it runs: its exit finds it running and asks the
                // runner for one more run.
                Thread other = new Thread(() -> {
                    TaskWork.enter();
                    try {
                        wq.queueWork(self[0]);
                    } finally {
                        TaskWork.exit();
                    }
                });
                other.start();
                joinUninterruptibly(other);
            }
        });

        TaskWork.enter();
        try {
            wq.queueWork(self[0]);
        } finally {
            TaskWork.exit();
        }
        assertThat(byCaller.get()).isEqualTo(TaskWork.MAX_RERUNS);
        assertThat(self[0].pending()).as("back on the list for a worker").isTrue();

        release.countDown();
        self[0].flush(); // waits for the requeued instance (false if a worker was already done with it)
        assertThat(runs.get()).as("the requeued instance ran").isGreaterThan(TaskWork.MAX_RERUNS);
        while (!wq.idle()) {
            wq.flush();
        }
        assertThat(runs.get()).isEqualTo(total);
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void shouldRejectExitWithoutEnter() {
        assertThatThrownBy(TaskWork::exit).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("without enter");
    }
}
