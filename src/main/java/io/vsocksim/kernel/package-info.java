/**
 * The per-machine execution context every higher layer runs on: time, deferred work, sleeping, and
 * the WARN_ONCE sink. Models {@code kernel/workqueue.c} with {@code include/linux/workqueue.h},
 * {@code include/linux/wait.h} (and {@code sk_wait_event()} from {@code include/net/sock.h}),
 * {@code kernel/time/jiffies.c} with {@code include/linux/jiffies.h} and {@code kernel/time/time.c},
 * and {@code WARN_ONCE}/{@code BUG_ON} from {@code include/asm-generic/bug.h}.
 *
 * <p><b>Two seams.</b> Protocol code schedules only through {@link io.vsocksim.kernel.WorkQueue} and
 * reads time only through {@link io.vsocksim.kernel.Clock}. Two run modes share all protocol code:
 * <ul>
 *   <li>threaded: {@link io.vsocksim.kernel.ThreadedWorkQueue} with a {@link io.vsocksim.kernel.RealClock}
 *       (the only class that reads system time);</li>
 *   <li>deterministic: {@link io.vsocksim.kernel.ManualWorkQueue}, run by the test with
 *       {@code runPending()}/{@code runUntilIdle()}, and a {@link io.vsocksim.kernel.VirtualClock} that
 *       moves only on {@code advance()}. A threaded queue on a virtual clock also works: its timers
 *       fire when the test advances time.</li>
 * </ul>
 *
 * <p><b>Contexts.</b> Kernel work (the guest driver's rx/tx/event/send-pkt work, each vhost worker, the
 * loopback work) runs on a per-machine queue, never a thread per socket; entry points that must run
 * there {@code assert queue.inContext()}. A threaded queue borrows its threads from
 * {@link io.vsocksim.kernel.Kworkers}, the worker threads every machine of the JVM shares (the kernel's
 * per-CPU worker pools), so threads do not grow with machines. User threads are "process context": they block only in
 * {@link io.vsocksim.kernel.WaitQueueHead}, with timeouts read from the machine's clock.
 *
 * <p><b>Work guarantees</b>, as in the kernel: the PENDING bit makes queueing idempotent until the work
 * starts; PENDING is cleared just before the function runs, so a queue during the run means one more
 * run; a work never runs concurrently with itself on its queue; a one-thread queue runs in order;
 * {@code cancel_work_sync()} keeps the work from being requeued while it waits for the running
 * instance; flushing or cancelling-sync a work from inside itself is refused (the kernel deadlocks).
 *
 * <p><b>Locking.</b> Each queue has one leaf lock ({@code pool->lock}); work functions run without it.
 * Each wait queue has one leaf lock; conditions are evaluated <em>without</em> it (wake-ups are
 * counted instead), so a condition may take socket and transport locks and a waker may call
 * {@code wakeUp()} while holding them. A {@link io.vsocksim.kernel.VirtualClock}'s monitor is taken
 * after a sleeper's lock and never held while taking one.
 *
 * <p><b>Logging</b> stands in for {@code printk}: {@link io.vsocksim.kernel.LoggerNames} names one SLF4J
 * logger per modelled kernel file; events a peer can cause log at DEBUG, packets at TRACE, and only
 * {@link io.vsocksim.kernel.KernelWarnings} logs at WARN ({@code docs/logging.md}).
 *
 * <p><b>Deviations</b> ({@code SIM:}):
 * <ul>
 *   <li>jiffies start at 0, not {@code INITIAL_JIFFIES}; they are 64-bit as on x86-64;</li>
 *   <li>wait timeouts are in clock nanoseconds; a relative timeout starts now rather than at the
 *       current tick, as {@code schedule_timeout()} would;</li>
 *   <li>a work stays with the first queue it was queued on;</li>
 *   <li>a Java interrupt models a pending signal ({@code -ERESTARTSYS}, interrupt status kept);</li>
 *   <li>a work function that throws is an oops: logged and rethrown on {@code close()} (threaded), or
 *       propagated to the test that ran it (manual);</li>
 *   <li>{@code close()} cancels armed timers before draining; {@code destroy_workqueue()} leaves that
 *       to the owners and warns.</li>
 * </ul>
 */
package io.vsocksim.kernel;
