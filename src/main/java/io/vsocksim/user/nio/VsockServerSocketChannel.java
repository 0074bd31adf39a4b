package io.vsocksim.user.nio;

import io.vsocksim.user.UserProcess;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.internal.JdkErrors;
import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link ServerSocketChannel} on a listening AF_VSOCK stream descriptor of the provider's process, with the
 * JDK 17 {@code ServerSocketChannelImpl}'s states and exceptions. {@link #bind} binds and listens (backlog
 * 50 when none is given). The descriptor is always O_NONBLOCK: a blocking {@link #accept} waits in poll(2)
 * for POLLIN together with the channel's wake-up eventfd, then accept4(2)s, so that closing the channel
 * wakes it ({@link ChannelFd}). Accepted channels are blocking, as the JDK's.
 */
final class VsockServerSocketChannel extends ServerSocketChannel implements VsockSelectable {
    private static final int ST_INUSE = 0;
    private static final int ST_CLOSING = 1;
    private static final int ST_CLOSED = 2;

    private final ChannelFd fd;
    private final UserProcess proc;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final Object stateLock = new Object();
    private volatile int state; // changed under stateLock
    private Thread thread; // the thread blocked in accept; guarded by stateLock
    private VsockAddress localAddress; // guarded by stateLock
    private ServerSocket socket; // the adaptor; guarded by stateLock

    VsockServerSocketChannel(VsockSelectorProvider provider) throws IOException {
        super(provider);
        fd = ChannelFd.open(provider.process(), true);
        proc = fd.process();
    }

    @Override
    public ChannelFd channelFd() {
        return fd;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress != null) {
                throw new AlreadyBoundException();
            }
            fd.bind(local == null ? VsockAddress.ofAnyPort() : VsockSocketChannel.checkAddress(local));
            ChannelFd.check(proc.listen(fd.fd(), backlog < 1 ? 50 : backlog));
            localAddress = fd.address(false);
        }
        return this;
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return localAddress;
        }
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        NioOptions.check(NioOptions.SERVER, name, value);
        synchronized (stateLock) {
            ensureOpen();
            NioOptions.set(fd, name, value);
            return this;
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        NioOptions.check(NioOptions.SERVER, name);
        synchronized (stateLock) {
            ensureOpen();
            return (T) NioOptions.get(fd, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return NioOptions.SERVER;
    }

    /** The channel as a {@link ServerSocket} ({@link VsockServerSocketAdaptor}), made on first use, as the JDK's. */
    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (socket == null) {
                socket = new VsockServerSocketAdaptor(this);
            }
            return socket;
        }
    }

    /** The bound address, null if not bound (kept after close), for the adaptor. */
    VsockAddress localAddress() {
        synchronized (stateLock) {
            return localAddress;
        }
    }

    @Override
    public SocketChannel accept() throws IOException {
        return accept(false, 0);
    }

    /**
     * The server socket adaptor's timed accept ({@code blockingAccept}): blocking mode only; at most {@code nanos},
     * then {@code SocketTimeoutException("Accept timed out")}, the channel still open.
     */
    SocketChannel blockingAccept(long nanos) throws IOException {
        return accept(true, nanos);
    }

    private SocketChannel accept(boolean adaptor, long nanos) throws IOException {
        long n = ChannelFd.UNAVAILABLE;
        acceptLock.lock();
        try {
            boolean blocking = isBlocking();
            if (adaptor && !blocking) {
                throw new IllegalBlockingModeException();
            }
            try {
                beginAccept(blocking);
                n = blocking ? fd.await(this, Poll.POLLIN, nanos, JdkErrors.ACCEPT_TIMED_OUT, this::acceptOnce) : acceptOnce();
            } finally {
                endAccept(blocking, n >= 0);
            }
        } finally {
            acceptLock.unlock();
        }
        return n >= 0 ? finishAccept((int) n) : null;
    }

    /** accept4(2): a descriptor, or the I/O status for EAGAIN/ECONNABORTED and EINTR. */
    private long acceptOnce() throws IOException {
        long r = ChannelFd.status(proc.accept4(fd.fd(), Sock.SOCK_CLOEXEC));
        if (r == -Errno.ECONNABORTED) {
            return ChannelFd.UNAVAILABLE;
        }
        if (r < 0 && !ChannelFd.okayToRetry(r)) {
            throw NioErrors.ioError((int) -r);
        }
        return r;
    }

    private SocketChannel finishAccept(int newfd) throws IOException {
        ChannelFd cfd = ChannelFd.adopt(proc, newfd);
        try {
            return new VsockSocketChannel((VsockSelectorProvider) provider(), cfd, cfd.address(false), cfd.address(true));
        } catch (IOException e) {
            cfd.close();
            throw e;
        }
    }

    private void beginAccept(boolean blocking) throws ClosedChannelException {
        if (blocking) {
            begin();
        }
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress == null) {
                throw new NotYetBoundException();
            }
            if (blocking) {
                thread = Thread.currentThread();
            }
        }
    }

    private void endAccept(boolean blocking, boolean completed) throws IOException {
        if (blocking) {
            synchronized (stateLock) {
                thread = null;
                if (state == ST_CLOSING) {
                    tryClose();
                }
            }
            end(completed);
        }
    }

    @Override
    protected void implConfigureBlocking(boolean block) throws IOException {
        acceptLock.lock();
        try {
            synchronized (stateLock) {
                ensureOpen(); // the descriptor stays O_NONBLOCK: blocking accepts wait in poll
            }
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
        assert !isOpen();
        boolean blocking;
        synchronized (stateLock) {
            state = ST_CLOSING;
            blocking = isBlocking();
            if (blocking && !tryClose()) {
                fd.wake(); // the JDK's preClose + signal: a blocked accept wakes and finds the channel closed
            }
        }
        if (!blocking) {
            acceptLock.lock(); // a non-blocking accept in progress finishes first
            acceptLock.unlock();
            synchronized (stateLock) {
                if (state == ST_CLOSING) {
                    tryClose();
                }
            }
        }
    }

    private boolean tryClose() throws IOException {
        assert Thread.holdsLock(stateLock) && state == ST_CLOSING;
        if (thread == null && !isRegistered()) {
            state = ST_CLOSED;
            fd.close();
            return true;
        }
        return false;
    }

    @Override
    public void kill() throws IOException {
        synchronized (stateLock) {
            if (state == ST_CLOSING) {
                tryClose();
            }
        }
    }

    /** OP_ACCEPT → POLLIN. */
    @Override
    public int translateInterestOps(int ops) {
        return (ops & SelectionKey.OP_ACCEPT) != 0 ? Poll.POLLIN : 0;
    }

    /** POLLIN → OP_ACCEPT. */
    @Override
    public int translateReadyOps(int events, int interestOps) {
        return (events & Poll.POLLIN) != 0 && (interestOps & SelectionKey.OP_ACCEPT) != 0 ? SelectionKey.OP_ACCEPT : 0;
    }

    @Override
    public String toString() {
        synchronized (stateLock) {
            return getClass().getSimpleName() + "[" + (isOpen() ? localAddress == null ? "unbound" : localAddress.toString()
                    : "closed") + "]";
        }
    }
}
