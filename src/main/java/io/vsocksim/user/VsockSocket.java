package io.vsocksim.user;

import static io.vsocksim.uapi.Errno.EBADF;

import io.vsocksim.uapi.Mman;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.net.SocketFile;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.Capability;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.vsock.VsockSock;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.Objects;

/**
 * An AF_VSOCK socket as an object: a handle on one socket descriptor of a {@link UserProcess}, with one
 * method per system call. Each method is that process's call by descriptor ({@code proc.recv(fd, ...)}
 * and the like), so the socket has the process's credentials, signals and restart rules, and a C
 * program's calls and this object's meet the same descriptor; a negative result becomes an
 * {@link ErrnoException} carrying the exact Linux errno. {@link #open(Machine, int)} makes one in the
 * machine's embedder process ({@link UserProcess#embedder(Machine)}), {@link UserProcess#socket(int)} in a
 * given one.
 *
 * <p>{@link #close()} closes the descriptor: the socket is released when no descriptor (a
 * {@code dup} of it, a {@code fork}'s copy) and no call in progress holds it any more. Calls on a
 * closed handle fail with EBADF without looking at the number, which the process may have reused.
 *
 * <p>An interrupted infinite wait ends with EINTR unless a handler with SA_RESTART ran (then the call
 * restarts); thread interruption stands for a signal the process has no handler for. Data calls
 * return byte counts like the syscalls: {@code 0} from {@link #recv} is end-of-stream. Several
 * threads may use one socket at once, as with a file descriptor.
 *
 * <p><b>Bad arguments</b> (docs/errors.md). An argument that stands for a C pointer whose length the
 * call knows (a {@link SockaddrVm}, an address with {@code addrlen}, an option value with
 * {@code optlen}) is checked as the kernel checks the same C call: null is a NULL pointer and bytes
 * outside the buffer are unmapped, so they fail with the errno the kernel gives at the copy (usually
 * EFAULT), after the kernel's own length checks. A null data {@link ByteBuffer} (send, recv and their
 * variants) has no length for a C call to carry, and throws {@link NullPointerException} before the
 * call does anything.
 */
public final class VsockSocket implements AutoCloseable {
    private final UserProcess proc;
    private final int fd;
    /** The socket the descriptor referred to when the handle was made (diagnostics). */
    private final SocketFile file;
    private volatile boolean closed;

    VsockSocket(UserProcess proc, int fd, SocketFile file) {
        this.proc = proc;
        this.fd = fd;
        this.file = file;
    }

    /**
     * socket(AF_VSOCK, type, 0) by {@code machine}'s embedder process ({@link UserProcess#embedder(Machine)}:
     * root, SIGPIPE ignored, as the JVM that embeds the simulator). {@code type} may carry SOCK_NONBLOCK /
     * SOCK_CLOEXEC.
     *
     * @throws ErrnoException as socket(2): EINVAL for other type flags, ESOCKTNOSUPPORT or EPROTONOSUPPORT,
     *     EAFNOSUPPORT while vsock is not loaded, EMFILE
     */
    public static VsockSocket open(Machine machine, int type) throws ErrnoException {
        return UserProcess.embedder(machine).socket(type);
    }

    /**
     * socket(AF_VSOCK, type, protocol) by the embedder process (root) if {@code privileged}, else by an
     * embedder process without capabilities (uid 65534). Bits of {@code type} above the type itself other
     * than SOCK_NONBLOCK and SOCK_CLOEXEC are EINVAL.
     */
    public static VsockSocket open(Machine machine, int type, int protocol, boolean privileged) throws ErrnoException {
        return open(machine, type, protocol, privileged ? Capability.ALL : Capability.NONE);
    }

    /**
     * socket(AF_VSOCK, type, protocol) by an embedder process whose effective capabilities are
     * {@code capEffective} (a {@link Capability} bitmask): root with every capability, else uid 65534 with
     * exactly those ({@link UserProcess#embedder(Machine, long)}).
     */
    public static VsockSocket open(Machine machine, int type, int protocol, long capEffective) throws ErrnoException {
        return UserProcess.embedder(machine, capEffective).socket(type, protocol);
    }

    /** The process whose descriptor this is. */
    public UserProcess process() {
        return proc;
    }

    /** The descriptor number in {@link #process()}. */
    public int fd() {
        return fd;
    }

    /** The kernel socket, for diagnostics and white-box tests ({@code UserInternals.sock}). */
    VsockSock sock() {
        return file.sock();
    }

    /** The descriptor for {@code call}: EBADF once the handle is closed (its number may be reused). */
    private int fdFor(String call) throws ErrnoException {
        if (closed) {
            throw new ErrnoException(EBADF, call);
        }
        return fd;
    }

    private static long check(long ret, String call) throws ErrnoException {
        return ErrnoException.check(ret, call);
    }

    // ---- addresses ----------------------------------------------------------------------------------

    /** bind(2); a null {@code addr} is {@code bind(fd, NULL, sizeof(struct sockaddr_vm))}: EFAULT. */
    public void bind(SockaddrVm addr) throws ErrnoException {
        check(proc.bind(fdFor("bind"), addr), "bind");
    }

    /** bind(2) to {@code (cid, port)}. */
    public void bind(int cid, int port) throws ErrnoException {
        bind(new SockaddrVm(cid, port));
    }

    /** bind(2) with a raw {@code struct sockaddr} of {@code addrlen} bytes (for bad-address cases). */
    public void bind(ByteBuffer addr, int addrlen) throws ErrnoException {
        check(proc.bind(fdFor("bind"), addr, addrlen), "bind");
    }

    /** getsockname(2). */
    public SockaddrVm getsockname() throws ErrnoException {
        return getname(false, "getsockname");
    }

    /** getpeername(2). */
    public SockaddrVm getpeername() throws ErrnoException {
        return getname(true, "getpeername");
    }

    private SockaddrVm getname(boolean peer, String call) throws ErrnoException {
        int d = fdFor(call);
        ByteBuffer addr = ByteBuffer.allocate(SockaddrVm.SIZE);
        int[] len = {SockaddrVm.SIZE};
        check(peer ? proc.getpeername(d, addr, len) : proc.getsockname(d, addr, len), call);
        SockaddrVm[] out = new SockaddrVm[1];
        check(SockaddrVm.decode(addr, 0, len[0], out), call);
        return out[0];
    }

    // ---- connections --------------------------------------------------------------------------------

    /**
     * listen(2): a {@code backlog} above the machine's {@code net.core.somaxconn} (unsigned, so a
     * negative one too) is lowered to it before the protocol sees it.
     */
    public void listen(int backlog) throws ErrnoException {
        check(proc.listen(fdFor("listen"), backlog), "listen");
    }

    /** accept(2). */
    public VsockSocket accept() throws ErrnoException {
        return accept(0);
    }

    /**
     * accept4(2): the connection on a new descriptor of the same process. {@code flags} may hold
     * {@link Sock#SOCK_NONBLOCK} for the new socket and {@link Sock#SOCK_CLOEXEC}; any other bit is EINVAL.
     */
    public VsockSocket accept(int flags) throws ErrnoException {
        SocketFile[] accepted = new SocketFile[1];
        int nfd = (int) check(proc.accept4(fdFor("accept"), flags, accepted), "accept");
        return new VsockSocket(proc, nfd, accepted[0]);
    }

    /**
     * connect(2); blocking unless the socket is non-blocking (then EINPROGRESS / EALREADY). A null
     * {@code addr} is {@code connect(fd, NULL, sizeof(struct sockaddr_vm))}: EFAULT.
     */
    public void connect(SockaddrVm addr) throws ErrnoException {
        check(proc.connect(fdFor("connect"), addr), "connect");
    }

    /** connect(2) to {@code (cid, port)}. */
    public void connect(int cid, int port) throws ErrnoException {
        connect(new SockaddrVm(cid, port));
    }

    /** connect(2) with a raw address of {@code addrlen} bytes. */
    public void connect(ByteBuffer addr, int addrlen) throws ErrnoException {
        check(proc.connect(fdFor("connect"), addr, addrlen), "connect");
    }

    /** shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
    public void shutdown(int how) throws ErrnoException {
        check(proc.shutdown(fdFor("shutdown"), how), "shutdown");
    }

    /**
     * close(2) of the descriptor: the socket is released now, or when the last other descriptor or
     * call still running on it lets go (graceful close then runs in the background as in the kernel).
     * A second close does nothing.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        proc.close(fd);
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** {@code ioctl(FIONBIO)}: sets or clears O_NONBLOCK on the file (every duplicate sees it). */
    public void setNonBlocking(boolean on) {
        if (!closed) {
            proc.ioctl(fd, Fcntl.FIONBIO, IntBuffer.wrap(new int[] {on ? 1 : 0}));
        }
    }

    // ---- data ---------------------------------------------------------------------------------------

    /**
     * send(2): sends {@code buf}'s remaining bytes, advancing its position by what was sent.
     *
     * @return bytes sent
     */
    public int send(ByteBuffer buf, int flags) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.send(fdFor("send"), buf, flags), "send");
    }

    /** sendto(2) with a destination address: EISCONN on a connected socket, EOPNOTSUPP otherwise. */
    public int sendto(ByteBuffer buf, int flags, SockaddrVm dest) throws ErrnoException {
        requireBuffer(buf);
        ByteBuffer addr = dest == null ? null : ByteBuffer.wrap(dest.toBytes());
        return (int) check(proc.sendto(fdFor("sendto"), buf, flags, addr, dest == null ? 0 : SockaddrVm.SIZE), "sendto");
    }

    /** write(2): send(2) without flags ({@code sock_write_iter}: MSG_EOR on SOCK_SEQPACKET). */
    public int write(ByteBuffer buf) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.write(fdFor("send"), buf), "send");
    }

    /**
     * recv(2): receives into {@code buf}'s remaining space, advancing its position.
     *
     * @return bytes received (with MSG_TRUNC on SEQPACKET: the message length), 0 at end of stream
     */
    public int recv(ByteBuffer buf, int flags) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.recv(fdFor("recvmsg"), buf, flags), "recvmsg");
    }

    /** read(2): recv(2) without flags ({@code sock_read_iter}: 0 at once for an empty buffer). */
    public int read(ByteBuffer buf) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.read(fdFor("recvmsg"), buf), "recvmsg");
    }

    /**
     * recvmsg(2): like {@link #recv}, and {@code msgFlagsOut[0]} receives {@code msg_flags}
     * (MSG_TRUNC, MSG_EOR; MSG_CMSG_CLOEXEC when passed), 0 if the call failed.
     *
     * @throws IllegalArgumentException if {@code msgFlagsOut} is an empty array (null is allowed)
     */
    public int recvmsg(ByteBuffer buf, int flags, int[] msgFlagsOut) throws ErrnoException {
        return recvmsg(buf, null, flags, msgFlagsOut);
    }

    /**
     * recvmsg(2) with a control buffer: with MSG_ERRQUEUE, {@code control} receives one cmsg
     * ({@code SOL_VSOCK}/{@code VSOCK_RECVERR} + {@code struct sock_extended_err}) from its position,
     * which advances past it; {@code msgFlagsOut[0]} receives {@code msg_flags} (MSG_ERRQUEUE,
     * MSG_CTRUNC ...).
     */
    public int recvmsg(ByteBuffer buf, ByteBuffer control, int flags, int[] msgFlagsOut) throws ErrnoException {
        requireBuffer(buf);
        if (msgFlagsOut != null && msgFlagsOut.length == 0) {
            throw new IllegalArgumentException("msgFlagsOut must be null or hold one int: length=0");
        }
        int d = fdFor("recvmsg");
        UserMsghdr msg = UserMsghdr.of(buf);
        msg.control = control;
        msg.controllen = control == null ? 0 : control.remaining();
        long n = proc.recvmsg(d, msg, flags);
        if (msgFlagsOut != null) {
            msgFlagsOut[0] = msg.flags;
        }
        check(n, "recvmsg");
        if (control != null) {
            control.position(control.position() + msg.controllen);
        }
        return (int) n;
    }

    /**
     * recv(2) into a user buffer of which only the first {@code accessibleBytes} are mapped: the rest
     * faults (EFAULT), like a buffer with an unmapped page or a NULL pointer ({@code 0}).
     */
    int recvFaulting(ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.onSocket(fdFor("recv"), s -> s.recvFaulting(buf, flags, accessibleBytes)), "recv");
    }

    /**
     * send(2) from a user buffer of which only the first {@code accessibleBytes} are mapped; copying
     * the rest faults (the transport reports ENOMEM, as the kernel does).
     */
    int sendFaulting(ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        requireBuffer(buf);
        return (int) check(proc.onSocket(fdFor("send"), s -> s.sendFaulting(buf, flags, accessibleBytes)), "send");
    }

    /**
     * send(2) of {@code len} bytes at offset {@code off} of user memory {@code ub} (allocated with
     * {@code SimInternals.allocUserBuffer}, or a process's anonymous memory): with MSG_ZEROCOPY and
     * SO_ZEROCOPY its pages can be pinned instead of copied. {@code accessibleBytes} of them are mapped,
     * the rest faults (pass {@code len} for a fully mapped range); a null {@code ub} is an address where
     * nothing is mapped (NULL).
     *
     * <p>As for the C call with {@code ub + off}: memory outside the buffer counts as unmapped, so an
     * {@code off} outside {@code [0, size]} or a range running past the end sends what is mapped and
     * then faults (a short count, or the transport's ENOMEM if nothing could be sent); a negative
     * {@code len} is a huge {@code size_t}, cut to {@code MAX_RW_COUNT} as {@code import_ubuf} does.
     *
     * @return bytes sent
     */
    int send(UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException {
        return (int) check(proc.send(fdFor("send"), ub, off, len, flags, accessibleBytes), "send");
    }

    /**
     * recv(2) into {@code len} bytes at offset {@code off} of user memory {@code ub}, as
     * {@link #send(UserBuffer, int, int, int, int)} sends from it: bytes past {@code accessibleBytes}
     * or outside the buffer fault (EFAULT), a null {@code ub} is NULL.
     *
     * @return bytes received (with MSG_TRUNC on SEQPACKET: the message length), 0 at end of stream
     */
    int recv(UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException {
        return (int) check(proc.recv(fdFor("recv"), ub, off, len, flags, accessibleBytes), "recv");
    }

    /** send(2) of {@code len} fully mapped bytes at offset {@code off} of user memory {@code ub}. */
    int send(UserBuffer ub, int off, int len, int flags) throws ErrnoException {
        return send(ub, off, len, flags, len);
    }

    /**
     * {@code recvmsg(MSG_ERRQUEUE)}, parsed: the oldest MSG_ZEROCOPY completion. Never blocks.
     *
     * @throws ErrnoException EAGAIN when the error queue is empty
     */
    public SockExtendedErr recvErrqueue() throws ErrnoException {
        SockExtendedErr[] out = new SockExtendedErr[1];
        check(proc.onSocket(fdFor("recvmsg"), s -> s.recvErrqueue(out)), "recvmsg");
        return out[0];
    }

    /** A data buffer carries its own length: without one there is no C call to model. */
    private static void requireBuffer(ByteBuffer buf) {
        Objects.requireNonNull(buf, "buf: a data buffer may not be null (docs/errors.md)");
    }

    // ---- events, options, ioctl ---------------------------------------------------------------------

    /**
     * poll(2) on this socket: the revents for {@code events}, waiting up to {@code timeoutMs}
     * (negative: forever, 0 not at all); 0 on timeout. A timeout too long to represent (up to
     * {@code Long.MAX_VALUE}) saturates, as ppoll's does, and waits forever.
     */
    public int poll(int events, long timeoutMs) throws ErrnoException {
        return (int) check(proc.poll(fdFor("poll"), events, timeoutMs), "poll");
    }

    /**
     * setsockopt(2) with a raw value of {@code optlen} bytes (little-endian, as in C on x86-64). The
     * value is read from index 0; a null {@code optval}, or one smaller than what the option reads, is
     * EFAULT after the option's length check, as for a NULL or short user pointer.
     */
    public void setsockopt(int level, int optname, ByteBuffer optval, int optlen) throws ErrnoException {
        check(proc.setsockopt(fdFor("setsockopt"), level, optname, optval, optlen), "setsockopt");
    }

    /**
     * getsockopt(2): fills {@code optval} from index 0 and returns the resulting optlen. A null
     * {@code optval}, or one smaller than the bytes to copy, is EFAULT; with nothing to copy (an
     * optlen of 0 at SOL_SOCKET) it is never touched.
     */
    public int getsockopt(int level, int optname, ByteBuffer optval, int optlen) throws ErrnoException {
        return (int) check(proc.getsockopt(fdFor("getsockopt"), level, optname, optval, optlen), "getsockopt");
    }

    /**
     * mmap(2) of the socket ({@code MAP_SHARED}): a read-only area of {@code length} bytes (rounded up
     * to pages) in the process, for zerocopy receive (RFC, not upstream). ENODEV when the machine's
     * {@link io.vsocksim.uapi.ZerocopyPolicy} is OFF (6.12.117's {@code sock_no_mmap}); EPERM for
     * PROT_WRITE or PROT_EXEC; EBUSY while the socket has a live mapping.
     *
     * @return the start address
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1: vsock_mmap")
    public long mmap(long length, int prot) throws ErrnoException {
        return check(proc.mmap(0, length, prot, Mman.MAP_SHARED, fdFor("mmap"), 0), "mmap");
    }

    /** setsockopt with an {@code int} value. */
    public void setsockoptInt(int level, int optname, int value) throws ErrnoException {
        setsockopt(level, optname, le(4).putInt(0, value), 4);
    }

    /** getsockopt of an {@code int} value. */
    public int getsockoptInt(int level, int optname) throws ErrnoException {
        ByteBuffer b = le(4);
        getsockopt(level, optname, b, 4);
        return b.getInt(0);
    }

    /** setsockopt with a u64 value (the SO_VM_SOCKETS_BUFFER_* options). */
    public void setsockoptLong(int level, int optname, long value) throws ErrnoException {
        setsockopt(level, optname, le(8).putLong(0, value), 8);
    }

    /** getsockopt of a u64 value. */
    public long getsockoptLong(int level, int optname) throws ErrnoException {
        ByteBuffer b = le(8);
        getsockopt(level, optname, b, 8);
        return b.getLong(0);
    }

    /** setsockopt with a 16-byte timeval {@code {sec, usec}}. */
    public void setsockoptTimeval(int level, int optname, long sec, long usec) throws ErrnoException {
        setsockopt(level, optname, le(16).putLong(0, sec).putLong(8, usec), 16);
    }

    /** getsockopt of a timeval: {@code {sec, usec}}. */
    public long[] getsockoptTimeval(int level, int optname) throws ErrnoException {
        ByteBuffer b = le(16);
        getsockopt(level, optname, b, 16);
        return new long[] {b.getLong(0), b.getLong(8)};
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** SO_VM_SOCKETS_BUFFER_SIZE. */
    public void setBufferSize(long bytes) throws ErrnoException {
        setsockoptLong(VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE, bytes);
    }

    /**
     * ioctl(2) with an {@code int} argument: the value the call stores there (SIOCOUTQ: unsent bytes),
     * or its result if it stores none. The VFS's own commands (FIONBIO, FIOCLEX ...) come first; for
     * a socket, the rest go to {@code sock_ioctl} and {@code vsock_ioctl} (ENOTTY for what they do
     * not know).
     */
    public long ioctl(int cmd) throws ErrnoException {
        IntBuffer arg = IntBuffer.allocate(1);
        long r = check(proc.ioctl(fdFor("ioctl"), cmd, arg), "ioctl");
        return r == 0 ? arg.get(0) : r;
    }

    /** SIGPIPE signals raised by this socket's sends so far (the embedder process ignores them). */
    public long sigpipes() {
        return file.sigpipes();
    }

    @Override
    public String toString() {
        return "VsockSocket{fd " + fd + " of " + proc + ", " + file.sock() + (closed ? ", closed" : "") + "}";
    }
}
