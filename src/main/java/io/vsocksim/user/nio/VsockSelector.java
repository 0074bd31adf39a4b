package io.vsocksim.user.nio;

import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLL_CLOEXEC;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_ADD;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_DEL;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_MOD;

import io.vsocksim.fs.EventFd;
import io.vsocksim.kernel.Clock;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Epoll;
import io.vsocksim.uapi.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.util.AbstractSet;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link Selector} on the simulator's epoll (the JDK 17 {@code EPollSelectorImpl}, step for step): an
 * epoll instance and an eventfd of the provider's process. A channel's key is an epoll item whose data is
 * the channel's descriptor; interest-set changes are queued and handed to {@code epoll_ctl} (ADD, MOD, or
 * DEL when the set becomes empty) at the start of the next selection; cancelled keys are deregistered
 * before and after each {@code epoll_wait}. {@link #wakeup()} writes 1 to the eventfd, which epoll watches
 * like any descriptor; the selection that sees it reads it back. Items are level-triggered, as the JDK's.
 *
 * <p>A thread interrupted while it selects returns at once with its interrupt status set (the JDK's
 * behaviour). In the simulator the interrupt also ends {@code epoll_wait} with EINTR, as a signal would;
 * the selection then collects, without waiting, the wake-up the interrupt made.
 */
final class VsockSelector extends AbstractSelector {
    /** How many events one {@code epoll_wait} returns at most (the JDK's {@code NUM_EPOLLEVENTS} bound). */
    private static final int NUM_EPOLLEVENTS = 1024;

    private final UserProcess proc;
    private final Clock clock;
    private final int epfd;
    private final int eventfd;
    private final Epoll.Event[] events = new Epoll.Event[NUM_EPOLLEVENTS];
    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> selectedKeys = new HashSet<>();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    private final Set<SelectionKey> publicSelectedKeys = new UngrowableSet(selectedKeys);
    /** Descriptor → its key (the JDK's {@code fdToKey}). Guarded by this (the selection lock). */
    private VsockSelectionKey[] fdToKey = new VsockSelectionKey[64];
    private final ArrayDeque<VsockSelectionKey> updateKeys = new ArrayDeque<>(); // guarded by itself
    private final Object interruptLock = new Object();
    private boolean interruptTriggered; // guarded by interruptLock
    private boolean inSelect; // guarded by this
    private final ByteBuffer eventBuf = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);

    VsockSelector(VsockSelectorProvider provider) throws IOException {
        super(provider);
        proc = provider.process();
        clock = SimInternals.kernel(proc.machine()).clock();
        epfd = ChannelFd.check(proc.epollCreate1(EPOLL_CLOEXEC));
        int efd = proc.eventfd(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
        if (efd < 0) {
            proc.close(epfd);
            throw NioErrors.ioError(-efd);
        }
        eventfd = efd;
        ChannelFd.check(proc.epollCtl(epfd, EPOLL_CTL_ADD, eventfd, new Epoll.Event(EPOLLIN, eventfd)));
    }

    private void ensureOpen() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
    }

    @Override
    public Set<SelectionKey> keys() {
        ensureOpen();
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        ensureOpen();
        return publicSelectedKeys;
    }

    // ---- registration ---------------------------------------------------------------------------------

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
        if (!(ch instanceof VsockSelectable) || ch.provider() != provider()) {
            throw new IllegalSelectorException();
        }
        ensureOpen();
        VsockSelectionKey k = new VsockSelectionKey(ch, this);
        k.attach(att);
        keys.add(k);
        try {
            k.interestOps(ops);
        } catch (ClosedSelectorException e) {
            keys.remove(k);
            k.cancel();
            throw e;
        }
        return k;
    }

    /** Queues {@code k}'s new interest set for the next selection ({@code setEventOps}). */
    void setEventOps(VsockSelectionKey k) {
        ensureOpen();
        synchronized (updateKeys) {
            updateKeys.addLast(k);
        }
    }

    /** Hands the queued interest sets to epoll ({@code processUpdateQueue}). */
    private void processUpdateQueue() throws IOException {
        assert Thread.holdsLock(this);
        synchronized (updateKeys) {
            VsockSelectionKey k;
            while ((k = updateKeys.pollFirst()) != null) {
                if (!k.isValid()) {
                    continue;
                }
                int fd = k.selectable().channelFd().fd();
                if (fd >= fdToKey.length) {
                    fdToKey = Arrays.copyOf(fdToKey, Math.max(fd + 1, 2 * fdToKey.length));
                }
                fdToKey[fd] = k;
                int newEvents = k.selectable().translateInterestOps(k.nioInterestOps());
                int registered = k.registeredEvents();
                if (newEvents == registered) {
                    continue;
                }
                int op = newEvents == 0 ? EPOLL_CTL_DEL : registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
                ChannelFd.check(proc.epollCtl(epfd, op, fd, new Epoll.Event(newEvents, fd)));
                k.registeredEvents(newEvents);
            }
        }
    }

    /** Deregisters the cancelled keys: out of epoll, the key sets and the channel ({@code processDeregisterQueue}). */
    private void processDeregisterQueue() throws IOException {
        assert Thread.holdsLock(this) && Thread.holdsLock(publicSelectedKeys);
        Set<SelectionKey> cks = cancelledKeys();
        synchronized (cks) {
            for (Iterator<SelectionKey> i = cks.iterator(); i.hasNext(); ) {
                VsockSelectionKey k = (VsockSelectionKey) i.next();
                i.remove();
                implDereg(k);
                selectedKeys.remove(k);
                keys.remove(k);
                deregister(k);
                killIfDone(k.channel());
            }
        }
    }

    private void implDereg(VsockSelectionKey k) throws IOException {
        int fd = k.selectable().channelFd().fd();
        if (fd < fdToKey.length && fdToKey[fd] == k) {
            fdToKey[fd] = null;
        }
        if (k.registeredEvents() != 0) {
            ChannelFd.check(proc.epollCtl(epfd, EPOLL_CTL_DEL, fd, null));
            k.registeredEvents(0);
        }
    }

    /** A closed channel whose last registration went closes its descriptor now ({@code SelChImpl.kill}). */
    private static void killIfDone(SelectableChannel ch) throws IOException {
        if (!ch.isOpen() && !ch.isRegistered()) {
            ((VsockSelectable) ch).kill();
        }
    }

    // ---- selection ------------------------------------------------------------------------------------

    @Override
    public int select(long timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return lockAndDoSelect(null, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select() throws IOException {
        return lockAndDoSelect(null, -1);
    }

    @Override
    public int selectNow() throws IOException {
        return lockAndDoSelect(null, 0);
    }

    @Override
    public int select(Consumer<SelectionKey> action, long timeout) throws IOException {
        Objects.requireNonNull(action);
        if (timeout < 0) {
            throw new IllegalArgumentException("Negative timeout");
        }
        return lockAndDoSelect(action, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return lockAndDoSelect(action, -1);
    }

    @Override
    public int selectNow(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return lockAndDoSelect(action, 0);
    }

    private int lockAndDoSelect(Consumer<SelectionKey> action, long timeout) throws IOException {
        synchronized (this) {
            ensureOpen();
            if (inSelect) {
                throw new IllegalStateException("select in progress");
            }
            inSelect = true;
            try {
                synchronized (publicSelectedKeys) {
                    return doSelect(action, timeout);
                }
            } finally {
                inSelect = false;
            }
        }
    }

    /** One selection: epoll_wait for up to {@code timeout} ms (-1: no limit) on the machine's clock. */
    private int doSelect(Consumer<SelectionKey> action, long timeout) throws IOException {
        long to = Math.min(timeout, Integer.MAX_VALUE); // epoll_wait takes an int
        boolean blocking = to != 0;
        processUpdateQueue();
        processDeregisterQueue();
        int n;
        boolean interrupted = false;
        try {
            if (blocking) {
                begin(); // an interrupt wakes the selector (AbstractSelector's hook calls wakeup())
            }
            for (;;) {
                long start = clock.nanoTime();
                n = proc.epollWait(epfd, events, events.length, to);
                if (n != -Errno.EINTR) {
                    break;
                }
                if (Thread.currentThread().isInterrupted()) {
                    interrupted = true;
                    n = 0;
                    break;
                }
                if (to > 0) {
                    to -= (clock.nanoTime() - start) / 1_000_000L;
                    if (to <= 0) {
                        n = 0;
                        break;
                    }
                }
            }
        } finally {
            if (blocking) {
                end();
            }
        }
        if (interrupted) {
            n = proc.epollWait(epfd, events, events.length, 0); // the wake-up the interrupt wrote (end() waited for it)
        }
        if (n < 0) {
            throw NioErrors.ioError(-n);
        }
        processDeregisterQueue();
        return processEvents(n, action);
    }

    private int processEvents(int n, Consumer<SelectionKey> action) throws IOException {
        boolean woken = false;
        int updated = 0;
        for (int i = 0; i < n; i++) {
            int fd = (int) events[i].data;
            if (fd == eventfd) {
                woken = true;
            } else if (fd < fdToKey.length && fdToKey[fd] != null) {
                updated += processReadyEvents(events[i].events, fdToKey[fd], action);
            }
        }
        if (woken) {
            clearInterrupt();
        }
        return updated;
    }

    /** Updates the key's ready set and the selected-key set, or runs {@code action} ({@code processReadyEvents}). */
    private int processReadyEvents(int rOps, VsockSelectionKey k, Consumer<SelectionKey> action) {
        if (action != null) {
            k.translateReadyOps(rOps, 0);
            if ((k.nioReadyOps() & k.nioInterestOps()) != 0) {
                action.accept(k);
                ensureOpen();
                return 1;
            }
            return 0;
        }
        if (selectedKeys.contains(k)) {
            return k.translateReadyOps(rOps, k.nioReadyOps()) ? 1 : 0;
        }
        k.translateReadyOps(rOps, 0);
        if ((k.nioReadyOps() & k.nioInterestOps()) != 0) {
            selectedKeys.add(k);
            return 1;
        }
        return 0;
    }

    // ---- wake-up and close ----------------------------------------------------------------------------

    @Override
    public Selector wakeup() {
        synchronized (interruptLock) {
            if (!interruptTriggered) {
                ByteBuffer one = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
                long rc = proc.write(eventfd, one);
                if (rc < 0 && rc != -Errno.EAGAIN) {
                    throw new IllegalStateException("eventfd write failed: " + Errno.name((int) -rc));
                }
                interruptTriggered = true;
            }
        }
        return this;
    }

    /** Reads the eventfd back to 0 so the next selection can block again. */
    private void clearInterrupt() {
        synchronized (interruptLock) {
            eventBuf.clear();
            proc.read(eventfd, eventBuf);
            interruptTriggered = false;
        }
    }

    @Override
    protected void implCloseSelector() throws IOException {
        wakeup();
        synchronized (this) {
            synchronized (interruptLock) {
                interruptTriggered = true; // later wake-ups write nothing
            }
            proc.close(epfd);
            proc.close(eventfd);
            synchronized (publicSelectedKeys) {
                for (Iterator<SelectionKey> i = keys.iterator(); i.hasNext(); ) {
                    VsockSelectionKey k = (VsockSelectionKey) i.next();
                    deregister(k);
                    killIfDone(k.channel());
                    selectedKeys.remove(k);
                    i.remove();
                }
            }
        }
    }

    /** The JDK's ungrowable key set: elements may be removed, never added. */
    private static final class UngrowableSet extends AbstractSet<SelectionKey> {
        private final Set<SelectionKey> s;

        UngrowableSet(Set<SelectionKey> s) {
            this.s = s;
        }

        @Override
        public int size() {
            return s.size();
        }

        @Override
        public boolean isEmpty() {
            return s.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return s.contains(o);
        }

        @Override
        public boolean remove(Object o) {
            return s.remove(o);
        }

        @Override
        public void clear() {
            s.clear();
        }

        @Override
        public Iterator<SelectionKey> iterator() {
            return s.iterator();
        }

        @Override
        public boolean add(SelectionKey k) {
            throw new UnsupportedOperationException();
        }
    }
}
