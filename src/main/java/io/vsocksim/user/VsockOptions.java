package io.vsocksim.user;

import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.internal.JdkErrors;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * The java.net socket options of a vsock descriptor, as the system calls they become. A vsock socket
 * has no IP or TCP layer, so:
 *
 * <ul>
 *   <li>{@code SO_RCVBUF} and {@code SO_SNDBUF} both read and write {@code SO_VM_SOCKETS_BUFFER_SIZE}
 *       (level AF_VSOCK, a u64): vsock has one buffer size, which is the receive buffer it advertises
 *       as credit and, in 6.12.117, also bounds what it has in flight. Setting either sets both; af_vsock
 *       clamps the value to [{@code SO_VM_SOCKETS_BUFFER_MIN_SIZE}, {@code _MAX_SIZE}] (128 B to
 *       256 KiB by default) without an error, as TCP clamps to {@code rmem_max}. Accepted sockets
 *       inherit the listener's size.</li>
 *   <li>{@code SO_LINGER}, {@code SO_KEEPALIVE}, {@code SO_OOBINLINE} and {@code SO_REUSEADDR} are the
 *       SOL_SOCKET options the socket layer keeps for any family; vsock acts on SO_LINGER only (close
 *       waits up to the linger time for the peer).</li>
 *   <li>{@code SO_REUSEPORT} is not offered: 6.12.117's {@code sk_setsockopt} refuses to turn it on for a
 *       socket that is not inet (EOPNOTSUPP), so code that sets what {@code supportedOptions()} lists
 *       skips it, as it does on the JDK's AF_UNIX channels.</li>
 *   <li>{@code TCP_NODELAY}: accepted and ignored; vsock sends every write at once (there is no Nagle),
 *       so it reads back as {@code true}.</li>
 *   <li>{@code IP_TOS} (traffic class): accepted and ignored, reads back as 0, as the JDK allows an
 *       implementation to do; it is not among the {@link java.net.SocketOption}s offered.</li>
 * </ul>
 *
 * <p>Errors become {@link SocketException}s with the errno's text, as {@code NioSocketImpl.setOption}
 * rewraps them; a value of the wrong type is {@code SocketException("Bad value for NAME")}.
 */
final class VsockOptions {
    private static final Set<SocketOption<?>> CLIENT = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_LINGER, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.TCP_NODELAY);
    private static final Set<SocketOption<?>> SERVER = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR);

    private VsockOptions() {
    }

    /** The options {@code Socket.setOption}/{@code ServerSocket.setOption} accept. */
    static Set<SocketOption<?>> supported(boolean server) {
        return server ? SERVER : CLIENT;
    }

    /** The legacy {@link SocketOptions} id of a standard option of {@link #supported}. */
    static int legacyId(SocketOption<?> opt) {
        if (opt == StandardSocketOptions.SO_RCVBUF) {
            return SocketOptions.SO_RCVBUF;
        } else if (opt == StandardSocketOptions.SO_SNDBUF) {
            return SocketOptions.SO_SNDBUF;
        } else if (opt == StandardSocketOptions.SO_LINGER) {
            return SocketOptions.SO_LINGER;
        } else if (opt == StandardSocketOptions.SO_KEEPALIVE) {
            return SocketOptions.SO_KEEPALIVE;
        } else if (opt == StandardSocketOptions.SO_REUSEADDR) {
            return SocketOptions.SO_REUSEADDR;
        }
        return SocketOptions.TCP_NODELAY;
    }

    /**
     * Sets legacy option {@code opt} (not SO_TIMEOUT, which the socket keeps itself) on {@code fd}.
     * SO_LINGER takes {@code false} (off) or a number of seconds; a negative number is off, as in
     * {@code StandardSocketOptions.SO_LINGER}.
     */
    static void set(UserProcess p, int fd, int opt, Object value) throws SocketException {
        switch (opt) {
            case SocketOptions.SO_LINGER: {
                int secs = value instanceof Boolean b && !b ? -1 : intValue(value, "SO_LINGER");
                ByteBuffer l = le(8).putInt(0, secs < 0 ? 0 : 1).putInt(4, Math.max(secs, 0)); // struct linger
                check(p.setsockopt(fd, Sock.SOL_SOCKET, Sock.SO_LINGER, l, 8));
                break;
            }
            case SocketOptions.SO_RCVBUF:
            case SocketOptions.SO_SNDBUF: {
                int size = intValue(value, name(opt));
                if (size <= 0) {
                    throw new SocketException(name(opt) + " <= 0");
                }
                check(p.setsockopt(fd, VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE,
                        le(8).putLong(0, size), 8));
                break;
            }
            case SocketOptions.SO_KEEPALIVE:
            case SocketOptions.SO_OOBINLINE:
            case SocketOptions.SO_REUSEADDR:
            case SocketOptions.SO_REUSEPORT:
                check(p.setsockoptInt(fd, Sock.SOL_SOCKET, solSocketName(opt), booleanValue(value, name(opt)) ? 1 : 0));
                break;
            case SocketOptions.TCP_NODELAY:
                booleanValue(value, "TCP_NODELAY"); // no Nagle to turn off
                break;
            case SocketOptions.IP_TOS:
                intValue(value, "IP_TOS"); // no IP header to mark
                break;
            default:
                throw new SocketException("Unknown option " + opt);
        }
    }

    /** Reads legacy option {@code opt}: SO_LINGER as {@code false} or seconds, as {@code Socket.getSoLinger} expects. */
    static Object get(UserProcess p, int fd, int opt) throws SocketException {
        switch (opt) {
            case SocketOptions.SO_LINGER: {
                ByteBuffer l = le(8);
                check(p.getsockopt(fd, Sock.SOL_SOCKET, Sock.SO_LINGER, l, 8));
                return l.getInt(0) == 0 ? (Object) Boolean.FALSE : (Object) l.getInt(4);
            }
            case SocketOptions.SO_RCVBUF:
            case SocketOptions.SO_SNDBUF: {
                ByteBuffer v = le(8);
                check(p.getsockopt(fd, VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE, v, 8));
                return (int) Math.min(v.getLong(0), Integer.MAX_VALUE);
            }
            case SocketOptions.SO_KEEPALIVE:
            case SocketOptions.SO_OOBINLINE:
            case SocketOptions.SO_REUSEADDR:
            case SocketOptions.SO_REUSEPORT: {
                ByteBuffer v = le(4);
                check(p.getsockopt(fd, Sock.SOL_SOCKET, solSocketName(opt), v, 4));
                return v.getInt(0) != 0;
            }
            case SocketOptions.TCP_NODELAY:
                return Boolean.TRUE;
            case SocketOptions.IP_TOS:
                return 0;
            default:
                throw new SocketException("Unknown option " + opt);
        }
    }

    /** SO_LINGER's seconds, or -1 when off. */
    static int lingerSeconds(UserProcess p, int fd) throws SocketException {
        Object v = get(p, fd, SocketOptions.SO_LINGER);
        return v instanceof Integer i ? i : -1;
    }

    private static int solSocketName(int opt) {
        switch (opt) {
            case SocketOptions.SO_KEEPALIVE:
                return Sock.SO_KEEPALIVE;
            case SocketOptions.SO_OOBINLINE:
                return Sock.SO_OOBINLINE;
            case SocketOptions.SO_REUSEADDR:
                return Sock.SO_REUSEADDR;
            default:
                return Sock.SO_REUSEPORT;
        }
    }

    private static String name(int opt) {
        switch (opt) {
            case SocketOptions.SO_RCVBUF:
                return "SO_RCVBUF";
            case SocketOptions.SO_SNDBUF:
                return "SO_SNDBUF";
            case SocketOptions.SO_KEEPALIVE:
                return "SO_KEEPALIVE";
            case SocketOptions.SO_OOBINLINE:
                return "SO_OOBINLINE";
            case SocketOptions.SO_REUSEADDR:
                return "SO_REUSEADDR";
            default:
                return "SO_REUSEPORT";
        }
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void check(int r) throws SocketException {
        if (r < 0) {
            throw JdkErrors.forOther(-r);
        }
    }

    private static boolean booleanValue(Object value, String desc) throws SocketException {
        if (!(value instanceof Boolean b)) {
            throw new SocketException("Bad value for " + desc);
        }
        return b;
    }

    private static int intValue(Object value, String desc) throws SocketException {
        if (!(value instanceof Integer i)) {
            throw new SocketException("Bad value for " + desc);
        }
        return i;
    }
}
