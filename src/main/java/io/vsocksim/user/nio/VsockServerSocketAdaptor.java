package io.vsocksim.user.nio;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * A vsock {@link ServerSocketChannel} as a {@link ServerSocket}: what {@code ServerSocketChannel.socket()}
 * returns, following JDK 17's {@code sun.nio.ch.ServerSocketAdaptor}. {@link #accept()} returns the adaptor of
 * the accepted channel; with SO_TIMEOUT it needs a blocking channel and ends with
 * {@code SocketTimeoutException("Accept timed out")}, without it a non-blocking channel with nothing to accept
 * throws {@code IllegalBlockingModeException}, as the JDK's. Addresses are {@link VsockAddress}es
 * ({@link #getLocalSocketAddress}); {@link #getInetAddress} is null.
 */
final class VsockServerSocketAdaptor extends ServerSocket {
    private final VsockServerSocketChannel ssc;
    /** SO_TIMEOUT for accepts, in ms (0: none). */
    private volatile int timeout;

    VsockServerSocketAdaptor(VsockServerSocketChannel ssc) {
        super(new UnusedSocketImpl());
        this.ssc = ssc;
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        bind(local, 50);
    }

    /** bind(2) and listen(2); null binds to any CID and a free port, a backlog below 1 is 50. */
    @Override
    public void bind(SocketAddress local, int backlog) throws IOException {
        try {
            ssc.bind(local == null ? VsockAddress.ofAnyPort() : local, backlog);
        } catch (Exception x) {
            NioErrors.translateException(x);
        }
    }

    /** Always null: a vsock socket has no IP address; {@link #getLocalSocketAddress()} names it. */
    @Override
    public InetAddress getInetAddress() {
        return null;
    }

    /** The bound vsock port, -1 if not bound. */
    @Override
    public int getLocalPort() {
        VsockAddress local = ssc.localAddress();
        return local == null ? -1 : local.port();
    }

    /** The bound address as a {@link VsockAddress}, null if not bound. */
    @Override
    public SocketAddress getLocalSocketAddress() {
        return ssc.localAddress();
    }

    @Override
    public Socket accept() throws IOException {
        SocketChannel sc = null;
        try {
            int t = timeout;
            if (t > 0) {
                sc = ssc.blockingAccept(MILLISECONDS.toNanos(t));
            } else {
                sc = ssc.accept(); // a non-blocking channel with a connection waiting still accepts it, as the JDK's
                if (sc == null) {
                    throw new IllegalBlockingModeException();
                }
            }
        } catch (Exception e) {
            NioErrors.translateException(e);
        }
        return sc.socket();
    }

    @Override
    public void close() throws IOException {
        ssc.close();
    }

    @Override
    public ServerSocketChannel getChannel() {
        return ssc;
    }

    @Override
    public boolean isBound() {
        return ssc.localAddress() != null;
    }

    @Override
    public boolean isClosed() {
        return !ssc.isOpen();
    }

    /** Bounds each accept (0: none); measured on the machine's clock. */
    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        this.timeout = VsockSocketAdaptor.checkSoTimeout(ssc, timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return VsockSocketAdaptor.checkSoTimeout(ssc, timeout);
    }

    private <T> void setOption0(SocketOption<T> name, T value) throws SocketException {
        try {
            ssc.setOption(name, value);
        } catch (IOException x) {
            NioErrors.translateToSocketException(x);
        }
    }

    private <T> T getOption0(SocketOption<T> name) throws SocketException {
        try {
            return ssc.getOption(name);
        } catch (IOException x) {
            NioErrors.translateToSocketException(x);
            return null; // not reached
        }
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        setOption0(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return getOption0(StandardSocketOptions.SO_REUSEADDR);
    }

    /** {@code ServerSocket[addr=vsock://CID:PORT,localport=PORT]}: the JDK's form, the address a vsock one. */
    @Override
    public String toString() {
        if (!isBound()) {
            return "ServerSocket[unbound]";
        }
        return "ServerSocket[addr=" + ssc.localAddress() + ",localport=" + getLocalPort() + "]";
    }

    /** vsock's one buffer size ({@code SO_VM_SOCKETS_BUFFER_SIZE}), which accepted sockets inherit. */
    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("size cannot be 0 or negative");
        }
        setOption0(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return getOption0(StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
        ssc.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return ssc.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return ssc.supportedOptions();
    }
}
