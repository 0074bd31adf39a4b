package io.vsocksim.user.internal;

import static io.vsocksim.uapi.Errno.*;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketException;

/**
 * The exceptions the java.net face throws for a failed system call: the ones JDK 17 throws for the
 * same errno on a TCP socket, with the same message. The JDK's native code raises them in three
 * places, and each call of the face is mapped through the one that JDK 17 uses for it:
 *
 * <table>
 *   <caption>errno to exception</caption>
 *   <tr><th>call</th><th>errno</th><th>exception (message)</th><th>JDK 17 source</th></tr>
 *   <tr><td rowspan="5">connect, bind, listen, socket, getsockname</td>
 *       <td>ECONNREFUSED, ETIMEDOUT, ENOTCONN</td><td>{@link ConnectException} (strerror)</td>
 *       <td rowspan="4">{@code Net.c handleSocketError}</td></tr>
 *   <tr><td>EADDRINUSE, EADDRNOTAVAIL, EACCES</td><td>{@link BindException} (strerror)</td></tr>
 *   <tr><td>EHOSTUNREACH / EPROTO</td><td>{@link NoRouteToHostException} / {@link ProtocolException}</td></tr>
 *   <tr><td>any other</td><td>{@link SocketException} (strerror)</td></tr>
 *   <tr><td>ECONNRESET at connect</td><td>{@link ConnectException}
 *       ("Connection reset by peer")</td><td>SIM choice, see below</td></tr>
 *   <tr><td rowspan="2">read</td><td>ECONNRESET, EPIPE</td><td>{@link SocketException}
 *       ("Connection reset")</td><td>{@code SocketDispatcher.c read0}: ConnectionResetException,
 *       which {@code NioSocketImpl.implRead} rethrows</td></tr>
 *   <tr><td>any other</td><td>{@link SocketException} (strerror)</td>
 *       <td>{@code IOUtil convertReturnVal}, wrapped by {@code implRead}</td></tr>
 *   <tr><td>write</td><td>any (EPIPE: "Broken pipe")</td><td>{@link SocketException} (strerror)</td>
 *       <td>{@code convertReturnVal}, wrapped by {@code NioSocketImpl.implWrite}</td></tr>
 *   <tr><td>accept</td><td>any</td><td>{@link IOException} (strerror)</td>
 *       <td>{@code Net.c accept}: not wrapped by {@code NioSocketImpl.accept}</td></tr>
 *   <tr><td>setsockopt, getsockopt, shutdown, ioctl</td><td>any</td><td>{@link SocketException}
 *       (strerror)</td><td>{@code NioSocketImpl.setOption} and friends rewrap as SocketException</td></tr>
 * </table>
 *
 * <p>"strerror" is glibc's text for the errno, which the JDK puts in the message
 * ({@code JNU_ThrowByNameWithLastError}). EINPROGRESS, EAGAIN and EINTR never reach this class: the
 * socket implementation waits or retries on them as {@code NioSocketImpl} does.
 *
 * <p>ECONNRESET at connect: a vsock peer with no listener on the port answers with a RST, and
 * af_vsock reports ECONNRESET where TCP reports ECONNREFUSED. The JDK's table would make that a plain
 * SocketException; this face throws a {@link ConnectException} (still a SocketException) so that TCP
 * code which retries on "nobody listens yet" keeps working, and keeps the kernel's text in the message.
 */
public final class JdkErrors {
    /** {@code NioSocketImpl}'s message for an operation on, or interrupted by, a closed socket. */
    public static final String SOCKET_CLOSED = "Socket closed";
    /** {@code java.net.Socket}'s and {@code ServerSocket}'s message for a call after close(). */
    public static final String SOCKET_IS_CLOSED = "Socket is closed";
    /** {@code NioSocketImpl}'s message for a read or write on a socket that never connected. */
    public static final String NOT_CONNECTED = "Not connected";
    /** {@code NioSocketImpl.timedRead}'s message. */
    public static final String READ_TIMED_OUT = "Read timed out";
    /** {@code NioSocketImpl.timedAccept}'s message. */
    public static final String ACCEPT_TIMED_OUT = "Accept timed out";
    /** {@code NioSocketImpl.timedFinishConnect}'s message. */
    public static final String CONNECT_TIMED_OUT = "Connect timed out";
    /** {@code SocketDispatcher.read0}'s message for ECONNRESET and EPIPE on read. */
    public static final String CONNECTION_RESET = "Connection reset";

    private JdkErrors() {
    }

    /** The exception for {@code errno} from connect, bind, listen or socket creation. */
    public static IOException forConnect(int errno) {
        String msg = strerror(errno);
        switch (errno) {
            case ECONNREFUSED:
            case ETIMEDOUT:
            case ENOTCONN:
            case ECONNRESET: // SIM choice: vsock's "no listener" (see the class comment)
                return new ConnectException(msg);
            case EADDRINUSE:
            case EADDRNOTAVAIL:
            case EACCES:
                return new BindException(msg);
            case EHOSTUNREACH:
                return new NoRouteToHostException(msg);
            case EPROTO:
                return new ProtocolException(msg); // an IOException, not a SocketException, in the JDK too
            default:
                return new SocketException(msg);
        }
    }

    /** The exception for {@code errno} from recv. */
    public static SocketException forRead(int errno) {
        return errno == ECONNRESET || errno == EPIPE ? new SocketException(CONNECTION_RESET)
                : new SocketException(strerror(errno));
    }

    /** The exception for {@code errno} from send, setsockopt, getsockopt, shutdown or ioctl. */
    public static SocketException forOther(int errno) {
        return new SocketException(strerror(errno));
    }

    /** The exception for {@code errno} from accept: a plain IOException, as {@code Net.accept} throws. */
    public static IOException forAccept(int errno) {
        return new IOException(strerror(errno));
    }

    /** glibc's {@code strerror} text for the errnos a socket call can return; "Unknown error N" else. */
    public static String strerror(int errno) {
        switch (errno) {
            case EPERM: return "Operation not permitted";
            case ENOENT: return "No such file or directory";
            case EINTR: return "Interrupted system call";
            case EIO: return "Input/output error";
            case EBADF: return "Bad file descriptor";
            case EAGAIN: return "Resource temporarily unavailable";
            case ENOMEM: return "Cannot allocate memory";
            case EACCES: return "Permission denied";
            case EFAULT: return "Bad address";
            case EBUSY: return "Device or resource busy";
            case EEXIST: return "File exists";
            case ENODEV: return "No such device";
            case EINVAL: return "Invalid argument";
            case EMFILE: return "Too many open files";
            case ENOTTY: return "Inappropriate ioctl for device";
            case ENOSPC: return "No space left on device";
            case EPIPE: return "Broken pipe";
            case ENODATA: return "No data available";
            case EPROTO: return "Protocol error";
            case ENOTSOCK: return "Socket operation on non-socket";
            case EMSGSIZE: return "Message too long";
            case EPROTOTYPE: return "Protocol wrong type for socket";
            case ENOPROTOOPT: return "Protocol not available";
            case EPROTONOSUPPORT: return "Protocol not supported";
            case ESOCKTNOSUPPORT: return "Socket type not supported";
            case EOPNOTSUPP: return "Operation not supported";
            case EAFNOSUPPORT: return "Address family not supported by protocol";
            case EADDRINUSE: return "Address already in use";
            case EADDRNOTAVAIL: return "Cannot assign requested address";
            case ENETDOWN: return "Network is down";
            case ENETUNREACH: return "Network is unreachable";
            case ECONNABORTED: return "Software caused connection abort";
            case ECONNRESET: return "Connection reset by peer";
            case ENOBUFS: return "No buffer space available";
            case EISCONN: return "Transport endpoint is already connected";
            case ENOTCONN: return "Transport endpoint is not connected";
            case ESHUTDOWN: return "Cannot send after transport endpoint shutdown";
            case ETIMEDOUT: return "Connection timed out";
            case ECONNREFUSED: return "Connection refused";
            case EHOSTUNREACH: return "No route to host";
            case EALREADY: return "Operation already in progress";
            case EINPROGRESS: return "Operation now in progress";
            default: return "Unknown error " + errno;
        }
    }
}
