package io.vsocksim.user.nio;

import static io.vsocksim.uapi.Sock.SOL_SOCKET;

import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import java.io.IOException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.Set;

/**
 * The {@link StandardSocketOptions} a vsock channel supports, and the socket options they become: what the
 * java.net face ({@code io.vsocksim.user.VsockOptions}) accepts, the same way.
 *
 * <ul>
 *   <li>{@code SO_RCVBUF} and {@code SO_SNDBUF} are both {@code SO_VM_SOCKETS_BUFFER_SIZE} at level
 *       AF_VSOCK (a u64): vsock has one buffer size per socket, the receive buffer it advertises as credit,
 *       which also bounds what it queues for sending; SOL_SOCKET's buffer sizes steer nothing on vsock. The
 *       kernel clamps the value to the socket's minimum and maximum; the value read back is capped at
 *       {@code Integer.MAX_VALUE}.</li>
 *   <li>{@code SO_LINGER}: SOL_SOCKET {@code struct linger}, which vsock's close honours; as in the JDK, a
 *       negative value turns it off (read back as -1) and a value above 65535 is cut to it.</li>
 *   <li>{@code SO_KEEPALIVE}, {@code SO_REUSEADDR}: the SOL_SOCKET booleans. vsock stores both and acts on
 *       neither (no keepalive probes; bind never looks at the flag), as on a real AF_VSOCK socket.
 *       {@code SO_REUSEPORT} is not offered: 6.12.117 refuses to turn it on for a socket that is not inet
 *       (EOPNOTSUPP), and the JDK's own non-IP channels do not list it.</li>
 *   <li>{@code TCP_NODELAY}: accepted and ignored, read back as {@code true}: vsock sends every write at once
 *       (there is no Nagle). It is among the supported options, as on the java.net face, so that TCP code
 *       which checks {@code supportedOptions()} before setting it, or sets it unconditionally (Netty does,
 *       through the socket adaptor), runs unchanged.</li>
 *   <li>{@code IP_TOS} and {@code SO_OOBINLINE} are reached only through the socket adaptor's legacy
 *       setters ({@code setTrafficClass}, {@code setOOBInline}), as on the java.net face: the traffic class
 *       is ignored and reads back as 0 (no IP header to mark), SO_OOBINLINE is the stored SOL_SOCKET flag.
 *       {@code setOption(IP_TOS, ..)} throws {@code UnsupportedOperationException}, as
 *       {@code Socket.setOption} does on the java.net face: a vsock socket has no IP layer, and the JDK's
 *       own non-IP channels (AF_UNIX) refuse it the same way.</li>
 * </ul>
 * Any other option ({@code IP_MULTICAST_LOOP}, ...) throws {@code UnsupportedOperationException} with the
 * JDK's message.
 */
final class NioOptions {
    /** Options of a {@link VsockSocketChannel}. */
    static final Set<SocketOption<?>> SOCKET = Set.of(StandardSocketOptions.SO_SNDBUF,
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_LINGER, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.TCP_NODELAY);
    /** Options of a {@link VsockServerSocketChannel}. */
    static final Set<SocketOption<?>> SERVER = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR);
    /** SOL_SOCKET SO_OOBINLINE, for the socket adaptor's {@code setOOBInline} (the JDK's is internal too). */
    static final SocketOption<Boolean> SO_OOBINLINE = new AdaptorOption<>("SO_OOBINLINE", Boolean.class);

    /** An option the socket adaptor sets that is not among the channel's supported ones. */
    private record AdaptorOption<T>(String name, Class<T> type) implements SocketOption<T> {
        @Override
        public String toString() {
            return name;
        }
    }

    private NioOptions() {}

    /** Checks {@code name} against {@code supported} (NPE for null, UOE for an unsupported one). */
    static void check(Set<SocketOption<?>> supported, SocketOption<?> name) {
        Objects.requireNonNull(name);
        if (!supported.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
    }

    /** {@link #check(Set, SocketOption)}, then IAE for a value not of the option's type, as the JDK's setOption begins. */
    static void check(Set<SocketOption<?>> supported, SocketOption<?> name, Object value) {
        check(supported, name);
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
    }

    /** setsockopt(2) for {@code name} with a value of its type. */
    static void set(ChannelFd fd, SocketOption<?> name, Object value) throws IOException {
        if (name == StandardSocketOptions.SO_RCVBUF || name == StandardSocketOptions.SO_SNDBUF) {
            int size = (Integer) value;
            if (size < 0) {
                throw new IllegalArgumentException("Invalid send/receive buffer size");
            }
            ByteBuffer b = le(Long.BYTES).putLong(0, size);
            ChannelFd.check(fd.process().setsockopt(fd.fd(), VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE,
                    b, Long.BYTES));
        } else if (name == StandardSocketOptions.SO_LINGER) {
            int secs = Math.min((Integer) value, 65535);
            ByteBuffer b = le(2 * Integer.BYTES).putInt(0, secs < 0 ? 0 : 1).putInt(4, Math.max(secs, 0));
            ChannelFd.check(fd.process().setsockopt(fd.fd(), SOL_SOCKET, Sock.SO_LINGER, b, 2 * Integer.BYTES));
        } else if (name == StandardSocketOptions.IP_TOS) {
            int tos = (Integer) value;
            if (tos < 0 || tos > 255) {
                throw new IllegalArgumentException("Invalid IP_TOS value"); // the JDK's Net.setSocketOption check
            }
        } else if (name != StandardSocketOptions.TCP_NODELAY) { // no Nagle to turn off, no IP header to mark
            ChannelFd.check(fd.process().setsockoptInt(fd.fd(), SOL_SOCKET, boolOption(name), (Boolean) value ? 1 : 0));
        }
    }

    /** getsockopt(2) for {@code name}, as the value type of the option. */
    static Object get(ChannelFd fd, SocketOption<?> name) throws IOException {
        if (name == StandardSocketOptions.SO_RCVBUF || name == StandardSocketOptions.SO_SNDBUF) {
            ByteBuffer b = le(Long.BYTES);
            ChannelFd.check(fd.process().getsockopt(fd.fd(), VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE,
                    b, Long.BYTES));
            long size = b.getLong(0);
            return (int) Math.min(size < 0 ? Integer.MAX_VALUE : size, Integer.MAX_VALUE);
        }
        if (name == StandardSocketOptions.SO_LINGER) {
            ByteBuffer b = le(2 * Integer.BYTES);
            ChannelFd.check(fd.process().getsockopt(fd.fd(), SOL_SOCKET, Sock.SO_LINGER, b, 2 * Integer.BYTES));
            return b.getInt(0) != 0 ? b.getInt(4) : -1;
        }
        if (name == StandardSocketOptions.TCP_NODELAY) {
            return Boolean.TRUE;
        }
        if (name == StandardSocketOptions.IP_TOS) {
            return 0;
        }
        return fd.getInt(SOL_SOCKET, boolOption(name)) != 0;
    }

    private static int boolOption(SocketOption<?> name) {
        if (name == StandardSocketOptions.SO_KEEPALIVE) {
            return Sock.SO_KEEPALIVE;
        }
        return name == SO_OOBINLINE ? Sock.SO_OOBINLINE : Sock.SO_REUSEADDR;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
