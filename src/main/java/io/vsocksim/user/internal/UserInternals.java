package io.vsocksim.user.internal;

import io.vsocksim.fs.FdTable;
import io.vsocksim.kernel.Cred;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vsock.VsockSock;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The inside of a {@link UserProcess} and a {@link VsockSocket} for the module's own code (the
 * {@code vsock_test} port, the tools, the tests): a process's credentials, descriptor table and address
 * space, a socket object's kernel socket, and the calls that stand in for faulting user memory. The
 * package is not exported, so an embedder sees only the processes' and sockets' API.
 *
 * <p>{@code io.vsocksim.user} implements {@link Access} and installs it when {@code UserProcess} is
 * initialised, as {@code SimInternals} is installed by {@code Machine} (the JDK's {@code SharedSecrets}
 * pattern): the members stay package-private and nothing is reflected on. The one static field is
 * written once, at that initialisation.
 */
public final class UserInternals {
    /** What {@code io.vsocksim.user} gives this class; implemented there, installed once. */
    public interface Access {
        /** The process's credentials. */
        Cred cred(UserProcess p);

        /** The process's descriptor table. */
        FdTable files(UserProcess p);

        /** The process's address space. */
        MmStruct mm(UserProcess p);

        /** The kernel socket behind the object. */
        VsockSock sock(VsockSocket s);

        /** send(2) from a buffer of which only the first {@code accessibleBytes} are mapped. */
        int sendFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException;

        /** recv(2) into a buffer of which only the first {@code accessibleBytes} are mapped. */
        int recvFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException;

        /** send(2) of user memory {@code ub}. */
        int send(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException;

        /** recv(2) into user memory {@code ub}. */
        int recv(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException;

        /** send(2) of user memory {@code ub} by descriptor: count or {@code -errno}. */
        long send(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes);

        /** recv(2) into user memory {@code ub} by descriptor: count or {@code -errno}. */
        long recv(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes);
    }

    private static volatile Access access;

    private UserInternals() {
    }

    /**
     * Called once, by {@code UserProcess}'s static initialiser.
     *
     * @throws IllegalStateException on a second call
     */
    public static synchronized void install(Access a) {
        if (access != null) {
            throw new IllegalStateException("UserInternals installed twice");
        }
        access = Objects.requireNonNull(a, "a");
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            try {
                MethodHandles.lookup().ensureInitialized(UserProcess.class); // its initialiser installs the bridge
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
            a = access;
        }
        return a;
    }

    /** The process's credentials ({@code current->cred} during its calls). */
    public static Cred cred(UserProcess p) {
        return access().cred(p);
    }

    /** The process's descriptor table. */
    public static FdTable files(UserProcess p) {
        return access().files(p);
    }

    /** The process's address space. */
    public static MmStruct mm(UserProcess p) {
        return access().mm(p);
    }

    /** The kernel socket behind {@code s}, for diagnostics and white-box tests. */
    public static VsockSock sock(VsockSocket s) {
        return access().sock(s);
    }

    /**
     * recv(2) into a user buffer of which only the first {@code accessibleBytes} are mapped: the rest
     * faults (EFAULT), like a buffer with an unmapped page or a NULL pointer ({@code 0}).
     */
    public static int recvFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes)
            throws ErrnoException {
        return access().recvFaulting(s, buf, flags, accessibleBytes);
    }

    /**
     * send(2) from a user buffer of which only the first {@code accessibleBytes} are mapped; copying
     * the rest faults (the transport reports ENOMEM, as the kernel does).
     */
    public static int sendFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes)
            throws ErrnoException {
        return access().sendFaulting(s, buf, flags, accessibleBytes);
    }

    /**
     * send(2) of {@code len} bytes at {@code off} of user memory {@code ub} (from
     * {@code SimInternals.allocUserBuffer}): with MSG_ZEROCOPY and SO_ZEROCOPY its pages can be pinned
     * instead of copied; {@code accessibleBytes} of them are mapped, the rest faults; null is NULL.
     */
    public static int send(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes)
            throws ErrnoException {
        return access().send(s, ub, off, len, flags, accessibleBytes);
    }

    /** {@link #send(VsockSocket, UserBuffer, int, int, int, int)} of {@code len} fully mapped bytes. */
    public static int send(VsockSocket s, UserBuffer ub, int off, int len, int flags) throws ErrnoException {
        return send(s, ub, off, len, flags, len);
    }

    /** recv(2) into {@code len} bytes at {@code off} of user memory {@code ub}, as send sends from it. */
    public static int recv(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes)
            throws ErrnoException {
        return access().recv(s, ub, off, len, flags, accessibleBytes);
    }

    /** send(2) of user memory by descriptor, as {@link #send(VsockSocket, UserBuffer, int, int, int, int)}: count or {@code -errno}. */
    public static long send(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return access().send(p, fd, ub, off, len, flags, accessibleBytes);
    }

    /** recv(2) into user memory by descriptor: count or {@code -errno}. */
    public static long recv(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return access().recv(p, fd, ub, off, len, flags, accessibleBytes);
    }
}
