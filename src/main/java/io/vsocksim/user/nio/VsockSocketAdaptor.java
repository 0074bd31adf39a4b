package io.vsocksim.user.nio;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * A vsock {@link SocketChannel} as a {@link Socket}: what {@code SocketChannel.socket()} returns, following
 * JDK 17's {@code sun.nio.ch.SocketAdaptor} method by method (same order as {@code java.net.Socket}). Every
 * call goes to the channel; a channel exception a {@code java.net} caller does not expect becomes the JDK's
 * {@code SocketException} ({@link NioErrors#translateException}). The streams block, so they need a blocking
 * channel: a read or write on a non-blocking one throws {@code IllegalBlockingModeException}, as the JDK's.
 *
 * <p>Where vsock is not IP, as on the java.net face ({@code io.vsocksim.user.VsockNetSocket}): the addresses are
 * {@link VsockAddress}es ({@link #getLocalSocketAddress}, {@link #getRemoteSocketAddress}); {@link #getInetAddress}
 * and {@link #getLocalAddress} are null; the ports are vsock's u32 ports in an {@code int}. Options are the
 * channel's ({@link NioOptions}): TCP_NODELAY and the traffic class are accepted and ignored;
 * {@link #sendUrgentData} fails as af_vsock refuses MSG_OOB.
 */
final class VsockSocketAdaptor extends Socket {
    private final VsockSocketChannel sc;
    /** SO_TIMEOUT for reads, in ms (0: none). */
    private volatile int timeout;

    private VsockSocketAdaptor(VsockSocketChannel sc) throws SocketException {
        super(new UnusedSocketImpl());
        this.sc = sc;
    }

    static Socket create(VsockSocketChannel sc) {
        try {
            return new VsockSocketAdaptor(sc);
        } catch (SocketException e) {
            throw new InternalError("Socket(SocketImpl) threw", e); // it only checks a permission
        }
    }

    @Override
    public void connect(SocketAddress remote) throws IOException {
        connect(remote, 0);
    }

    /** Connects in blocking mode, waiting at most {@code timeout} ms (0: until vsock's own connect timeout). */
    @Override
    public void connect(SocketAddress remote, int timeout) throws IOException {
        if (remote == null) {
            throw new IllegalArgumentException("connect: The address can't be null");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("connect: timeout can't be negative");
        }
        try {
            sc.blockingConnect(remote, MILLISECONDS.toNanos(timeout));
        } catch (Exception e) {
            NioErrors.translateException(e);
        }
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        try {
            sc.bind(local);
        } catch (Exception x) {
            NioErrors.translateException(x);
        }
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

    /** The peer's vsock port, 0 before connect. */
    @Override
    public int getPort() {
        VsockAddress remote = sc.remoteAddress();
        return remote == null ? 0 : remote.port();
    }

    /** The local vsock port, -1 if not bound. */
    @Override
    public int getLocalPort() {
        VsockAddress local = sc.localAddress();
        return local == null ? -1 : local.port();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return sc.remoteAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return sc.localAddress();
    }

    @Override
    public SocketChannel getChannel() {
        return sc;
    }

    @Override
    public InputStream getInputStream() throws IOException {
        if (!sc.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        if (!sc.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        if (!sc.isInputOpen()) {
            throw new SocketException("Socket input is shutdown");
        }
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] a = new byte[1];
                int n = read(a, 0, 1);
                return n > 0 ? a[0] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return sc.blockingRead(b, off, len, MILLISECONDS.toNanos(timeout));
            }

            @Override
            public int available() throws IOException {
                return sc.available();
            }

            @Override
            public void close() throws IOException {
                sc.close();
            }
        };
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        if (!sc.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        if (!sc.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        if (!sc.isOutputOpen()) {
            throw new SocketException("Socket output is shutdown");
        }
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                sc.blockingWriteFully(b, off, len);
            }

            @Override
            public void close() throws IOException {
                sc.close();
            }
        };
    }

    private void setOption0(SocketOption<?> name, Object value) throws SocketException {
        try {
            sc.setAdaptorOption(name, value);
        } catch (IOException x) {
            NioErrors.translateToSocketException(x);
        }
    }

    private Object getOption0(SocketOption<?> name) throws SocketException {
        try {
            return sc.getAdaptorOption(name);
        } catch (IOException x) {
            NioErrors.translateToSocketException(x);
            return null; // not reached
        }
    }

    /** Accepted and ignored: vsock has no Nagle. */
    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        setOption0(StandardSocketOptions.TCP_NODELAY, on);
    }

    /** Always true. */
    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return (Boolean) getOption0(StandardSocketOptions.TCP_NODELAY);
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        setOption0(StandardSocketOptions.SO_LINGER, on ? linger : -1);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return (Integer) getOption0(StandardSocketOptions.SO_LINGER);
    }

    /** Throws {@code IOException("Operation not supported")}: af_vsock has no urgent data. */
    @Override
    public void sendUrgentData(int data) throws IOException {
        int n = sc.sendOutOfBandData((byte) data);
        if (n == 0) {
            throw new IOException("Socket buffer full");
        }
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        setOption0(NioOptions.SO_OOBINLINE, on);
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        return (Boolean) getOption0(NioOptions.SO_OOBINLINE);
    }

    /** Bounds each read of the input stream (0: none); measured on the machine's clock. */
    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        this.timeout = checkSoTimeout(sc, timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return checkSoTimeout(sc, timeout);
    }

    /** The adaptors' {@code setSoTimeout}/{@code getSoTimeout} checks: "Socket is closed", IAE for a negative value. */
    static int checkSoTimeout(Channel ch, int timeout) throws SocketException {
        if (!ch.isOpen()) {
            throw new SocketException("Socket is closed");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        return timeout;
    }

    /** vsock's one buffer size ({@code SO_VM_SOCKETS_BUFFER_SIZE}), as SO_RCVBUF. */
    @Override
    public void setSendBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("Invalid send size");
        }
        setOption0(StandardSocketOptions.SO_SNDBUF, size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return (Integer) getOption0(StandardSocketOptions.SO_SNDBUF);
    }

    /** vsock's one buffer size ({@code SO_VM_SOCKETS_BUFFER_SIZE}), as SO_SNDBUF. */
    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("Invalid receive size");
        }
        setOption0(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return (Integer) getOption0(StandardSocketOptions.SO_RCVBUF);
    }

    /** Stored and not acted on: vsock sends no keepalive probes. */
    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        setOption0(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return (Boolean) getOption0(StandardSocketOptions.SO_KEEPALIVE);
    }

    /** Accepted (0 to 255) and ignored: there is no IP header to mark. */
    @Override
    public void setTrafficClass(int tc) throws SocketException {
        setOption0(StandardSocketOptions.IP_TOS, tc);
    }

    /** Always 0. */
    @Override
    public int getTrafficClass() throws SocketException {
        return (Integer) getOption0(StandardSocketOptions.IP_TOS);
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        setOption0(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return (Boolean) getOption0(StandardSocketOptions.SO_REUSEADDR);
    }

    @Override
    public void close() throws IOException {
        sc.close();
    }

    @Override
    public void shutdownInput() throws IOException {
        try {
            sc.shutdownInput();
        } catch (Exception x) {
            NioErrors.translateException(x);
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        try {
            sc.shutdownOutput();
        } catch (Exception x) {
            NioErrors.translateException(x);
        }
    }

    /** {@code Socket[addr=vsock://CID:PORT,port=PORT,localport=PORT]}: the JDK's form, the address a vsock one. */
    @Override
    public String toString() {
        if (sc.isConnected()) {
            return "Socket[addr=" + sc.remoteAddress() + ",port=" + getPort() + ",localport=" + getLocalPort() + "]";
        }
        return "Socket[unconnected]";
    }

    @Override
    public boolean isConnected() {
        return sc.isConnected();
    }

    @Override
    public boolean isBound() {
        return sc.localAddress() != null;
    }

    @Override
    public boolean isClosed() {
        return !sc.isOpen();
    }

    @Override
    public boolean isInputShutdown() {
        return !sc.isInputOpen();
    }

    @Override
    public boolean isOutputShutdown() {
        return !sc.isOutputOpen();
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        sc.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return sc.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return sc.supportedOptions();
    }
}
