package io.vsocksim.user.nio;

import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.SHUT_RD;
import static io.vsocksim.uapi.Sock.SHUT_RDWR;
import static io.vsocksim.uapi.Sock.SHUT_WR;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_ERROR;

import io.vsocksim.net.Iovec;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.user.UserProcess;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.internal.JdkErrors;
import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link SocketChannel} on an AF_VSOCK stream descriptor of the provider's process, with the JDK 17
 * {@code SocketChannelImpl}'s states, locks, checks and exceptions.
 *
 * <p>In blocking mode reads and writes block in the kernel (the descriptor is blocking), as the JDK's do.
 * Writes pass MSG_NOSIGNAL (the JVM never dies of SIGPIPE). Until the connection is up the descriptor is
 * O_NONBLOCK, so connect(2) returns EINPROGRESS and a blocking {@link #connect}/{@link #finishConnect}
 * waits in poll(2) for POLLOUT, then reads SO_ERROR, as the JDK's {@code Net.pollConnect} does.
 *
 * <p>Close while another thread is blocked: the JDK dup2's a dead socket over the descriptor and signals the
 * thread. Here close shuts the connection down (SHUT_RDWR wakes a blocked recv, which sees the end of the
 * stream, and a blocked send, which fails with EPIPE) and wakes a thread waiting for a connection; that thread
 * then finds the channel closed and throws {@link AsynchronousCloseException}. The descriptor itself is closed
 * by the last thread to leave, or, while a selector still holds a key, when the selector deregisters it.
 */
final class VsockSocketChannel extends SocketChannel implements VsockSelectable {
    private static final int ST_UNCONNECTED = 0;
    private static final int ST_CONNECTIONPENDING = 1;
    private static final int ST_CONNECTED = 2;
    private static final int ST_CLOSING = 3;
    private static final int ST_CLOSED = 4;

    private final ChannelFd fd;
    private final UserProcess proc;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object stateLock = new Object();
    private volatile int state; // changed under stateLock
    private Thread readerThread; // guarded by stateLock
    private Thread writerThread; // guarded by stateLock
    private volatile boolean isInputClosed;
    private volatile boolean isOutputClosed;
    private boolean connectionReset; // guarded by readLock
    /** readv's and writev's msghdr, reused (guarded by readLock and writeLock); iov holds no buffer between calls. */
    private final UserMsghdr readMsg = UserMsghdr.of(new ByteBuffer[8]);
    private final UserMsghdr writeMsg = UserMsghdr.of(new ByteBuffer[8]);
    private VsockAddress localAddress; // guarded by stateLock
    private VsockAddress remoteAddress; // guarded by stateLock
    private Socket socket; // the adaptor; guarded by stateLock

    /** A new, unconnected channel. */
    VsockSocketChannel(VsockSelectorProvider provider) throws IOException {
        super(provider);
        fd = ChannelFd.open(provider.process(), true);
        proc = fd.process();
    }

    /** An accepted connection: connected, blocking. */
    VsockSocketChannel(VsockSelectorProvider provider, ChannelFd fd, VsockAddress local, VsockAddress remote) {
        super(provider);
        this.fd = fd;
        this.proc = fd.process();
        this.state = ST_CONNECTED;
        this.localAddress = local;
        this.remoteAddress = remote;
    }

    @Override
    public ChannelFd channelFd() {
        return fd;
    }

    static VsockAddress checkAddress(SocketAddress sa) {
        Objects.requireNonNull(sa);
        if (!(sa instanceof VsockAddress a)) {
            throw new UnsupportedAddressTypeException();
        }
        return a;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    private void ensureOpenAndConnected() throws ClosedChannelException {
        int s = state;
        if (s < ST_CONNECTED) {
            throw new NotYetConnectedException();
        } else if (s > ST_CONNECTED) {
            throw new ClosedChannelException();
        }
    }

    // ---- addresses and options ------------------------------------------------------------------------

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        readLock.lock();
        try {
            writeLock.lock();
            try {
                synchronized (stateLock) {
                    ensureOpen();
                    if (state == ST_CONNECTIONPENDING) {
                        throw new ConnectionPendingException();
                    }
                    if (localAddress != null) {
                        throw new AlreadyBoundException();
                    }
                    fd.bind(local == null ? VsockAddress.ofAnyPort() : checkAddress(local));
                    localAddress = fd.address(false);
                }
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
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
    public SocketAddress getRemoteAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return remoteAddress;
        }
    }

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        NioOptions.check(NioOptions.SOCKET, name, value);
        synchronized (stateLock) {
            ensureOpen();
            NioOptions.set(fd, name, value);
            return this;
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        NioOptions.check(NioOptions.SOCKET, name);
        synchronized (stateLock) {
            ensureOpen();
            return (T) NioOptions.get(fd, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return NioOptions.SOCKET;
    }

    /** The channel as a {@link Socket} ({@link VsockSocketAdaptor}), made on first use, as the JDK's. */
    @Override
    public Socket socket() {
        synchronized (stateLock) {
            if (socket == null) {
                socket = VsockSocketAdaptor.create(this);
            }
            return socket;
        }
    }

    /** Options past {@link #supportedOptions()} that only the socket adaptor's legacy setters use. */
    void setAdaptorOption(SocketOption<?> name, Object value) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            NioOptions.set(fd, name, value);
        }
    }

    Object getAdaptorOption(SocketOption<?> name) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return NioOptions.get(fd, name);
        }
    }

    /** The local address, null if not bound (kept after close), for the adaptor. */
    VsockAddress localAddress() {
        synchronized (stateLock) {
            return localAddress;
        }
    }

    /** The remote address, null before connect (kept after close), for the adaptor. */
    VsockAddress remoteAddress() {
        synchronized (stateLock) {
            return remoteAddress;
        }
    }

    boolean isInputOpen() {
        return !isInputClosed;
    }

    boolean isOutputOpen() {
        return !isOutputClosed;
    }

    @Override
    public boolean isConnected() {
        return state == ST_CONNECTED;
    }

    @Override
    public boolean isConnectionPending() {
        return state == ST_CONNECTIONPENDING;
    }

    // ---- connect --------------------------------------------------------------------------------------

    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        return connect(checkAddress(remote), false, 0);
    }

    /**
     * The socket adaptor's connect ({@code blockingConnect}): blocking mode only, waiting at most {@code nanos}
     * (0: no limit) and then closing the channel with {@code SocketTimeoutException("Connect timed out")}.
     */
    void blockingConnect(SocketAddress remote, long nanos) throws IOException {
        connect(checkAddress(remote), true, nanos);
    }

    private boolean connect(VsockAddress sa, boolean adaptor, long nanos) throws IOException {
        try {
            readLock.lock();
            try {
                writeLock.lock();
                try {
                    boolean blocking = isBlocking();
                    if (adaptor && !blocking) {
                        throw new IllegalBlockingModeException();
                    }
                    boolean connected = false;
                    try {
                        beginConnect(blocking, sa);
                        int n = proc.connect(fd.fd(), sa.cid(), sa.port()); // O_NONBLOCK until connected
                        if (n == 0) {
                            connected = true;
                        } else if (n != -Errno.EINPROGRESS) {
                            throw NioErrors.socketError(-n);
                        } else if (blocking) {
                            connected = pollConnected(nanos);
                        }
                    } finally {
                        endConnect(blocking, connected);
                    }
                    return connected;
                } finally {
                    writeLock.unlock();
                }
            } finally {
                readLock.unlock();
            }
        } catch (IOException e) {
            close(); // a failed connect closes the channel, as the JDK's does
            throw e;
        }
    }

    @Override
    public boolean finishConnect() throws IOException {
        try {
            readLock.lock();
            try {
                writeLock.lock();
                try {
                    if (isConnected()) {
                        return true;
                    }
                    boolean blocking = isBlocking();
                    boolean connected = false;
                    try {
                        beginFinishConnect(blocking);
                        connected = blocking ? pollConnected(0) : pollConnectNow();
                    } finally {
                        endConnect(blocking, connected);
                    }
                    return connected;
                } finally {
                    writeLock.unlock();
                }
            } finally {
                readLock.unlock();
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * Blocking: waits for POLLOUT until the connection is up, fails, the channel is closed, or {@code nanos}
     * (0: no limit) pass ({@code finishTimedConnect}).
     */
    private boolean pollConnected(long nanos) throws IOException {
        long polled = fd.await(this, Poll.POLLOUT, nanos, JdkErrors.CONNECT_TIMED_OUT,
                () -> pollConnectNow() ? 1 : ChannelFd.UNAVAILABLE);
        return polled > 0 && isOpen();
    }

    /** {@code Net.pollConnectNow}: poll(POLLOUT, 0), then SO_ERROR; true once connected. */
    private boolean pollConnectNow() throws IOException {
        int ready = proc.poll(fd.fd(), Poll.POLLOUT, 0);
        if (ready == 0 || ready == -Errno.EINTR) {
            return false;
        }
        ChannelFd.check(ready);
        int err = fd.getInt(SOL_SOCKET, SO_ERROR);
        if (err != 0) {
            throw NioErrors.socketError(err);
        }
        return true;
    }

    private void beginConnect(boolean blocking, VsockAddress sa) throws ClosedChannelException {
        if (blocking) {
            begin();
        }
        synchronized (stateLock) {
            ensureOpen();
            if (state == ST_CONNECTED) {
                throw new AlreadyConnectedException();
            }
            if (state == ST_CONNECTIONPENDING) {
                throw new ConnectionPendingException();
            }
            state = ST_CONNECTIONPENDING;
            remoteAddress = sa;
            if (blocking) {
                readerThread = Thread.currentThread();
            }
        }
    }

    private void beginFinishConnect(boolean blocking) throws ClosedChannelException {
        if (blocking) {
            begin();
        }
        synchronized (stateLock) {
            ensureOpen();
            if (state != ST_CONNECTIONPENDING) {
                throw new NoConnectionPendingException();
            }
            if (blocking) {
                readerThread = Thread.currentThread();
            }
        }
    }

    private void endConnect(boolean blocking, boolean completed) throws IOException {
        endIo(blocking, false, completed);
        if (completed) {
            synchronized (stateLock) {
                if (state == ST_CONNECTIONPENDING) {
                    localAddress = fd.address(false);
                    fd.setNonBlocking(!isBlocking()); // from now on the descriptor follows the channel's mode
                    state = ST_CONNECTED;
                }
            }
        }
    }

    // ---- read and write -------------------------------------------------------------------------------

    @Override
    public int read(ByteBuffer buf) throws IOException {
        Objects.requireNonNull(buf);
        return (int) read(buf, null, 0, 0, false, 0);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        return read(null, dsts, offset, length, false, 0);
    }

    /**
     * The socket adaptor's {@code InputStream.read} ({@code blockingRead}): blocking mode only; with
     * {@code nanos > 0} (SO_TIMEOUT) at most that long, then {@code SocketTimeoutException("Read timed out")}.
     */
    int blockingRead(byte[] b, int off, int len, long nanos) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        return (int) read(ByteBuffer.wrap(b, off, len), null, 0, 0, true, nanos);
    }

    /**
     * read(2) into {@code buf}, or readv(2) into {@code dsts[offset, offset + length)}; for the socket adaptor
     * ({@code adaptor}) in blocking mode only, timed if {@code nanos > 0}.
     */
    private long read(ByteBuffer buf, ByteBuffer[] dsts, int offset, int length, boolean adaptor, long nanos)
            throws IOException {
        readLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            if (adaptor && !blocking) {
                throw new IllegalBlockingModeException();
            }
            long n = 0;
            try {
                beginIo(blocking, false);
                if (connectionReset) {
                    throw NioErrors.connectionReset();
                }
                if (isInputClosed) {
                    return -1;
                }
                if (nanos > 0) {
                    n = timedRead(buf, nanos);
                } else {
                    n = readOnce(buf, dsts, offset, length);
                    while (blocking && ChannelFd.okayToRetry(n) && isOpen()) {
                        if (n == ChannelFd.UNAVAILABLE) {
                            fd.park(Poll.POLLIN, 0);
                        }
                        n = readOnce(buf, dsts, offset, length);
                    }
                }
            } finally {
                endIo(blocking, false, n > 0);
                if (n <= 0 && isInputClosed) {
                    return -1; // shutdownInput or an asynchronous close: the end of the stream, as the JDK
                }
            }
            return ChannelFd.normalize(n);
        } finally {
            readLock.unlock();
        }
    }

    /** SO_TIMEOUT's read ({@code timedRead}): O_NONBLOCK while the thread parks for POLLIN at most {@code nanos}. */
    private long timedRead(ByteBuffer buf, long nanos) throws IOException {
        configureNonBlocking(true);
        try {
            return fd.await(this, Poll.POLLIN, nanos, JdkErrors.READ_TIMED_OUT, () -> readOnce(buf, null, 0, 0));
        } finally {
            configureNonBlocking(false);
        }
    }

    /** O_NONBLOCK on (the channel open) or off again (if still open) around a timed call ({@code lockedConfigureBlocking}). */
    private void configureNonBlocking(boolean on) throws IOException {
        synchronized (stateLock) {
            if (on) {
                ensureOpen();
            }
            if (isOpen()) {
                fd.setNonBlocking(on);
            }
        }
    }

    /**
     * The number of bytes that can be read without blocking, for the adaptor's {@code InputStream.available}: 0
     * once the input is shut down.
     */
    int available() throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            return isInputClosed ? 0 : fd.available();
        }
    }

    private long readOnce(ByteBuffer buf, ByteBuffer[] dsts, int offset, int length) throws IOException {
        long ret;
        if (buf != null) {
            checkWritable(buf);
            if (!buf.hasRemaining()) {
                return 0;
            }
            ret = proc.recv(fd.fd(), buf, 0);
            if (ret == 0) {
                return -1;
            }
        } else {
            if (!iovec(readMsg, dsts, offset, length, true)) {
                return 0;
            }
            try {
                ret = proc.recvmsg(fd.fd(), readMsg, 0);
            } finally {
                Arrays.fill(readMsg.iov, 0, readMsg.iovlen, null); // the caller's buffers are not kept
            }
            if (ret == 0) {
                return -1;
            }
        }
        ret = ChannelFd.status(ret);
        if (ret < 0 && !ChannelFd.okayToRetry(ret)) {
            if (NioErrors.isReset((int) -ret)) {
                connectionReset = true;
                throw NioErrors.connectionReset();
            }
            throw NioErrors.ioError((int) -ret);
        }
        return ret;
    }

    private static void checkWritable(ByteBuffer b) {
        if (b.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
    }

    /**
     * Fills the channel's {@code msg} with the buffers that have room (readv) or data (writev) left, at most
     * {@code IOV_MAX} of them as the JDK's {@code IOUtil} takes; false if there are none.
     */
    private static boolean iovec(UserMsghdr msg, ByteBuffer[] bufs, int offset, int length, boolean read) {
        int count = 0;
        ByteBuffer[] iov = msg.iov;
        for (int i = offset; i < offset + length && count < Iovec.UIO_MAXIOV; i++) {
            ByteBuffer b = Objects.requireNonNull(bufs[i]);
            if (read) {
                checkWritable(b);
            }
            if (b.hasRemaining()) {
                if (count == iov.length) {
                    iov = msg.iov = Arrays.copyOf(iov, Math.min(2 * count, Iovec.UIO_MAXIOV));
                }
                iov[count++] = b;
            }
        }
        msg.iovlen = count;
        return count > 0;
    }

    @Override
    public int write(ByteBuffer buf) throws IOException {
        Objects.requireNonNull(buf);
        return (int) write(buf, null, 0, 0, 0);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        return write(null, srcs, offset, length, 0);
    }

    /** send(2) of {@code buf}, or sendmsg(2) of {@code srcs[offset, offset + length)}, with MSG_NOSIGNAL and {@code flags}. */
    private long write(ByteBuffer buf, ByteBuffer[] srcs, int offset, int length, int flags) throws IOException {
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            long n = 0;
            try {
                beginIo(blocking, true);
                n = writeRetrying(blocking, buf, srcs, offset, length, flags);
            } finally {
                endIo(blocking, true, n > 0);
                if (n <= 0 && isOutputClosed) {
                    throw new AsynchronousCloseException();
                }
            }
            return ChannelFd.normalize(n);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * The socket adaptor's {@code OutputStream.write} ({@code blockingWriteFully}): blocking mode only; writes
     * until every byte is taken or the channel is closed.
     */
    void blockingWriteFully(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return;
        }
        ByteBuffer src = ByteBuffer.wrap(b, off, len);
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            if (!isBlocking()) {
                throw new IllegalBlockingModeException();
            }
            try {
                beginIo(true, true);
                while (src.hasRemaining() && isOpen()) {
                    writeRetrying(true, src, null, 0, 0, 0);
                }
            } finally {
                endIo(true, true, !src.hasRemaining());
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * The socket adaptor's {@code sendUrgentData}: send(2) of one byte with MSG_OOB, which af_vsock refuses
     * (EOPNOTSUPP: {@code IOException("Operation not supported")}, as the JDK's {@code Net.sendOOB} reports it).
     */
    int sendOutOfBandData(byte b) throws IOException {
        return (int) write(ByteBuffer.wrap(new byte[] {b}), null, 0, 0, Sock.MSG_OOB);
    }

    /** One write and, in blocking mode, the JDK's retries: after EINTR, and after EAGAIN once POLLOUT came. */
    private long writeRetrying(boolean blocking, ByteBuffer buf, ByteBuffer[] srcs, int offset, int length, int flags)
            throws IOException {
        long n = writeOnce(buf, srcs, offset, length, flags);
        while (blocking && ChannelFd.okayToRetry(n) && isOpen()) {
            if (n == ChannelFd.UNAVAILABLE) {
                fd.park(Poll.POLLOUT, 0);
            }
            n = writeOnce(buf, srcs, offset, length, flags);
        }
        return n;
    }

    private long writeOnce(ByteBuffer buf, ByteBuffer[] srcs, int offset, int length, int flags) throws IOException {
        long ret;
        if (buf != null) {
            if (!buf.hasRemaining()) {
                return 0;
            }
            ret = proc.send(fd.fd(), buf, MSG_NOSIGNAL | flags);
        } else {
            if (!iovec(writeMsg, srcs, offset, length, false)) {
                return 0;
            }
            try {
                ret = proc.sendmsg(fd.fd(), writeMsg, MSG_NOSIGNAL | flags);
            } finally {
                Arrays.fill(writeMsg.iov, 0, writeMsg.iovlen, null);
            }
        }
        ret = ChannelFd.status(ret);
        if (ret < 0 && !ChannelFd.okayToRetry(ret)) {
            throw NioErrors.ioError((int) -ret);
        }
        return ret;
    }

    /**
     * Before a blocking read ({@code write} false) or write: the JDK's interrupt hook, the state checks, and
     * the thread recorded so that close knows a call is blocked. A non-blocking call needs none of it, as in
     * the JDK's {@code beginRead}/{@code beginWrite}: close waits for it on the read or write lock, and a
     * write after shutdownOutput fails with EPIPE, which the caller turns into AsynchronousCloseException.
     */
    private void beginIo(boolean blocking, boolean write) throws ClosedChannelException {
        if (!blocking) {
            return;
        }
        begin();
        synchronized (stateLock) {
            ensureOpenAndConnected();
            if (write && isOutputClosed) {
                throw new ClosedChannelException();
            }
            if (write) {
                writerThread = Thread.currentThread();
            } else {
                readerThread = Thread.currentThread();
            }
        }
    }

    /** After a blocking call: the thread is gone; the last one out of a closing channel closes the descriptor. */
    private void endIo(boolean blocking, boolean write, boolean completed) throws AsynchronousCloseException {
        if (blocking) {
            synchronized (stateLock) {
                if (write) {
                    writerThread = null;
                } else {
                    readerThread = null;
                }
                if (state == ST_CLOSING) {
                    tryFinishClose();
                }
            }
            end(completed);
        }
    }

    // ---- shutdown, blocking mode, close ---------------------------------------------------------------

    @Override
    public SocketChannel shutdownInput() throws IOException {
        return shutdown(SHUT_RD);
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        return shutdown(SHUT_WR);
    }

    /** shutdown(2); a blocked reader or writer is woken by the socket's own state change. */
    private SocketChannel shutdown(int how) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!isConnected()) {
                throw new NotYetConnectedException();
            }
            if (how == SHUT_RD ? !isInputClosed : !isOutputClosed) {
                int rc = fd.shutdown(how);
                if (rc < 0 && rc != -Errno.ENOTCONN) { // the JDK ignores ENOTCONN (a reset connection)
                    throw NioErrors.socketError(-rc);
                }
                if (how == SHUT_RD) {
                    isInputClosed = true;
                } else {
                    isOutputClosed = true;
                }
            }
            return this;
        }
    }

    @Override
    protected void implConfigureBlocking(boolean block) throws IOException {
        readLock.lock();
        try {
            writeLock.lock();
            try {
                synchronized (stateLock) {
                    ensureOpen();
                    if (state == ST_CONNECTED) {
                        fd.setNonBlocking(!block);
                    }
                }
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
        assert !isOpen();
        if (isBlocking()) {
            synchronized (stateLock) {
                boolean connected = state == ST_CONNECTED;
                state = ST_CLOSING;
                if (!tryClose()) {
                    boolean blocked = readerThread != null || writerThread != null;
                    if (connected) {
                        // the JDK's preClose + signal: blocked calls wake and see the stream end
                        fd.shutdown(blocked ? SHUT_RDWR : SHUT_WR);
                    }
                    fd.wake();
                }
            }
        } else {
            boolean connected;
            synchronized (stateLock) {
                connected = state == ST_CONNECTED;
                state = ST_CLOSING;
            }
            readLock.lock(); // a non-blocking call in progress finishes first
            readLock.unlock();
            writeLock.lock();
            writeLock.unlock();
            synchronized (stateLock) {
                if (state == ST_CLOSING && !tryClose() && connected && isRegistered()) {
                    fd.shutdown(SHUT_WR); // the peer sees the end of the stream now, not at deregistration
                }
            }
        }
    }

    /** Closes the descriptor if no thread is in a call and no selector holds a key ({@code tryClose}). */
    private boolean tryClose() throws IOException {
        assert Thread.holdsLock(stateLock) && state == ST_CLOSING;
        if (readerThread == null && writerThread == null && !isRegistered()) {
            state = ST_CLOSED;
            fd.close();
            return true;
        }
        return false;
    }

    private void tryFinishClose() {
        try {
            tryClose();
        } catch (IOException ignore) {
            // the descriptor is gone either way
        }
    }

    @Override
    public void kill() {
        synchronized (stateLock) {
            if (state == ST_CLOSING) {
                tryFinishClose();
            }
        }
    }

    // ---- selection ------------------------------------------------------------------------------------

    /** OP_READ → POLLIN, OP_WRITE and OP_CONNECT → POLLOUT (POLLCONN is POLLOUT on Linux). */
    @Override
    public int translateInterestOps(int ops) {
        int events = 0;
        if ((ops & SelectionKey.OP_READ) != 0) {
            events |= Poll.POLLIN;
        }
        if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
            events |= Poll.POLLOUT;
        }
        return events;
    }

    /** POLLIN → OP_READ and POLLOUT → OP_WRITE once connected; POLLOUT → OP_CONNECT while pending. */
    @Override
    public int translateReadyOps(int events, int interestOps) {
        boolean connected = isConnected();
        int ops = 0;
        if ((events & Poll.POLLIN) != 0 && (interestOps & SelectionKey.OP_READ) != 0 && connected) {
            ops |= SelectionKey.OP_READ;
        }
        if ((events & Poll.POLLOUT) != 0 && (interestOps & SelectionKey.OP_CONNECT) != 0 && isConnectionPending()) {
            ops |= SelectionKey.OP_CONNECT;
        }
        if ((events & Poll.POLLOUT) != 0 && (interestOps & SelectionKey.OP_WRITE) != 0 && connected) {
            ops |= SelectionKey.OP_WRITE;
        }
        return ops;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('[');
        if (!isOpen()) {
            sb.append("closed");
        } else {
            synchronized (stateLock) {
                sb.append(state == ST_CONNECTED ? "connected" : state == ST_CONNECTIONPENDING ? "connection-pending"
                        : "unconnected");
                if (localAddress != null) {
                    sb.append(" local=").append(localAddress);
                }
                if (remoteAddress != null) {
                    sb.append(" remote=").append(remoteAddress);
                }
            }
        }
        return sb.append(']').toString();
    }
}
