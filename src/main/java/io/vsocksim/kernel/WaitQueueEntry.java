package io.vsocksim.kernel;

import io.vsocksim.Linux;

/**
 * An entry with a wake function on a {@link WaitQueueHead} ({@code struct wait_queue_entry}): a
 * poller of several queues ({@link PollWaiter}) or an epoll item.
 */
@Linux(file = "include/linux/wait.h", fn = "struct wait_queue_entry")
public interface WaitQueueEntry {
    /**
     * The wake function, called by {@link WaitQueueHead#wakeUp()} under the queue's lock: it may only
     * take locks of its own that never wait on the queue. Returns true if it woke someone (an
     * exclusive entry that returns true ends the wake-up, as {@code __wake_up_common} does).
     *
     * @param key the poll events the waker says became true ({@code Poll} bits), or 0 for "anything"
     */
    boolean wake(int key);
}
