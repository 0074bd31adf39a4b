package io.vsocksim.user.nio;

import io.vsocksim.uapi.Poll;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectionKey;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A registration of a vsock channel with a {@link VsockSelector} (the JDK's {@code SelectionKeyImpl}). A new
 * interest set is queued for the selector and given to epoll at the next selection operation; a thread
 * already selecting is not disturbed (call {@link Selector#wakeup()} for that).
 */
final class VsockSelectionKey extends AbstractSelectionKey {
    private final SelectableChannel channel;
    private final VsockSelectable ch;
    private final VsockSelector selector;
    private final AtomicInteger interestOps = new AtomicInteger();
    private volatile int readyOps;
    /** The poll events epoll watches for this key now; 0 when the descriptor is not in the epoll set. */
    private int registeredEvents; // guarded by the selector's selection lock

    VsockSelectionKey(SelectableChannel channel, VsockSelector selector) {
        this.channel = channel;
        this.ch = (VsockSelectable) channel;
        this.selector = selector;
    }

    VsockSelectable selectable() {
        return ch;
    }

    @Override
    public SelectableChannel channel() {
        return channel;
    }

    @Override
    public Selector selector() {
        return selector;
    }

    private void ensureValid() {
        if (!isValid()) {
            throw new CancelledKeyException();
        }
    }

    @Override
    public int interestOps() {
        ensureValid();
        return interestOps.get();
    }

    @Override
    public SelectionKey interestOps(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) {
            throw new IllegalArgumentException();
        }
        if (interestOps.getAndSet(ops) != ops) {
            selector.setEventOps(this);
        }
        return this;
    }

    @Override
    public int interestOpsOr(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) {
            throw new IllegalArgumentException();
        }
        int old = interestOps.getAndUpdate(v -> v | ops);
        if ((old | ops) != old) {
            selector.setEventOps(this);
        }
        return old;
    }

    @Override
    public int interestOpsAnd(int ops) {
        ensureValid();
        int old = interestOps.getAndUpdate(v -> v & ops);
        if ((old & ops) != old) {
            selector.setEventOps(this);
        }
        return old;
    }

    @Override
    public int readyOps() {
        ensureValid();
        return readyOps;
    }

    /** The interest set without the validity check (the selector's view). */
    int nioInterestOps() {
        return interestOps.get();
    }

    int nioReadyOps() {
        return readyOps;
    }

    int registeredEvents() {
        return registeredEvents;
    }

    void registeredEvents(int events) {
        registeredEvents = events;
    }

    /**
     * Adds to (or, from 0, sets) the ready set what the poll events {@code events} make ready; returns
     * true if an operation became ready that was not before. As the JDK: POLLNVAL changes nothing, and
     * POLLERR or POLLHUP make every operation of the interest set ready, so that the program's next call
     * on the channel reports what happened.
     */
    boolean translateReadyOps(int events, int initialOps) {
        int intOps = interestOps.get();
        int oldOps = readyOps;
        if ((events & Poll.POLLNVAL) != 0) {
            return false;
        }
        int newOps = (events & (Poll.POLLERR | Poll.POLLHUP)) != 0 ? intOps
                : initialOps | ch.translateReadyOps(events, intOps);
        readyOps = newOps;
        return (newOps & ~oldOps) != 0;
    }
}
