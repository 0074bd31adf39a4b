package io.vsocksim.user;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.vsocksim.kernel.Clock;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.SocketTimeoutException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link SocketImpl} over one AF_VSOCK stream descriptor of a simulated {@link UserProcess}: the
 * shape of JDK 17's {@code sun.nio.ch.NioSocketImpl} on a file descriptor, call for call.
 *
 * <ul>
 *   <li>Blocking calls without a timeout block in the kernel; with a timeout (SO_TIMEOUT, a connect
 *       timeout) the descriptor is made non-blocking and the thread parks in {@code poll} for the time
 *       left, measured on the machine's clock (the JDK measures the JVM's monotonic time).</li>
 *   <li>Errors become the JDK's exceptions through {@code JdkErrors}; sends use MSG_NOSIGNAL (the JVM
 *       ignores SIGPIPE).</li>
 *   <li>{@link #close()} with a thread still in a call: the JDK dup2()s a dead socket over the
 *       descriptor and signals the thread ({@code NativeThread.signal}), whose call ends with EINTR.
 *       Here the descriptor stays open until the last such thread leaves (so its number cannot be
 *       reused meanwhile) and the thread is woken by {@link Thread#interrupt()}, which the simulator's
 *       system calls treat as a signal without SA_RESTART: EINTR. {@code shutdown(2)} would not do:
 *       on a listener or a connecting socket af_vsock's shutdown wakes nobody. A Java interrupt that
 *       did not come from close() is set aside and restored when the call ends: java.net sockets
 *       ignore {@code Thread.interrupt()}.</li>
 * </ul>
 *
 * <p>States and locks as in {@code NioSocketImpl}: {@code stateLock} guards the state and the
 * threads in calls, {@code readLock} serialises reads, connect and accept, {@code writeLock} writes.
 */
final class VsockSocketImpl extends SocketImpl {
    private static final int ST_NEW = 0;
    private static final int ST_UNCONNECTED = 1;
    private static final int ST_CONNECTING = 2;
    private static final int ST_CONNECTED = 3;
    private static final int ST_CLOSING = 4;
    private static final int ST_CLOSED = 5;

    private final UserProcess process;
    private final Clock clock;
    private final boolean server;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object stateLock = new Object();

    // ---- guarded by stateLock
    private volatile int state;
    /** The descriptor, from create() or accept() on. */
    private VsockFd fd;
    /** The thread in a read, connect or accept, and the one in a write (NioSocketImpl's readerThread, writerThread). */
    private final Caller reader = new Caller();
    private final Caller writer = new Caller();
    private VsockAddress local;
    private VsockAddress remote;
    private volatile boolean isInputClosed;
    private volatile boolean isOutputClosed;

    /** Touched with readLock (or, for nonBlocking, readLock or writeLock and stateLock). */
    private boolean nonBlocking;
    private boolean connectionReset;
    private boolean readEOF;

    private volatile int timeout;

    VsockSocketImpl(UserProcess process, boolean server) {
        this.process = process;
        this.clock = SimInternals.kernel(process.machine()).clock();
        this.server = server;
    }

    // ---- state --------------------------------------------------------------------------------------

    private boolean isOpen() {
        return state < ST_CLOSING;
    }

    private void ensureOpen() throws SocketException {
        int s = state;
        if (s == ST_NEW) {
            throw new SocketException("Socket not created");
        }
        if (s >= ST_CLOSING) {
            throw new SocketException(JdkErrors.SOCKET_CLOSED);
        }
    }

    private void ensureOpenAndConnected() throws SocketException {
        int s = state;
        if (s < ST_CONNECTED) {
            throw new SocketException(JdkErrors.NOT_CONNECTED);
        }
        if (s > ST_CONNECTED) {
            throw new SocketException(JdkErrors.SOCKET_CLOSED);
        }
    }

    /** The local address once bound or connected, else null. */
    VsockAddress localAddress() {
        synchronized (stateLock) {
            return local;
        }
    }

    /** The peer's address once connected (kept after close, as the JDK keeps it), else null. */
    VsockAddress remoteAddress() {
        synchronized (stateLock) {
            return remote;
        }
    }

    /** True after shutdownInput(). */
    boolean inputShutdown() {
        return isInputClosed;
    }

    /** True after shutdownOutput(). */
    boolean outputShutdown() {
        return isOutputClosed;
    }

    /**
     * socket(AF_VSOCK, SOCK_STREAM, 0). Idempotent, unlike the JDK's: {@code java.net.Socket} creates
     * its impl lazily through a package-private path, so the face creates it first and lets a later
     * call find it made.
     */
    @Override
    protected void create(boolean stream) throws IOException {
        synchronized (stateLock) {
            if (state != ST_NEW) {
                return;
            }
            if (!stream) {
                throw new SocketException("vsock datagram sockets are not offered");
            }
            int r = process.socket(VmSockets.AF_VSOCK, Sock.SOCK_STREAM | Sock.SOCK_CLOEXEC, 0);
            if (r < 0) {
                throw new SocketException(JdkErrors.forConnect(-r).getMessage()); // Socket.createImpl rewraps
            }
            fd = new VsockFd(process, r, owner);
            state = ST_UNCONNECTED;
        }
    }

    /** Sets O_NONBLOCK as asked, remembering it ({@code NioSocketImpl.configureNonBlocking}). */
    private void configureNonBlocking(boolean on) throws IOException {
        if (nonBlocking == on) {
            return;
        }
        synchronized (stateLock) {
            ensureOpen();
            fd.setNonBlocking(on);
            nonBlocking = on;
        }
    }

    /** What the descriptor's calls ask of this socket. */
    private final VsockFd.Owner owner = new VsockFd.Owner() {
        @Override
        public boolean isOpen() {
            return VsockSocketImpl.this.isOpen();
        }

        @Override
        public void setAsideInterrupt() {
            (Thread.currentThread() == writer.thread ? writer : reader).setAside = true;
        }
    };

    // ---- begin/end of a call that may block, as NioSocketImpl's --------------------------------------

    /** A thread in a blocking call on this socket, and what happened to its interrupt status meanwhile. */
    private static final class Caller {
        Thread thread;
        /** close() interrupted it to end the call. */
        boolean signalled;
        /** It met a Java interrupt that was not close()'s, to give back when the call ends. */
        boolean setAside;

        /** close()'s wake-up: an interrupt, which the simulator's calls end with EINTR. */
        void wake() {
            if (thread != null) {
                signalled = true;
                thread.interrupt();
            }
        }

        /** The call ends: close()'s wake-up is dropped if still pending, a set-aside interrupt restored. */
        void leave() {
            thread = null;
            if (signalled) {
                Thread.interrupted();
            }
            if (setAside) {
                Thread.currentThread().interrupt();
            }
            signalled = false;
            setAside = false;
        }
    }

    /** Marks the start of a read or write ({@code beginRead}/{@code beginWrite}). */
    private void begin(Caller c) throws SocketException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            c.thread = Thread.currentThread();
        }
    }

    /** Marks its end: "Socket closed" if close() cut it short ({@code endRead}/{@code endWrite}). */
    private void end(Caller c, boolean completed) throws SocketException {
        synchronized (stateLock) {
            leave(c);
            if (!completed && state >= ST_CLOSING) {
                throw new SocketException(JdkErrors.SOCKET_CLOSED);
            }
        }
    }

    /** The caller leaves; the last one out of a closing socket closes the descriptor. */
    private void leave(Caller c) {
        c.leave();
        if (state == ST_CLOSING) {
            tryClose();
        }
    }

    // ---- read ---------------------------------------------------------------------------------------

    private int tryRead(byte[] b, int off, int len) throws SocketException {
        try {
            return fd.read(b, off, len);
        } catch (SocketException e) {
            if (JdkErrors.CONNECTION_RESET.equals(e.getMessage())) {
                connectionReset = true; // ECONNRESET or EPIPE: every later read says so without a call
            }
            throw e;
        }
    }

    private int implRead(byte[] b, int off, int len) throws IOException {
        int n = 0;
        begin(reader);
        try {
            if (connectionReset) {
                throw new SocketException(JdkErrors.CONNECTION_RESET);
            }
            if (isInputClosed) {
                return VsockFd.EOF;
            }
            int t = timeout;
            if (t > 0) {
                configureNonBlocking(true);
                n = fd.timed(() -> tryRead(b, off, len), Poll.POLLIN, MILLISECONDS.toNanos(t), JdkErrors.READ_TIMED_OUT);
            } else {
                n = fd.untimed(() -> tryRead(b, off, len), Poll.POLLIN);
            }
            return n;
        } finally {
            end(reader, n > 0);
        }
    }

    private int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        readLock.lock();
        try {
            if (readEOF) {
                return VsockFd.EOF; // the JDK's legacy behaviour: -1 again, even once closed
            }
            int n = implRead(b, off, len);
            if (n == VsockFd.EOF) {
                readEOF = true;
            }
            return n;
        } finally {
            readLock.unlock();
        }
    }

    // ---- write --------------------------------------------------------------------------------------

    private int implWrite(byte[] b, int off, int len) throws IOException {
        int n = 0;
        begin(writer);
        try {
            n = fd.untimed(() -> fd.write(b, off, len), Poll.POLLOUT);
            return n;
        } finally {
            end(writer, n > 0);
        }
    }

    private void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return;
        }
        writeLock.lock();
        try {
            for (int pos = off, end = off + len; pos < end; ) {
                pos += implWrite(b, pos, end - pos);
            }
        } finally {
            writeLock.unlock();
        }
    }

    // ---- connect ------------------------------------------------------------------------------------

    private void beginConnect(VsockAddress to) throws SocketException {
        synchronized (stateLock) {
            int s = state;
            if (s != ST_UNCONNECTED) {
                if (s == ST_NEW) {
                    throw new SocketException("Not created");
                }
                if (s == ST_CONNECTING) {
                    throw new SocketException("Connection in progress");
                }
                if (s == ST_CONNECTED) {
                    throw new SocketException("Already connected");
                }
                throw new SocketException(JdkErrors.SOCKET_CLOSED);
            }
            state = ST_CONNECTING;
            remote = to;
            port = to.port();
            reader.thread = Thread.currentThread();
        }
    }

    private void endConnect(boolean completed) throws IOException {
        synchronized (stateLock) {
            int s = state;
            leave(reader);
            if (completed && s == ST_CONNECTING) {
                state = ST_CONNECTED;
                local = fd.address(false);
                localport = local.port();
            } else if (!completed && s >= ST_CLOSING) {
                throw new SocketException(JdkErrors.SOCKET_CLOSED);
            }
        }
    }

    /**
     * As {@code NioSocketImpl.connect}: with a timeout, a non-blocking connect(2) and polls for the time
     * left; without, a blocking connect(2). The socket is closed if the connection cannot be made.
     * vsock's own timer ({@code SO_VM_SOCKETS_CONNECT_TIMEOUT}, 2 s by default) still runs: whichever
     * expires first decides between {@code SocketTimeoutException("Connect timed out")} and
     * {@code ConnectException("Connection timed out")}.
     */
    @Override
    protected void connect(SocketAddress to, int millis) throws IOException {
        if (!(to instanceof VsockAddress a)) {
            throw new IOException("Unsupported address type");
        }
        try {
            readLock.lock();
            try {
                boolean connected = false;
                beginConnect(a);
                try {
                    if (millis > 0) {
                        configureNonBlocking(true);
                    }
                    int n = fd.connect(a);
                    if (n > 0) {
                        connected = true;
                    } else if (millis > 0) {
                        connected = fd.timed(fd::pollConnect, Poll.POLLOUT, MILLISECONDS.toNanos(millis),
                                JdkErrors.CONNECT_TIMED_OUT) > 0 && isOpen();
                    } else {
                        int polled = VsockFd.UNAVAILABLE;
                        while (polled <= 0 && isOpen()) {
                            fd.park(Poll.POLLOUT, 0);
                            polled = fd.pollConnect();
                        }
                        connected = polled > 0 && isOpen();
                    }
                    if (connected && millis > 0) {
                        configureNonBlocking(false);
                    }
                } finally {
                    endConnect(connected);
                }
            } finally {
                readLock.unlock();
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        throw new SocketException("Unsupported address type: a vsock socket connects to a VsockAddress");
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        throw new SocketException("Unsupported address type: a vsock socket connects to a VsockAddress");
    }

    // ---- bind, listen, accept -----------------------------------------------------------------------

    /**
     * The checks java.net's bind makes before the impl is asked: {@code endpoint} as a VsockAddress
     * (null: any CID, any port).
     */
    static VsockAddress bindAddress(boolean closed, boolean bound, SocketAddress endpoint) throws SocketException {
        if (closed) {
            throw new SocketException(JdkErrors.SOCKET_IS_CLOSED);
        }
        if (bound) {
            throw new SocketException("Already bound");
        }
        if (endpoint != null && !(endpoint instanceof VsockAddress)) {
            throw new IllegalArgumentException("Unsupported address type");
        }
        return endpoint == null ? VsockAddress.ofAnyPort() : (VsockAddress) endpoint;
    }

    /** bind(2) to {@code at}. */
    void bind(VsockAddress at) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (local != null) {
                throw new SocketException("Already bound");
            }
            fd.bind(at);
            local = fd.address(false);
            localport = local.port();
        }
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        throw new SocketException("Unsupported address type: a vsock socket binds to a VsockAddress");
    }

    @Override
    protected void listen(int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (local == null) {
                throw new SocketException("Not bound");
            }
            fd.listen(backlog < 1 ? 50 : backlog);
        }
    }

    private void beginAccept() throws SocketException {
        synchronized (stateLock) {
            ensureOpen();
            if (local == null) {
                throw new SocketException("Not bound");
            }
            reader.thread = Thread.currentThread();
        }
    }

    /** As {@code NioSocketImpl.accept}: {@code si}, a new impl of the same process, becomes the connection. */
    @Override
    protected void accept(SocketImpl si) throws IOException {
        VsockSocketImpl nsi = (VsockSocketImpl) si;
        if (nsi.state != ST_NEW) {
            throw new SocketException("Not a newly created SocketImpl");
        }
        long remaining = 0;
        int t = timeout;
        if (t > 0) {
            long start = clock.nanoTime();
            boolean locked;
            try {
                locked = readLock.tryLock(t, MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                locked = false;
            }
            remaining = MILLISECONDS.toNanos(t) - (clock.nanoTime() - start);
            if (!locked || remaining <= 0) {
                if (locked) {
                    readLock.unlock();
                }
                throw new SocketTimeoutException(JdkErrors.ACCEPT_TIMED_OUT);
            }
        } else {
            readLock.lock();
        }
        int newfd = 0;
        try {
            beginAccept();
            try {
                if (remaining > 0) {
                    configureNonBlocking(true);
                    newfd = fd.timed(fd::accept, Poll.POLLIN, remaining, JdkErrors.ACCEPT_TIMED_OUT);
                } else {
                    newfd = fd.untimed(fd::accept, Poll.POLLIN);
                }
            } finally {
                end(reader, newfd >= 0);
            }
        } finally {
            readLock.unlock();
        }
        nsi.accepted(newfd);
    }

    /** Takes accepted descriptor {@code newfd} as this (new) impl's connection. */
    private void accepted(int newfd) throws IOException {
        VsockFd nfd = new VsockFd(process, newfd, owner);
        VsockAddress me;
        VsockAddress peer;
        try {
            me = nfd.address(false);
            peer = nfd.address(true);
        } catch (IOException e) {
            nfd.close();
            throw e;
        }
        synchronized (stateLock) {
            fd = nfd;
            local = me;
            remote = peer;
            localport = me.port();
            port = peer.port();
            address = null; // ServerSocket.implAccept put a placeholder InetAddress here; vsock has none
            state = ST_CONNECTED;
        }
    }

    // ---- streams, available, shutdown, close --------------------------------------------------------

    @Override
    protected InputStream getInputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] a = new byte[1];
                int n = read(a, 0, 1);
                return n > 0 ? a[0] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return VsockSocketImpl.this.read(b, off, len);
            }

            @Override
            public int available() throws IOException {
                return VsockSocketImpl.this.available();
            }

            @Override
            public void close() throws IOException {
                VsockSocketImpl.this.close();
            }
        };
    }

    @Override
    protected OutputStream getOutputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                VsockSocketImpl.this.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                VsockSocketImpl.this.close();
            }
        };
    }

    /** Bytes readable without blocking (see {@link VsockFd#available()}: at most 64 KiB on vsock). */
    @Override
    protected int available() throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            return isInputClosed ? 0 : fd.available();
        }
    }

    @Override
    protected void shutdownInput() throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            if (!isInputClosed) {
                fd.shutdown(Sock.SHUT_RD);
                isInputClosed = true;
            }
        }
    }

    @Override
    protected void shutdownOutput() throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            if (!isOutputClosed) {
                fd.shutdown(Sock.SHUT_WR);
                isOutputClosed = true;
            }
        }
    }

    /** Closes the descriptor unless a thread is still in a call on it; that thread's end closes it. */
    private boolean tryClose() {
        if (reader.thread == null && writer.thread == null) {
            fd.close();
            state = ST_CLOSED;
            return true;
        }
        return false;
    }

    /**
     * As {@code NioSocketImpl.close}: shutdown(SHUT_WR) first unless SO_LINGER is 0, then close(2),
     * or, with threads in calls, wakes them (see the class comment) and leaves the close to the last.
     */
    @Override
    protected void close() throws IOException {
        synchronized (stateLock) {
            int s = state;
            if (s >= ST_CLOSING) {
                return;
            }
            if (s == ST_NEW) {
                state = ST_CLOSED;
                return;
            }
            state = ST_CLOSING;
            try {
                if (VsockOptions.lingerSeconds(process, fd.num()) != 0) {
                    fd.shutdown(Sock.SHUT_WR);
                }
            } catch (SocketException ignore) {
                // ENOTCONN when not connected: ignored, as NioSocketImpl.close ignores it
            }
            if (!tryClose()) {
                reader.wake();
                writer.wake();
            }
        }
    }

    // ---- options ------------------------------------------------------------------------------------

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        return VsockOptions.supported(server);
    }

    @Override
    protected <T> void setOption(SocketOption<T> opt, T value) throws IOException {
        if (!supportedOptions().contains(opt)) {
            throw new UnsupportedOperationException("'" + opt + "' not supported");
        }
        if (!opt.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
        setOption(VsockOptions.legacyId(opt), value);
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> T getOption(SocketOption<T> opt) throws IOException {
        if (!supportedOptions().contains(opt)) {
            throw new UnsupportedOperationException("'" + opt + "' not supported");
        }
        Object v = getOption(VsockOptions.legacyId(opt));
        if (opt == java.net.StandardSocketOptions.SO_LINGER && v instanceof Boolean) {
            v = -1; // StandardSocketOptions.SO_LINGER: negative when off
        }
        return (T) v;
    }

    @Override
    public void setOption(int opt, Object value) throws SocketException {
        synchronized (stateLock) {
            ensureOpen();
            if (opt == SocketOptions.SO_TIMEOUT) {
                if (!(value instanceof Integer i)) {
                    throw new SocketException("Bad value for SO_TIMEOUT");
                }
                if (i < 0) {
                    throw new SocketException("timeout < 0");
                }
                timeout = i;
                return;
            }
            VsockOptions.set(process, fd.num(), opt, value);
        }
    }

    @Override
    public Object getOption(int opt) throws SocketException {
        synchronized (stateLock) {
            ensureOpen();
            if (opt == SocketOptions.SO_TIMEOUT) {
                return timeout;
            }
            if (opt == SocketOptions.SO_BINDADDR) {
                return null; // no InetAddress: the local address is a VsockAddress
            }
            return VsockOptions.get(process, fd.num(), opt);
        }
    }

    /** vsock has no urgent data (af_vsock's sendmsg refuses MSG_OOB): {@code Socket.sendUrgentData} says so. */
    @Override
    protected boolean supportsUrgentData() {
        return false;
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        throw new SocketException("Urgent data not supported");
    }

    @Override
    public String toString() {
        return "VsockSocketImpl[fd=" + (fd == null ? -1 : fd.num()) + ", local=" + local + ", remote=" + remote + "]";
    }
}
