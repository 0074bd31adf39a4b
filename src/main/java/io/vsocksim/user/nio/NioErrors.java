package io.vsocksim.user.nio;

import static io.vsocksim.uapi.Errno.ECONNRESET;
import static io.vsocksim.uapi.Errno.EPIPE;

import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * The exceptions the JDK 17 NIO socket code throws for a failed system call, so that a program sees the
 * same class and message on a vsock channel as it would on a real AF_VSOCK descriptor: the connect, bind,
 * listen and option calls go through {@code handleSocketError} (libnio {@code Net.c}), reads through
 * {@code SocketDispatcher.read0} (ECONNRESET and EPIPE are "Connection reset"), writes and accepts through
 * {@code JNU_ThrowIOExceptionWithLastError}, whose message is glibc's {@code strerror} text.
 */
final class NioErrors {
    private NioErrors() {}

    /**
     * {@code handleSocketError}: connect, bind, listen, getsockopt/setsockopt and socket failures; the
     * same table as the java.net face's ({@link io.vsocksim.user.internal.JdkErrors#forConnect}), including its choice for the
     * ECONNRESET a vsock peer answers when nothing listens.
     */
    static IOException socketError(int errno) {
        return JdkErrors.forConnect(errno);
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

    /** glibc's {@code strerror} text ({@code JdkErrors.strerror}). */
    static String strerror(int errno) {
        return JdkErrors.strerror(errno);
    }

    /**
     * {@code Net.translateException}, what the socket adaptors throw for a channel's exception: an
     * {@code IOException} as it is, the rest as {@link #translateToSocketException}.
     */
    static void translateException(Exception x) throws IOException {
        if (x instanceof IOException e) {
            throw e;
        }
        translateToSocketException(x);
    }

    /**
     * {@code Net.translateToSocketException}: the channel exceptions a {@code java.net} caller does not expect
     * become {@code SocketException}s with the JDK's messages (the original as the cause); any other
     * {@code IOException} becomes one with its message; other runtime exceptions pass unchanged.
     */
    static void translateToSocketException(Exception x) throws SocketException {
        if (x instanceof SocketException e) {
            throw e;
        }
        Exception nx = x;
        if (x instanceof ClosedChannelException) {
            nx = new SocketException("Socket is closed");
        } else if (x instanceof NotYetConnectedException) {
            nx = new SocketException("Socket is not connected");
        } else if (x instanceof AlreadyBoundException) {
            nx = new SocketException("Already bound");
        } else if (x instanceof NotYetBoundException) {
            nx = new SocketException("Socket is not bound yet");
        } else if (x instanceof UnsupportedAddressTypeException) {
            nx = new SocketException("Unsupported address type");
        } else if (x instanceof IOException) {
            nx = new SocketException(x.getMessage());
        }
        if (nx != x) {
            nx.initCause(x);
        }
        if (nx instanceof SocketException e) {
            throw e;
        } else if (nx instanceof RuntimeException e) {
            throw e;
        }
        throw new Error("Untranslated exception", nx);
    }
}
