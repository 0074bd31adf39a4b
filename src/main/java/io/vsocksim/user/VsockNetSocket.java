package io.vsocksim.user;

import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;

/**
 * A {@link Socket} that is an AF_VSOCK stream socket of a simulated process: what junixsocket's
 * {@code AFVSOCKSocket} is on a real machine. Streams, timeouts, shutdown, options and close behave
 * as JDK 17's TCP sockets do; errors are the JDK's ({@code JdkErrors}).
 *
 * <p>Where vsock is not IP:
 * <ul>
 *   <li>addresses are {@link VsockAddress}es: {@link #connect}, {@link #bind} take one,
 *       {@link #getRemoteSocketAddress()} and {@link #getLocalSocketAddress()} return one;</li>
 *   <li>{@link #getInetAddress()} and {@link #getLocalAddress()} are {@code null};</li>
 *   <li>{@link #getPort()} and {@link #getLocalPort()} are vsock's u32 ports held in an {@code int}:
 *       ports above 2147483647 (vsock's ephemeral ports often are) read as negative numbers;</li>
 *   <li>options: see {@link VsockNet} (buffer sizes are {@code SO_VM_SOCKETS_BUFFER_SIZE};
 *       {@code TCP_NODELAY} and the traffic class are ignored; {@link #sendUrgentData} throws
 *       {@code SocketException("Urgent data not supported")}).</li>
 * </ul>
 *
 * <p>Made by {@link VsockNet#socket()} or by {@link VsockNetServerSocket#accept()}.
 */
public final class VsockNetSocket extends Socket {
    private final VsockSocketImpl impl;
    /** Set by a successful {@link #connect}: {@code Socket}'s own flag is set only on its InetSocketAddress path and by accept. */
    private volatile boolean connected;
    private volatile boolean bound;

    private VsockNetSocket(VsockSocketImpl impl) throws SocketException {
        super(impl);
        this.impl = impl;
    }

    /** An unconnected socket with its descriptor made: socket(AF_VSOCK, SOCK_STREAM, 0). */
    static VsockNetSocket open(UserProcess process) throws IOException {
        VsockSocketImpl impl = new VsockSocketImpl(process, false);
        impl.create(true);
        return new VsockNetSocket(impl);
    }

    /** A socket with no descriptor yet, for {@link VsockNetServerSocket#accept()} to connect. */
    static VsockNetSocket forAccept(UserProcess process) throws SocketException {
        return new VsockNetSocket(new VsockSocketImpl(process, false));
    }

    /**
     * Connects to {@code endpoint}, a {@link VsockAddress}, waiting at most {@code timeout} ms (0: until
     * vsock's own connect timeout, {@code SO_VM_SOCKETS_CONNECT_TIMEOUT}, 2 s by default, ends it).
     * As in the JDK the socket is closed if the connection cannot be made.
     *
     * @throws java.net.ConnectException nobody listens (vsock: "Connection reset by peer"), or vsock's
     *     connect timeout passed ("Connection timed out")
     * @throws java.net.SocketTimeoutException {@code timeout} passed: "Connect timed out"
     * @throws IllegalArgumentException a null or non-vsock address, a negative timeout
     */
    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        if (endpoint == null) {
            throw new IllegalArgumentException("connect: The address can't be null");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("connect: timeout can't be negative");
        }
        if (isClosed()) {
            throw new SocketException(JdkErrors.SOCKET_IS_CLOSED);
        }
        if (isConnected()) {
            throw new SocketException("already connected");
        }
        if (!(endpoint instanceof VsockAddress)) {
            throw new IllegalArgumentException("Unsupported address type");
        }
        impl.connect(endpoint, timeout);
        connected = true;
        bound = true;
    }

    /**
     * Binds to {@code bindpoint}, a {@link VsockAddress}; null binds to any CID and a free port.
     *
     * @throws java.net.BindException "Address already in use" and the other bind errors of {@code JdkErrors}
     */
    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        impl.bind(VsockSocketImpl.bindAddress(isClosed(), isBound(), bindpoint));
        bound = true;
    }

    /** True once connected, including after close (as {@link Socket#isConnected()}). */
    @Override
    public boolean isConnected() {
        return connected || super.isConnected();
    }

    /** True once bound, including after close. */
    @Override
    public boolean isBound() {
        return bound || super.isBound();
    }

    /** Always null: a vsock peer has no IP address; {@link #getRemoteSocketAddress()} names it. */
    @Override
    public InetAddress getInetAddress() {
        return null;
    }

    /** Always null: a vsock socket has no IP address; {@link #getLocalSocketAddress()} names it. */
    @Override
    public InetAddress getLocalAddress() {
        return null;
    }

    /** The peer's vsock port (a u32 in an {@code int}), 0 if not connected. */
    @Override
    public int getPort() {
        VsockAddress r = impl.remoteAddress();
        return isConnected() && r != null ? r.port() : 0;
    }

    /** The local vsock port (a u32 in an {@code int}), -1 if not bound. */
    @Override
    public int getLocalPort() {
        VsockAddress l = impl.localAddress();
        return isBound() && l != null ? l.port() : -1;
    }

    /** The peer as a {@link VsockAddress}, null if not connected. */
    @Override
    public SocketAddress getRemoteSocketAddress() {
        return isConnected() ? impl.remoteAddress() : null;
    }

    /**
     * The local address as a {@link VsockAddress}, null if not bound. It is what getsockname(2) says:
     * a socket that connect() bound by itself has CID {@link VsockAddress#CID_ANY} (af_vsock's
     * {@code vsock_auto_bind}); an accepted socket has the CID the peer reached.
     */
    @Override
    public SocketAddress getLocalSocketAddress() {
        return isBound() ? impl.localAddress() : null;
    }

    /** True after {@link #shutdownInput()}. */
    @Override
    public boolean isInputShutdown() {
        return impl.inputShutdown();
    }

    /** True after {@link #shutdownOutput()}. */
    @Override
    public boolean isOutputShutdown() {
        return impl.outputShutdown();
    }

    /**
     * Closes the socket: shutdown(SHUT_WR) unless SO_LINGER is 0, then close(2). A thread blocked in
     * a read or connect on it ends with {@code SocketException("Socket closed")}.
     */
    @Override
    public synchronized void close() throws IOException {
        try {
            impl.close();
        } finally {
            super.close();
        }
    }

    @Override
    public String toString() {
        if (isConnected()) {
            return "VsockNetSocket[local=" + impl.localAddress() + ", remote=" + impl.remoteAddress() + "]";
        }
        return "VsockNetSocket[unconnected]";
    }
}
