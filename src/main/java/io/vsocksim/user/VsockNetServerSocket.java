package io.vsocksim.user;

import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketException;

/**
 * A {@link ServerSocket} that is a listening AF_VSOCK stream socket of a simulated process. It binds
 * to a {@link VsockAddress}; {@link #accept()} returns {@link VsockNetSocket}s of the same process.
 * {@link #setSoTimeout} makes accept throw {@code SocketTimeoutException("Accept timed out")};
 * {@link #close()} ends a thread blocked in accept with {@code SocketException("Socket closed")}.
 * {@link #getInetAddress()} is null (see {@link VsockNetSocket} for ports and addresses).
 *
 * <p>Accepting goes through {@link ServerSocket#implAccept(java.net.Socket)}, which for a custom
 * {@link java.net.SocketImpl} lets the listener's impl accept into the new socket's impl.
 */
public final class VsockNetServerSocket extends ServerSocket {
    private final UserProcess process;
    private final VsockSocketImpl impl;
    private volatile boolean bound;

    private VsockNetServerSocket(UserProcess process, VsockSocketImpl impl) {
        super(impl);
        this.process = process;
        this.impl = impl;
    }

    /** An unbound server socket with its descriptor made. */
    static VsockNetServerSocket open(UserProcess process) throws IOException {
        VsockSocketImpl impl = new VsockSocketImpl(process, true);
        impl.create(true);
        return new VsockNetServerSocket(process, impl);
    }

    /**
     * bind(2) to {@code endpoint} (a {@link VsockAddress}; null: any CID, a free port), then listen(2)
     * with {@code backlog} (below 1: 50, as the JDK).
     *
     * @throws java.net.BindException "Address already in use" and the other bind errors of {@code JdkErrors}
     * @throws IllegalArgumentException for an address that is not a {@link VsockAddress}
     */
    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
        impl.bind(VsockSocketImpl.bindAddress(isClosed(), isBound(), endpoint));
        impl.listen(backlog < 1 ? 50 : backlog);
        bound = true;
    }

    /** True once bound, including after close. */
    @Override
    public boolean isBound() {
        return bound;
    }

    /**
     * Waits for a connection (at most SO_TIMEOUT ms if set) and returns it as a {@link VsockNetSocket}.
     *
     * @throws java.net.SocketTimeoutException "Accept timed out"
     * @throws SocketException "Socket is closed" before, "Socket closed" when closed during the wait
     */
    @Override
    public VsockNetSocket accept() throws IOException {
        if (isClosed()) {
            throw new SocketException(JdkErrors.SOCKET_IS_CLOSED);
        }
        if (!isBound()) {
            throw new SocketException("Socket is not bound yet");
        }
        VsockNetSocket s = VsockNetSocket.forAccept(process);
        implAccept(s);
        return s;
    }

    /** Always null: a vsock socket has no IP address; {@link #getLocalSocketAddress()} names it. */
    @Override
    public InetAddress getInetAddress() {
        return null;
    }

    /** The bound vsock port (a u32 in an {@code int}), -1 if not bound. */
    @Override
    public int getLocalPort() {
        VsockAddress l = impl.localAddress();
        return bound && l != null ? l.port() : -1;
    }

    /** The bound address as a {@link VsockAddress}, null if not bound. */
    @Override
    public SocketAddress getLocalSocketAddress() {
        return bound ? impl.localAddress() : null;
    }

    /** Closes the listener; af_vsock releases the connections it had not handed out yet. */
    @Override
    public void close() throws IOException {
        try {
            impl.close();
        } finally {
            super.close();
        }
    }

    @Override
    public String toString() {
        return bound ? "VsockNetServerSocket[" + impl.localAddress() + "]" : "VsockNetServerSocket[unbound]";
    }
}
