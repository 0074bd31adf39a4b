package io.vsocksim.fs;

import static io.vsocksim.uapi.Epoll.EPOLLERR;
import static io.vsocksim.uapi.Epoll.EPOLLET;
import static io.vsocksim.uapi.Epoll.EPOLLEXCLUSIVE;
import static io.vsocksim.uapi.Epoll.EPOLLHUP;
import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLLONESHOT;
import static io.vsocksim.uapi.Epoll.EPOLLOUT;
import static io.vsocksim.uapi.Epoll.EPOLLWAKEUP;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EEXIST;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ELOOP;
import static io.vsocksim.uapi.Errno.ENOENT;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.WaitQueueEntry;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.Epoll;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An epoll instance ({@code struct eventpoll}, fs/eventpoll.c): a file of its own whose items watch
 * other files through an entry on each file's wait queue ({@code ep_poll_callback}), a ready list the
 * callbacks fill, and {@link #wait} that reports from it: level-triggered items go back on the list
 * while they stay ready, edge-triggered ones ({@code EPOLLET}) wait for the next wake-up, one-shot
 * ones ({@code EPOLLONESHOT}) are disabled until re-armed by {@code EPOLL_CTL_MOD}, and exclusive
 * ones ({@code EPOLLEXCLUSIVE}) wake only one of the instances waiting on the same file.
 *
 * <p>Locks, as the kernel's: {@link #mtx} ({@code ep->mtx}) serialises ctl and wait and is held while
 * files are polled; {@link #lock} ({@code ep->lock}) guards the ready list and is the only lock a
 * callback takes, under the watched file's wait-queue lock. No file is polled under {@link #lock}.
 *
 * <p>An epoll file can itself be watched (by poll, select or another epoll instance): it is readable
 * while an item on its ready list is really ready ({@code ep_eventpoll_poll}), and its own wait queue
 * ({@code ep->poll_wait}) is woken when an item becomes ready. Nesting is checked as the kernel does:
 * an instance cannot watch itself, a cycle or a chain deeper than {@link #EP_MAX_NESTS} is ELOOP.
 *
 * <p>SIM: an item is removed once its file is released, found lazily by ctl and wait (the kernel
 * removes it in {@code eventpoll_release} at the file's last {@code fput}).
 */
@Linux(file = "fs/eventpoll.c", fn = "struct eventpoll")
public final class EventPoll extends AnonInodeFile {
    /** Bits that are not events ({@code EP_PRIVATE_BITS}). */
    static final int EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
    /** What EPOLLEXCLUSIVE may be combined with ({@code EPOLLEXCLUSIVE_OK_BITS}). */
    static final int EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET
            | EPOLLEXCLUSIVE;

    /** {@code EP_MAX_NESTS}: how deep epoll instances may watch one another. */
    public static final int EP_MAX_NESTS = 4;
    /** {@code epnested_mutex}: one nesting check at a time, as the kernel's. */
    private static final Object EPNESTED = new Object();

    /** {@code ep->poll_wait}: who polls this epoll file (poll, select, an enclosing instance). */
    private final WaitQueueHead pollWait;
    /** {@code ep->refs}: the instances with an item on this epoll file. Guarded by EPNESTED. */
    private final java.util.Set<EventPoll> watchedBy = new java.util.HashSet<>();
    private final Clock clock;
    private final ReentrantLock mtx = new Mutex();
    private final ReentrantLock lock = new Mutex();
    private final Condition woken = lock.newCondition();
    /** The watched (fd, file) pairs, in insertion order. Guarded by mtx. */
    private final Map<Key, Item> items = new LinkedHashMap<>();
    /** {@code rdllist}. Guarded by lock. */
    private final ArrayDeque<Item> ready = new ArrayDeque<>();
    /** Threads in {@link #wait}. Guarded by lock. */
    private int waiters;

    private record Key(int fd, OpenFile file) {
    }

    /** {@code struct epitem}: one watched file and its wait-queue entry. */
    private final class Item implements WaitQueueEntry {
        final Key key;
        final WaitQueueHead queue;
        int events; // guarded by lock (read by the callback)
        long data;
        boolean onReady; // guarded by lock

        Item(Key key, WaitQueueHead queue, int events, long data) {
            this.key = key;
            this.queue = queue;
            this.events = events;
            this.data = data;
        }

        /** {@code ep_poll_callback}. */
        @Linux(file = "fs/eventpoll.c", fn = "ep_poll_callback")
        @Override
        public boolean wake(int key) {
            boolean someone;
            lock.lock();
            try {
                if ((events & ~EP_PRIVATE_BITS) == 0) {
                    return false; // disabled one-shot item
                }
                if (key != 0 && (key & events) == 0) {
                    return false; // not an event this item watches
                }
                if (!onReady) {
                    ready.add(this);
                    onReady = true;
                }
                someone = waiters > 0;
                if (someone) {
                    clock.signalAll(woken);
                }
            } finally {
                lock.unlock();
            }
            pollSafewake();
            // An exclusive item counts as having woken someone only if a waiter was there.
            return (events & EPOLLEXCLUSIVE) == 0 || someone;
        }
    }

    /** epoll_create1(2): a new epoll descriptor in {@code files}, EINVAL for flags other than EPOLL_CLOEXEC, EMFILE. */
    @Linux(file = "fs/eventpoll.c", fn = "do_epoll_create")
    public static int create(FdTable files, int flags, Clock clock) {
        if ((flags & ~Epoll.EPOLL_CLOEXEC) != 0) {
            return -EINVAL;
        }
        return files.install(new EventPoll(clock), flags);
    }

    /**
     * epoll_ctl(2) on descriptors of {@code files}: 0 or {@code -errno} in the kernel's order: EFAULT for
     * a missing event with ADD or MOD, EBADF for either descriptor, EINVAL if {@code epfd} is no epoll
     * descriptor or is {@code fd}, then the instance's own rules.
     */
    @Linux(file = "fs/eventpoll.c", fn = "do_epoll_ctl")
    public static int ctl(FdTable files, int epfd, int op, int fd, Epoll.Event event) {
        if ((op == Epoll.EPOLL_CTL_ADD || op == Epoll.EPOLL_CTL_MOD) && event == null) {
            return -EFAULT;
        }
        OpenFile ep = files.fget(epfd);
        if (ep == null) {
            return -EBADF;
        }
        try {
            OpenFile target = files.fget(fd);
            if (target == null) {
                return -EBADF;
            }
            try {
                if (!(ep instanceof EventPoll e) || ep == target) {
                    return -EINVAL;
                }
                return e.ctl(op, fd, target, event);
            } finally {
                target.putFile();
            }
        } finally {
            ep.putFile();
        }
    }

    /**
     * epoll_wait(2) on a descriptor of {@code files}: EINVAL for a bad {@code maxevents} (checked first),
     * EBADF, EINVAL for no epoll descriptor, then {@link #wait}.
     */
    @Linux(file = "fs/eventpoll.c", fn = "do_epoll_wait")
    public static int wait(FdTable files, int epfd, Epoll.Event[] events, int maxevents, long timeoutMs) {
        if (maxevents <= 0 || maxevents > Epoll.EP_MAX_EVENTS) {
            return -EINVAL;
        }
        OpenFile f = files.fget(epfd);
        if (f == null) {
            return -EBADF;
        }
        try {
            return f instanceof EventPoll e ? e.wait(events, maxevents, timeoutMs) : -EINVAL;
        } finally {
            f.putFile();
        }
    }

    /** epoll_create1(2)'s instance, measuring its timeouts on {@code clock}. */
    public EventPoll(Clock clock) {
        super(0);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.pollWait = new WaitQueueHead(clock);
    }

    /**
     * {@code ep_poll_safewake}: tells whoever polls this epoll file that it may have become readable,
     * outside {@link #lock} (the pollers take their own locks).
     */
    @Linux(file = "fs/eventpoll.c", fn = "ep_poll_safewake")
    private void pollSafewake() {
        if (pollWait.active()) {
            pollWait.wakeUp(EPOLLIN | io.vsocksim.uapi.Epoll.EPOLLRDNORM);
        }
    }

    /**
     * The rest of {@link #ctl(FdTable, int, int, int, Epoll.Event) do_epoll_ctl} once both files are
     * known: {@code targetFd} and its {@code target} file (the caller holds a reference). Returns 0 or
     * {@code -errno}: EINVAL for a bad op or flag combination, EEXIST for a second ADD, ENOENT for
     * DEL/MOD of an item that is not there.
     */
    private int ctl(int op, int targetFd, OpenFile target, Epoll.Event event) {
        if (target == this) {
            return -EINVAL;
        }
        int ev = event == null ? 0 : event.events;
        boolean hasEvent = op == Epoll.EPOLL_CTL_ADD || op == Epoll.EPOLL_CTL_MOD;
        if (hasEvent && (ev & EPOLLEXCLUSIVE) != 0) {
            if (op == Epoll.EPOLL_CTL_MOD || target instanceof EventPoll
                    || (ev & ~EPOLLEXCLUSIVE_OK_BITS) != 0) {
                return -EINVAL; // no nested exclusive wake-ups
            }
        }
        if (op == Epoll.EPOLL_CTL_ADD && target instanceof EventPoll inner) {
            synchronized (EPNESTED) {
                if (loopCheck(inner) != 0) {
                    return -ELOOP;
                }
                int r = ctlLocked(op, targetFd, target, event, ev);
                if (r == 0) {
                    inner.watchedBy.add(this);
                }
                return r;
            }
        }
        return ctlLocked(op, targetFd, target, event, ev);
    }

    /**
     * {@code ep_loop_check}: -1 if watching {@code to} would close a cycle back to this instance or make
     * a chain of more than {@link #EP_MAX_NESTS} instances, counted down from {@code to} and up from here.
     */
    @Linux(file = "fs/eventpoll.c", fn = "ep_loop_check")
    private int loopCheck(EventPoll to) {
        int depth = to.depthDown(this, 0);
        if (depth > EP_MAX_NESTS) {
            return -1;
        }
        return depth + 1 + depthUp(0) > EP_MAX_NESTS ? -1 : 0;
    }

    /** {@code ep_loop_check_proc}: the deepest chain of epoll files below this one; more than the limit for a cycle. */
    @Linux(file = "fs/eventpoll.c", fn = "ep_loop_check_proc")
    private int depthDown(EventPoll insertingInto, int depth) {
        int result = 0;
        mtx.lock();
        try {
            for (Item it : items.values()) {
                if (it.key.file instanceof EventPoll visit) {
                    result = visit == insertingInto || depth > EP_MAX_NESTS ? EP_MAX_NESTS + 1
                            : Math.max(result, visit.depthDown(insertingInto, depth + 1) + 1);
                    if (result > EP_MAX_NESTS) {
                        break;
                    }
                }
            }
        } finally {
            mtx.unlock();
        }
        return result;
    }

    /** {@code ep_get_upwards_depth_proc}: the longest chain of instances watching this one. */
    @Linux(file = "fs/eventpoll.c", fn = "ep_get_upwards_depth_proc")
    private int depthUp(int depth) {
        int result = 0;
        for (EventPoll outer : watchedBy) {
            result = Math.max(result, depth > EP_MAX_NESTS ? EP_MAX_NESTS + 1 : outer.depthUp(depth + 1) + 1);
        }
        return result;
    }

    /** do_epoll_ctl's switch on {@code op}, under {@code ep->mtx}. */
    private int ctlLocked(int op, int targetFd, OpenFile target, Epoll.Event event, int ev) {
        mtx.lock();
        try {
            dropReleasedLocked();
            Key key = new Key(targetFd, target);
            Item it = items.get(key);
            switch (op) {
                case Epoll.EPOLL_CTL_ADD:
                    if (it != null) {
                        return -EEXIST;
                    }
                    insertLocked(key, target, ev | EPOLLERR | EPOLLHUP, event.data);
                    return 0;
                case Epoll.EPOLL_CTL_DEL:
                    if (it == null) {
                        return -ENOENT;
                    }
                    removeLocked(it);
                    return 0;
                case Epoll.EPOLL_CTL_MOD:
                    if (it == null) {
                        return -ENOENT;
                    }
                    if ((it.events & EPOLLEXCLUSIVE) != 0) {
                        return -EINVAL;
                    }
                    modifyLocked(it, target, ev | EPOLLERR | EPOLLHUP, event.data);
                    return 0;
                default:
                    return -EINVAL;
            }
        } finally {
            mtx.unlock();
        }
    }

    /** {@code ep_insert}: registers on the file's wait queue, then puts it on the list if ready now. */
    @Linux(file = "fs/eventpoll.c", fn = "ep_insert")
    private void insertLocked(Key key, OpenFile target, int events, long data) {
        Item it = new Item(key, target.fileWaitQueue(), events, data);
        items.put(key, it);
        it.queue.addEntry(it, (events & EPOLLEXCLUSIVE) != 0);
        if ((target.filePoll() & events) != 0) {
            readyNow(it);
        }
    }

    /** {@code ep_modify}: new events and data, then a fresh readiness check. */
    @Linux(file = "fs/eventpoll.c", fn = "ep_modify")
    private void modifyLocked(Item it, OpenFile target, int events, long data) {
        lock.lock();
        try {
            it.events = events;
            it.data = data;
        } finally {
            lock.unlock();
        }
        if ((target.filePoll() & events) != 0) {
            readyNow(it);
        }
    }

    private void readyNow(Item it) {
        lock.lock();
        try {
            if (!it.onReady) {
                ready.add(it);
                it.onReady = true;
            }
            if (waiters > 0) {
                clock.signalAll(woken);
            }
        } finally {
            lock.unlock();
        }
        pollSafewake();
    }

    /** {@code ep_remove}. */
    private void removeLocked(Item it) {
        unwatch(it);
        it.queue.removeEntry(it);
        items.remove(it.key);
        lock.lock();
        try {
            if (it.onReady) {
                ready.remove(it);
                it.onReady = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /** An item on another epoll file no longer links this instance above it. */
    private void unwatch(Item it) {
        if (it.key.file instanceof EventPoll inner) {
            synchronized (EPNESTED) {
                inner.watchedBy.remove(this);
            }
        }
    }

    /** Items whose file was released (its last reference gone): {@code eventpoll_release}. */
    private void dropReleasedLocked() {
        items.values().removeIf(it -> {
            if (it.key.file.tryGetFile()) {
                it.key.file.putFile();
                return false;
            }
            unwatch(it);
            it.queue.removeEntry(it);
            lock.lock();
            try {
                ready.remove(it);
                it.onReady = false;
            } finally {
                lock.unlock();
            }
            return true;
        });
    }

    /**
     * epoll_wait(2): fills up to {@code maxevents} of {@code out} and returns how many, 0 on timeout,
     * or {@code -errno}: EINVAL for {@code maxevents <= 0} or above {@link Epoll#EP_MAX_EVENTS},
     * EINTR if interrupted (epoll_wait is never restarted). {@code timeoutMs < 0} waits forever.
     */
    @Linux(file = "fs/eventpoll.c", fn = "ep_poll")
    @Linux(file = "fs/eventpoll.c", fn = "ep_send_events")
    public int wait(Epoll.Event[] out, int maxevents, long timeoutMs) {
        if (maxevents <= 0 || maxevents > Epoll.EP_MAX_EVENTS || maxevents > out.length) {
            return -EINVAL;
        }
        long deadline = timeoutMs < 0 || timeoutMs > Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE
                : Clock.deadline(clock.nanoTime(), timeoutMs * 1_000_000L);
        for (;;) {
            int n = sendEvents(out, maxevents);
            if (n != 0 || clock.nanoTime() >= deadline || timeoutMs == 0) {
                return n;
            }
            if (Thread.currentThread().isInterrupted()) {
                return -EINTR;
            }
            lock.lock();
            try {
                if (ready.isEmpty()) {
                    waiters++;
                    try {
                        clock.awaitUntil(lock, woken, deadline);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // stays pending, as a signal does
                        return -EINTR;
                    } finally {
                        waiters--;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Reports the ready items that are still ready, re-queueing level-triggered ones at the tail. */
    private int sendEvents(Epoll.Event[] out, int maxevents) {
        mtx.lock();
        try {
            dropReleasedLocked();
            int n = 0;
            int scan;
            lock.lock();
            try {
                scan = ready.size();
            } finally {
                lock.unlock();
            }
            for (; scan > 0 && n < maxevents; scan--) {
                Item it;
                int events;
                lock.lock();
                try {
                    it = ready.poll();
                    if (it == null) {
                        break;
                    }
                    it.onReady = false;
                    events = it.events;
                } finally {
                    lock.unlock();
                }
                int revents = it.key.file.filePoll() & events; // outside ep->lock: the file takes its own
                if (revents == 0) {
                    continue;
                }
                if (out[n] == null) {
                    out[n] = new Epoll.Event();
                }
                out[n].events = revents;
                out[n].data = it.data;
                n++;
                lock.lock();
                try {
                    if ((events & EPOLLONESHOT) != 0) {
                        it.events &= EP_PRIVATE_BITS; // disabled until EPOLL_CTL_MOD
                    } else if ((events & EPOLLET) == 0 && !it.onReady) {
                        ready.add(it); // level-triggered: reported again while it stays ready
                        it.onReady = true;
                    }
                } finally {
                    lock.unlock();
                }
            }
            return n;
        } finally {
            mtx.unlock();
        }
    }

    /** Items watched now (diagnostics and tests). */
    public int size() {
        mtx.lock();
        try {
            dropReleasedLocked();
            return items.size();
        } finally {
            mtx.unlock();
        }
    }

    // ---- the epoll file itself ------------------------------------------------------------------------

    /** The last reference releases every item ({@code ep_free}). */
    @Override
    void release() {
        mtx.lock();
        try {
            for (Item it : items.values().toArray(new Item[0])) {
                removeLocked(it);
            }
        } finally {
            mtx.unlock();
        }
    }

    /**
     * {@code ep_eventpoll_poll}: readable when an item on the ready list is really ready (its file,
     * polled now, has an event it watches); items that are not are taken off the list, as the kernel
     * does. A nested epoll file is polled the same way, one level down.
     */
    @Linux(file = "fs/eventpoll.c", fn = "__ep_eventpoll_poll")
    @Override
    public int filePoll() {
        mtx.lock();
        try {
            Item[] scan;
            lock.lock();
            try {
                scan = ready.toArray(new Item[0]);
            } finally {
                lock.unlock();
            }
            for (Item it : scan) {
                int events;
                lock.lock();
                try {
                    events = it.events;
                } finally {
                    lock.unlock();
                }
                if (it.key.file.tryGetFile()) {
                    try {
                        if ((it.key.file.filePoll() & events) != 0) {
                            return EPOLLIN | io.vsocksim.uapi.Epoll.EPOLLRDNORM;
                        }
                    } finally {
                        it.key.file.putFile();
                    }
                }
                lock.lock();
                try {
                    if (ready.remove(it)) {
                        it.onReady = false;
                    }
                } finally {
                    lock.unlock();
                }
            }
            return 0;
        } finally {
            mtx.unlock();
        }
    }

    /** {@code ep->poll_wait}: woken when an item becomes ready. */
    @Override
    public WaitQueueHead fileWaitQueue() {
        return pollWait;
    }
}
