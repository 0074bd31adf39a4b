package io.vsocksim.kernel;

import static io.vsocksim.testing.Latches.awaitUninterruptibly;
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

    /** A work that records the name of the thread that ran it and opens {@code ran}. */
    private static Work recording(String name, AtomicReference<String> runner, CountDownLatch ran) {
        return new Work(name, () -> {
            runner.set(Thread.currentThread().getName());
            ran.countDown();
        });
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

        TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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
        ThreadedWorkQueue wq = queue("machine", 2);
        blockWorkers(wq, 2);
        AtomicReference<Thread> deviceRunner = new AtomicReference<>();
        AtomicReference<String> peerRunner = new AtomicReference<>();
        Work rx = new Work("peer-rx", () -> peerRunner.set(Thread.currentThread().getName()));
        Work tx = new Work("device-tx", () -> {
            deviceRunner.set(Thread.currentThread());
            wq.queueWork(rx);
        });

        TaskWork.enterSend(wq);
        TaskWork.exit(); // the first send of a stream
        TaskWork.enterSend(wq);
        try {
            wq.queueWork(tx);
        } finally {
            TaskWork.exit();
        }
        assertThat(deviceRunner.get()).as("what the call queued runs at its exit").isSameAs(Thread.currentThread());
        assertThat(peerRunner.get()).as("what that queued goes to a worker").isNull();

        release.countDown();
        wq.flush();
        assertThat(peerRunner.get()).startsWith("machine/");
    }

    @Test
    void shouldRunChainedWorkAtExitOfRequestAfterReceive() throws InterruptedException {
        ThreadedWorkQueue wq = queue("machine", 2);
        blockWorkers(wq, 2);
        AtomicReference<Thread> peerRunner = new AtomicReference<>();
        Work rx = new Work("peer-rx", () -> peerRunner.set(Thread.currentThread()));
        Work tx = new Work("device-tx", () -> wq.queueWork(rx));

        TaskWork.enter(wq);
        TaskWork.exit(); // a receive
        TaskWork.enterSend(wq);
        try {
            wq.queueWork(tx);
        } finally {
            TaskWork.exit();
        }
        assertThat(peerRunner.get()).isSameAs(Thread.currentThread());
    }

    @Test
    void shouldWakeTheOtherMachinesWorkerForWorkQueuedOnItInsideAScope() throws InterruptedException {
        ThreadedWorkQueue host = queue("host", 2);
        ThreadedWorkQueue guest = queue("guest", 1);
        AtomicReference<String> runner = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        Work irq = recording("guest-rx", runner, ran);

        TaskWork.enter(host);
        try {
            guest.queueWork(irq);
        } finally {
            TaskWork.exit();
        }
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.get()).as("a host call never runs guest code").isEqualTo("guest/0");
    }

    /**
     * A host call whose own work raises an interrupt in a guest whose RX lock another thread holds: the
     * call returns at once (it never waits on a guest lock), and the guest's work runs on the guest's
     * worker once the lock is free.
     */
    @Test
    void shouldNotWaitOnAnotherMachinesLockWhenItsOwnWorkInterruptsThatMachine() throws InterruptedException {
        ThreadedWorkQueue host = queue("host", 2);
        ThreadedWorkQueue guest = queue("guest", 1);
        blockWorkers(host, 2);
        ReentrantLock rxLock = new ReentrantLock();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch unlock = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            rxLock.lock();
            try {
                held.countDown();
                awaitUninterruptibly(unlock);
            } finally {
                rxLock.unlock();
            }
        }, "rx-lock-holder");
        holder.start();
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicReference<Thread> vhostRunner = new AtomicReference<>();
        AtomicReference<String> rxRunner = new AtomicReference<>();
        Work rxWork = new Work("guest-rx", () -> {
            rxLock.lock();
            try {
                rxRunner.set(Thread.currentThread().getName());
            } finally {
                rxLock.unlock();
            }
        });
        Work vhostWork = new Work("vhost-rx", () -> {
            vhostRunner.set(Thread.currentThread());
            guest.queueWork(rxWork); // the call eventfd
        });

        AtomicReference<Thread> caller = new AtomicReference<>();
        CountDownLatch returned = new CountDownLatch(1);
        Thread call = new Thread(() -> {
            caller.set(Thread.currentThread());
            TaskWork.enter(host);
            try {
                host.queueWork(vhostWork);
            } finally {
                TaskWork.exit(); // with the lock still held: returns only if it did not run guest-rx
            }
            returned.countDown();
        }, "host-syscall");
        call.start();
        boolean callReturned = returned.await(10, TimeUnit.SECONDS); // a bound on a wait, not a timing assert
        unlock.countDown(); // frees a call that wrongly waits on the guest's lock, so a failure cannot hang
        joinUninterruptibly(call);
        joinUninterruptibly(holder);
        assertThat(callReturned).as("the host call returned while the guest's lock was held").isTrue();
        assertThat(vhostRunner.get()).as("the host's own work ran at the call's exit").isSameAs(caller.get());
        assertThat(rxRunner.get()).as("guest-rx ran on the guest's worker").isNotEqualTo("host-syscall");
        rxWork.flush();
        assertThat(rxRunner.get()).isEqualTo("guest/0");
    }

    @Test
    void shouldNotRunAnotherMachinesWorkChainedInAWorker() throws InterruptedException {
        ThreadedWorkQueue host = queue("host", 1);
        ThreadedWorkQueue guest = queue("guest", 1);
        AtomicReference<String> runner = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        Work irq = recording("guest-rx", runner, ran);
        host.queueWork(new Work("vhost", () -> guest.queueWork(irq)));
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(runner.get()).isEqualTo("guest/0");
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
                    TaskWork.enter(wq);
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

        TaskWork.enter(wq);
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
