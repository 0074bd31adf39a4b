package io.vsocksim.user.nio;

import static io.vsocksim.uapi.Errno.*;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketException;

/**
 * The exceptions the JDK 17 NIO socket code throws for a failed system call, so that a program sees the
 * same class and message on a vsock channel as it would on a real AF_VSOCK descriptor: the connect, bind,
 * listen and option calls go through {@code handleSocketError} (libnio {@code Net.c}), reads through
 * {@code SocketDispatcher.read0} (ECONNRESET and EPIPE are "Connection reset"), writes and accepts through
 * {@code JNU_ThrowIOExceptionWithLastError}, whose message is glibc's {@code strerror} text.
 */
final class NioErrors {
    private NioErrors() {}

    /** {@code handleSocketError}: connect, bind, listen, getsockopt/setsockopt and socket failures. */
    static IOException socketError(int errno) {
        String msg = strerror(errno);
        switch (errno) {
            case EPROTO:
                return new ProtocolException(msg);
            case ECONNREFUSED:
            case ETIMEDOUT:
            case ENOTCONN:
                return new ConnectException(msg);
            case EHOSTUNREACH:
                return new NoRouteToHostException(msg);
            case EADDRINUSE:
            case EADDRNOTAVAIL:
            case EACCES:
                return new BindException(msg);
            default:
                return new SocketException(msg);
        }
    }

    /** True for the read errors that {@code SocketDispatcher.read0} reports as a connection reset. */
    static boolean isReset(int errno) {
        return errno == ECONNRESET || errno == EPIPE;
    }

    /** What a channel throws once its connection was reset (then, and on every later read). */
    static SocketException connectionReset() {
        return new SocketException("Connection reset");
    }

    /** Any other failed read, write or accept: an {@code IOException} with the {@code strerror} text. */
    static IOException ioError(int errno) {
        return new IOException(strerror(errno));
    }

    /** glibc's {@code strerror} for the errno values a socket call can return on Linux. */
    static String strerror(int errno) {
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
