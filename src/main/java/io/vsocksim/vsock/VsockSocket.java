package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ERESTARTSYS;

import io.vsocksim.Linux;
import io.vsocksim.fs.OpenFile;
import io.vsocksim.kernel.TaskWork;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.kernel.WorkQueue;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An AF_VSOCK socket as user space sees it: one method per system call, kernel semantics underneath.
 *
 * <p>A failed call throws {@link ErrnoException} carrying the exact Linux errno; {@code ERESTARTSYS}
 * (an interrupted infinite wait) reaches the caller as EINTR, as for a signal handler without
 * SA_RESTART. Data calls return byte counts like the syscalls: {@code 0} from {@link #recv} is
 * end-of-stream. Thread interruption plays the role of a signal.
 *
 * <p>Several threads may use one socket at once, as with a file descriptor; calls serialise on the
 * socket lock exactly where the kernel's do.
 *
 * <p><b>Bad arguments</b> (docs/errors.md). An argument that stands for a C pointer whose length the
 * call knows (a {@link SockaddrVm}, an address with {@code addrlen}, an option value with
 * {@code optlen}, user memory with an offset and length) is checked as the kernel checks the same C
 * call: null is a NULL pointer and bytes outside the buffer are unmapped, so they fail with the errno
 * the kernel gives at the copy (usually EFAULT), after the kernel's own length checks. A null data
 * {@link ByteBuffer} (send, recv and their variants) or {@link io.vsocksim.mm.UserBuffer} has no length
 * for a C call to carry, and throws {@link NullPointerException} before the call does anything.
 */
public final class VsockSocket implements AutoCloseable, OpenFile {
    private final VsockSock sk;
    /**
     * One reusable msghdr per calling thread: calls from several threads must not serialise on
     * anything but the socket lock (a blocked recv must not hold up another thread's MSG_DONTWAIT).
     */
    private final ThreadLocal<MsgHdr> msgs = ThreadLocal.withInitial(MsgHdr::new);
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private volatile boolean closed;
    private volatile io.vsocksim.mm.MmStruct mm;
    /**
     * {@code f_count} of the file: 1 for the descriptor plus one per call that may block. close()
     * drops the descriptor's reference; the socket is released by whoever drops the last one, so a
     * call in progress on another thread finishes on a live socket (generic fdget/fput).
     */
    private final java.util.concurrent.atomic.AtomicInteger fileRefs = new java.util.concurrent.atomic.AtomicInteger(1);
    /** File status flags other than O_NONBLOCK that F_SETFL stored (no effect on a socket's calls). */
    private volatile int statusFlags;
    /** {@code file->f_owner}: set by FIOSETOWN/SIOCSPGRP. */
    private final io.vsocksim.fs.FOwner owner = new io.vsocksim.fs.FOwner();

    /** Wraps a kernel socket (used by machines and by accept). */
    public VsockSocket(VsockSock sk) {
        this.sk = sk;
    }

    /** The kernel socket, for diagnostics and white-box tests. */
    public VsockSock sock() {
        return sk;
    }

    private void checkOpen(String call) throws ErrnoException {
        if (closed) {
            throw new ErrnoException(EBADF, call);
        }
    }

    /** fdget: a reference for one call, EBADF once the descriptor is closed. Pair with {@link #fput}. */
    private void fget(String call) throws ErrnoException {
        fget(call, false);
    }

    /** {@link #fget(String)} for a call that sends data ({@link TaskWork#enterSend}). */
    private void fgetSend(String call) throws ErrnoException {
        fget(call, true);
    }

    private void fget(String call, boolean send) throws ErrnoException {
        sk.core().kernel().cpus().enter();
        for (;;) {
            int refs = fileRefs.get();
            if (closed || refs == 0) {
                throw new ErrnoException(EBADF, call);
            }
            if (fileRefs.compareAndSet(refs, refs + 1)) {
                WorkQueue machine = sk.core().kernel().systemWq();
                TimeDomain.enterCall(machine.clock()); // RUNNING until fput, for time that jumps when idle
                if (send) {
                    TaskWork.enterSend(machine);
                } else {
                    TaskWork.enter(machine);
                }
                return;
            }
        }
    }

    /**
     * fdput at the end of a call: on the way back to user mode, runs the work the call queued
     * ({@link TaskWork}), then drops the call's reference.
     */
    private void fput() {
        TaskWork.exit();
        TimeDomain.exitCall(sk.core().kernel().clock());
        putFile();
    }

    @Override
    public boolean tryGetFile() {
        for (;;) {
            int refs = fileRefs.get();
            if (refs == 0) {
                return false;
            }
            if (fileRefs.compareAndSet(refs, refs + 1)) {
                return true;
            }
        }
    }

    /**
     * {@code f_flags}: {@code O_RDWR}, {@code O_NONBLOCK} (kept on the socket, where the calls read it)
     * and whatever else F_SETFL stored ({@code O_APPEND}, {@code O_ASYNC}, {@code O_NOATIME}).
     */
    @Override
    public int fileFlags() {
        return Fcntl.O_RDWR | (sk.nonblock ? Fcntl.O_NONBLOCK : 0) | statusFlags;
    }

    @Override
    public void setStatusFlags(int flags) {
        sk.nonblock = (flags & Fcntl.O_NONBLOCK) != 0;
        statusFlags = flags & Fcntl.SETFL_MASK & ~Fcntl.O_NONBLOCK;
    }

    /** {@code sock_ioctl} → {@code vsock_ioctl}: SIOCINQ, SIOCOUTQ; ENOTTY for anything else. */
    @Override
    public long fileIoctl(int cmd, long arg) {
        return AfVsock.ioctl(sk, cmd);
    }

    /** The file's owner ({@code f_owner}). */
    public io.vsocksim.fs.FOwner fileOwner() {
        return owner;
    }

    /** {@code sock_poll} → {@code vsock_poll}. */
    @Override
    public int filePoll() {
        return AfVsock.poll(sk);
    }

    /** {@code sk_sleep(sk)}: where wake-ups for this socket's pollers come from. */
    @Override
    public io.vsocksim.kernel.WaitQueueHead fileWaitQueue() {
        return sk.sleep;
    }

    /** fput: drops one file reference; the last one releases the socket (sock_close → vsock_release). */
    @Override
    public void putFile() {
        if (fileRefs.decrementAndGet() == 0) {
            AfVsock.release(sk);
        }
    }

    private static long check(long ret, String call) throws ErrnoException {
        if (ret == -ERESTARTSYS) {
            throw new ErrnoException(EINTR, ERESTARTSYS, call); // the process layer may restart it
        }
        return ErrnoException.check(ret, call);
    }

    // ---- addresses ----------------------------------------------------------------------------------

    /** bind(2); a null {@code addr} is {@code bind(fd, NULL, sizeof(struct sockaddr_vm))}: EFAULT. */
    public void bind(SockaddrVm addr) throws ErrnoException {
        checkOpen("bind");
        check(addr == null ? -EFAULT : AfVsock.bind(sk, addr, addr.validate()), "bind");
    }

    /** bind(2) to {@code (cid, port)}. */
    public void bind(int cid, int port) throws ErrnoException {
        bind(new SockaddrVm(cid, port));
    }

    /** bind(2) with a raw {@code struct sockaddr} of {@code addrlen} bytes (for bad-address cases). */
    public void bind(ByteBuffer addr, int addrlen) throws ErrnoException {
        checkOpen("bind");
        check(moveAddrToKernel(addr, addrlen), "bind");
        SockaddrVm[] out = new SockaddrVm[1];
        int rc = decodeAddr(addr, addrlen, out);
        check(AfVsock.bind(sk, out[0], rc), "bind");
    }

    /**
     * The syscall layer's copy of a user address before the protocol sees it: a length beyond
     * {@code sizeof(struct sockaddr_storage)} is EINVAL, an unreadable buffer (a NULL address, a
     * buffer shorter than {@code addrlen}) EFAULT; a zero length copies nothing.
     */
    @Linux(file = "net/socket.c", fn = "move_addr_to_kernel")
    public static int moveAddrToKernel(ByteBuffer addr, int addrlen) {
        if (addrlen < 0 || addrlen > SOCKADDR_STORAGE_SIZE) {
            return -EINVAL;
        }
        if (addrlen == 0) {
            return 0;
        }
        return addr == null || addr.capacity() - addr.position() < addrlen ? -EFAULT : 0;
    }

    /**
     * vsock_addr_cast() on the copied address: a length below {@code sizeof(struct sockaddr_vm)} fails
     * before the bytes are looked at, so {@code (NULL, 0)} gets the protocol's EINVAL, not a fault.
     */
    private static int decodeAddr(ByteBuffer addr, int addrlen, SockaddrVm[] out) {
        if (addr == null) {
            return -EFAULT; // only reached with addrlen 0: nothing was copied
        }
        return SockaddrVm.decode(addr, addr.position(), addrlen, out);
    }

    /** {@code sizeof(struct sockaddr_storage)}. */
    private static final int SOCKADDR_STORAGE_SIZE = 128;

    /** getsockname(2). */
    public SockaddrVm getsockname() throws ErrnoException {
        checkOpen("getsockname");
        SockaddrVm[] out = new SockaddrVm[1];
        check(AfVsock.getname(sk, false, out), "getsockname");
        return out[0];
    }

    /** getpeername(2). */
    public SockaddrVm getpeername() throws ErrnoException {
        checkOpen("getpeername");
        SockaddrVm[] out = new SockaddrVm[1];
        check(AfVsock.getname(sk, true, out), "getpeername");
        return out[0];
    }

    // ---- connections --------------------------------------------------------------------------------

    /**
     * listen(2): a {@code backlog} above the machine's {@code net.core.somaxconn} (unsigned, so a
     * negative one too) is lowered to it before the protocol sees it.
     */
    public void listen(int backlog) throws ErrnoException {
        checkOpen("listen");
        check(AfVsock.listen(sk, listenBacklog(backlog, sk.core().kernel().somaxconn())), "listen");
    }

    /** The backlog the syscall layer hands to the protocol's listen: clamped to somaxconn as unsigned. */
    @Linux(file = "net/socket.c", fn = "__sys_listen_socket")
    static int listenBacklog(int backlog, int somaxconn) {
        return Integer.compareUnsigned(backlog, somaxconn) > 0 ? somaxconn : backlog;
    }

    /** accept(2). */
    public VsockSocket accept() throws ErrnoException {
        return accept(0);
    }

    /**
     * accept4(2): {@code flags} may hold {@link Sock#SOCK_NONBLOCK} for the new socket and
     * {@link Sock#SOCK_CLOEXEC}; any other bit is EINVAL, before the descriptor is looked at.
     */
    @Linux(file = "net/socket.c", fn = "__sys_accept4_file")
    public VsockSocket accept(int flags) throws ErrnoException {
        if ((flags & ~(Sock.SOCK_CLOEXEC | Sock.SOCK_NONBLOCK)) != 0) {
            throw new ErrnoException(EINVAL, "accept");
        }
        fget("accept");
        try {
            VsockSock[] out = new VsockSock[1];
            check(AfVsock.accept(sk, sk.nonblock ? AfVsock.O_NONBLOCK : 0, out), "accept");
            out[0].nonblock = (flags & Sock.SOCK_NONBLOCK) != 0;
            VsockSocket n = new VsockSocket(out[0]);
            n.mm = mm; // the new descriptor belongs to the accepting process
            return n;
        } finally {
            fput();
        }
    }

    /**
     * connect(2); blocking unless the socket is non-blocking (then EINPROGRESS / EALREADY). A null
     * {@code addr} is {@code connect(fd, NULL, sizeof(struct sockaddr_vm))}: EFAULT.
     */
    public void connect(SockaddrVm addr) throws ErrnoException {
        if (addr == null) {
            checkOpen("connect");
            throw new ErrnoException(EFAULT, "connect");
        }
        fget("connect");
        try {
            check(AfVsock.connect(sk, addr, addr.validate(), sk.nonblock ? AfVsock.O_NONBLOCK : 0), "connect");
        } finally {
            fput();
        }
    }

    /** connect(2) to {@code (cid, port)}. */
    public void connect(int cid, int port) throws ErrnoException {
        connect(new SockaddrVm(cid, port));
    }

    /** connect(2) with a raw address of {@code addrlen} bytes. */
    public void connect(ByteBuffer addr, int addrlen) throws ErrnoException {
        checkOpen("connect");
        check(moveAddrToKernel(addr, addrlen), "connect");
        fget("connect");
        try {
            SockaddrVm[] out = new SockaddrVm[1];
            int rc = decodeAddr(addr, addrlen, out);
            check(AfVsock.connect(sk, out[0], rc, sk.nonblock ? AfVsock.O_NONBLOCK : 0), "connect");
        } finally {
            fput();
        }
    }

    /** shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
    public void shutdown(int how) throws ErrnoException {
        checkOpen("shutdown");
        check(AfVsock.shutdown(sk, how), "shutdown");
    }

    /**
     * close(2): drops the descriptor; the socket is released now, or when the last call still running
     * on it returns (graceful close then runs in the background as in the kernel).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        sk.core().kernel().cpus().enter();
        io.vsocksim.kernel.Clock clock = sk.core().kernel().clock();
        TimeDomain.enterCall(clock); // a lingering close sleeps in the call, like any other
        try {
            putFile();
        } finally {
            TimeDomain.exitCall(clock);
        }
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** fcntl(F_SETFL, O_NONBLOCK). */
    public void setNonBlocking(boolean on) {
        sk.nonblock = on;
    }

    // ---- data ---------------------------------------------------------------------------------------

    /**
     * send(2): sends {@code buf}'s remaining bytes, advancing its position by what was sent.
     *
     * @return bytes sent
     */
    public int send(ByteBuffer buf, int flags) throws ErrnoException {
        requireBuffer(buf);
        fgetSend("send");
        try {
            MsgHdr msg = msgs.get().init(buf, msgFlags(flags));
            return (int) check(VsockConnectible.sendmsg(sk, msg, buf.remaining()), "send");
        } finally {
            fput();
        }
    }

    /** sendto(2) with a destination address: EISCONN on a connected socket, EOPNOTSUPP otherwise. */
    public int sendto(ByteBuffer buf, int flags, SockaddrVm dest) throws ErrnoException {
        requireBuffer(buf);
        fgetSend("sendto");
        try {
            MsgHdr msg = msgs.get().init(buf, msgFlags(flags));
            msg.hasName = dest != null;
            return (int) check(VsockConnectible.sendmsg(sk, msg, buf.remaining()), "sendto");
        } finally {
            fput();
        }
    }

    /** write(2): {@code send(buf, 0)}. */
    public int write(ByteBuffer buf) throws ErrnoException {
        return send(buf, 0);
    }

    /**
     * recv(2): receives into {@code buf}'s remaining space, advancing its position.
     *
     * @return bytes received (with MSG_TRUNC on SEQPACKET: the message length), 0 at end of stream
     */
    public int recv(ByteBuffer buf, int flags) throws ErrnoException {
        return recvmsg(buf, flags, null);
    }

    /** read(2): {@code recv(buf, 0)}. */
    public int read(ByteBuffer buf) throws ErrnoException {
        return recv(buf, 0);
    }

    /**
     * recvmsg(2): like {@link #recv}, and {@code msgFlagsOut[0]} receives {@code msg_flags}
     * (MSG_TRUNC, MSG_EOR).
     *
     * @throws IllegalArgumentException if {@code msgFlagsOut} is an empty array (null is allowed)
     */
    public int recvmsg(ByteBuffer buf, int flags, int[] msgFlagsOut) throws ErrnoException {
        requireBuffer(buf);
        requireOut(msgFlagsOut);
        fget("recvmsg");
        try {
            int f = msgFlags(flags);
            MsgHdr msg = msgs.get().init(buf, f);
            long ret = VsockConnectible.recvmsg(sk, msg, buf.remaining(), f);
            if (msgFlagsOut != null) {
                msgFlagsOut[0] = msg.msgFlags;
            }
            return (int) check(ret, "recvmsg");
        } finally {
            fput();
        }
    }

    /**
     * recv(2) into a user buffer of which only the first {@code accessibleBytes} are mapped: the rest
     * faults (EFAULT), like a buffer with an unmapped page or a NULL pointer ({@code 0}).
     */
    public int recvFaulting(ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        requireBuffer(buf);
        fget("recv");
        try {
            int f = msgFlags(flags);
            MsgHdr msg = msgs.get().init(buf, f).faultAfter(accessibleBytes);
            return (int) check(VsockConnectible.recvmsg(sk, msg, buf.remaining(), f), "recv");
        } finally {
            fput();
        }
    }

    /**
     * send(2) from a user buffer of which only the first {@code accessibleBytes} are mapped; copying
     * the rest faults (the transport reports ENOMEM, as the kernel does).
     */
    public int sendFaulting(ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        requireBuffer(buf);
        fgetSend("send");
        try {
            MsgHdr msg = msgs.get().init(buf, msgFlags(flags)).faultAfter(accessibleBytes);
            return (int) check(VsockConnectible.sendmsg(sk, msg, buf.remaining()), "send");
        } finally {
            fput();
        }
    }

    /**
     * send(2) of {@code len} bytes at offset {@code off} of user memory {@code ub} (allocated with
     * {@code Machine.allocUserBuffer}, or a process's anonymous memory): with MSG_ZEROCOPY and
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
    @Linux(file = "lib/iov_iter.c", fn = "import_ubuf")
    public int send(io.vsocksim.mm.UserBuffer ub, int off, int len, int flags, int accessibleBytes)
            throws ErrnoException {
        long want = len < 0 ? MAX_RW_COUNT : Math.min(len, MAX_RW_COUNT);
        ByteBuffer buf = userRange(ub, off, want);
        fgetSend("send");
        try {
            MsgHdr msg = msgs.get().init(buf, msgFlags(flags)).length((int) want)
                    .faultAfter(Math.min(buf.remaining(), accessibleBytes));
            if (ub != null) {
                msg.userMemory(ub.pages(), ub.handle(), ub.gpa());
            }
            return (int) check(VsockConnectible.sendmsg(sk, msg, want), "send");
        } finally {
            fput();
        }
    }

    /**
     * recv(2) into {@code len} bytes at offset {@code off} of user memory {@code ub}, as
     * {@link #send(io.vsocksim.mm.UserBuffer, int, int, int, int)} sends from it: bytes past
     * {@code accessibleBytes} or outside the buffer fault (EFAULT), a null {@code ub} is NULL.
     *
     * @return bytes received (with MSG_TRUNC on SEQPACKET: the message length), 0 at end of stream
     */
    @Linux(file = "lib/iov_iter.c", fn = "import_ubuf")
    public int recv(io.vsocksim.mm.UserBuffer ub, int off, int len, int flags, int accessibleBytes)
            throws ErrnoException {
        long want = len < 0 ? MAX_RW_COUNT : Math.min(len, MAX_RW_COUNT);
        ByteBuffer buf = userRange(ub, off, want);
        fget("recv");
        try {
            int f = msgFlags(flags);
            MsgHdr msg = msgs.get().init(buf, f).length((int) want)
                    .faultAfter(Math.min(buf.remaining(), accessibleBytes));
            return (int) check(VsockConnectible.recvmsg(sk, msg, want, f), "recv");
        } finally {
            fput();
        }
    }

    /** The part of {@code [off, off + want)} that lies inside {@code ub}, as a buffer over it (empty if none). */
    private static ByteBuffer userRange(io.vsocksim.mm.UserBuffer ub, int off, long want) {
        if (ub == null || off < 0 || off > ub.size()) {
            return EMPTY; // the first byte is already outside the buffer
        }
        ByteBuffer buf = ub.buffer().duplicate();
        int mapped = (int) Math.min(want, ub.size() - off);
        return buf.limit(off + mapped).position(off);
    }

    /** send(2) of {@code len} fully mapped bytes at offset {@code off} of user memory {@code ub}. */
    public int send(io.vsocksim.mm.UserBuffer ub, int off, int len, int flags) throws ErrnoException {
        return send(ub, off, len, flags, len);
    }

    /**
     * recvmsg(2) with a control buffer: with MSG_ERRQUEUE, {@code control} receives one cmsg
     * ({@code SOL_VSOCK}/{@code VSOCK_RECVERR} + {@code struct sock_extended_err}) from its position,
     * which advances past it; {@code msgFlagsOut[0]} receives {@code msg_flags} (MSG_ERRQUEUE,
     * MSG_CTRUNC ...).
     */
    public int recvmsg(ByteBuffer buf, ByteBuffer control, int flags, int[] msgFlagsOut) throws ErrnoException {
        requireBuffer(buf);
        requireOut(msgFlagsOut);
        fget("recvmsg");
        try {
            int f = msgFlags(flags);
            MsgHdr msg = msgs.get().init(buf, f);
            msg.control = control;
            long ret = VsockConnectible.recvmsg(sk, msg, buf.remaining(), f);
            if (msgFlagsOut != null) {
                msgFlagsOut[0] = msg.msgFlags;
            }
            return (int) check(ret, "recvmsg");
        } finally {
            fput();
        }
    }

    /**
     * {@code recvmsg(MSG_ERRQUEUE)}, parsed: the oldest MSG_ZEROCOPY completion. Never blocks.
     *
     * @throws ErrnoException EAGAIN when the error queue is empty
     */
    public SockExtendedErr recvErrqueue() throws ErrnoException {
        fget("recvmsg");
        try {
            MsgHdr msg = msgs.get().init(EMPTY, Sock.MSG_ERRQUEUE);
            check(VsockConnectible.recvmsg(sk, msg, 0, Sock.MSG_ERRQUEUE), "recvmsg");
            return msg.errqueueOut;
        } finally {
            fput();
        }
    }

    /** {@code MAX_RW_COUNT}: the most one read or write moves ({@code INT_MAX & PAGE_MASK}). */
    static final int MAX_RW_COUNT = Integer.MAX_VALUE & ~(io.vsocksim.mm.GuestMemory.PAGE_SIZE - 1);

    /** A data buffer carries its own length: without one there is no C call to model. */
    private static void requireBuffer(ByteBuffer buf) {
        java.util.Objects.requireNonNull(buf, "buf: a data buffer may not be null (docs/errors.md)");
    }

    /** An out array must have room for its value, checked before any data is consumed. */
    private static void requireOut(int[] out) {
        if (out != null && out.length == 0) {
            throw new IllegalArgumentException("msgFlagsOut must be null or hold one int: length=0");
        }
    }

    /** Adds MSG_DONTWAIT for a non-blocking file, as the syscall layer does. */
    private int msgFlags(int flags) {
        return sk.nonblock ? flags | Sock.MSG_DONTWAIT : flags;
    }

    // ---- events, options, ioctl ---------------------------------------------------------------------

    /**
     * poll(2) on this socket: the revents for {@code events}, waiting up to {@code timeoutMs}
     * (negative: forever, 0 not at all); 0 on timeout. A timeout too long to represent (up to
     * {@code Long.MAX_VALUE}) saturates, as ppoll's does, and waits forever.
     */
    public int poll(int events, long timeoutMs) throws ErrnoException {
        fget("poll");
        try {
            return (int) check(AfVsock.pollWait(sk, events, timeoutMs), "poll");
        } finally {
            fput();
        }
    }

    /**
     * setsockopt(2) with a raw value of {@code optlen} bytes (little-endian, as in C on x86-64). The
     * value is read from index 0; a null {@code optval}, or one smaller than what the option reads, is
     * EFAULT after the option's length check, as for a NULL or short user pointer.
     */
    public void setsockopt(int level, int optname, ByteBuffer optval, int optlen) throws ErrnoException {
        checkOpen("setsockopt");
        check(VsockSockopt.setsockopt(sk, level, optname, optval, optlen), "setsockopt");
    }

    /**
     * getsockopt(2): fills {@code optval} from index 0 and returns the resulting optlen. A null
     * {@code optval}, or one smaller than the bytes to copy, is EFAULT; with nothing to copy (an
     * optlen of 0 at SOL_SOCKET) it is never touched.
     */
    public int getsockopt(int level, int optname, ByteBuffer optval, int optlen) throws ErrnoException {
        checkOpen("getsockopt");
        if (level == VmSockets.AF_VSOCK && optname == VmSockets.SO_VM_SOCKETS_ZEROCOPY
                && VsockZerocopyRx.enabled(sk)) {
            TaskWork.enter(sk.core().kernel().systemWq()); // the credit update it sends leaves at return to user, as a send's packets
            try {
                return (int) check(VsockZerocopyRx.getsockopt(sk, mm, optval, optlen), "getsockopt");
            } finally {
                TaskWork.exit();
            }
        }
        return (int) check(VsockSockopt.getsockopt(sk, level, optname, optval, optlen), "getsockopt");
    }

    // ---- zerocopy receive (RFC, not upstream) -------------------------------------------------------

    /**
     * SIM: gives this descriptor to a process, whose address space {@link #mmap} maps into and whose
     * addresses {@code getsockopt(SO_VM_SOCKETS_ZEROCOPY)} takes (the kernel's {@code current->mm}).
     * {@code io.vsocksim.sim.UserProcess} calls it; accepted sockets inherit it.
     */
    public void attachProcess(io.vsocksim.mm.MmStruct processMm) {
        this.mm = processMm;
    }

    /** The address space of the process owning this descriptor, or null. */
    public io.vsocksim.mm.MmStruct processMm() {
        return mm;
    }

    /**
     * mmap(2) of the socket: a read-only area of {@code length} bytes (rounded up to pages) in the
     * owning process, for zerocopy receive. ENODEV when the machine's {@link ZerocopyPolicy} is OFF
     * (6.12.117's {@code sock_no_mmap}); EPERM for PROT_WRITE or PROT_EXEC; EBUSY while the socket
     * has a live mapping.
     *
     * @return the start address
     * @throws IllegalStateException if the socket belongs to no process ({@link #attachProcess})
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1: vsock_mmap")
    public long mmap(long length, int prot) throws ErrnoException {
        fget("mmap");
        try {
            return check(VsockZerocopyRx.mmap(sk, mm, length, prot), "mmap");
        } finally {
            fput();
        }
    }

    /** setsockopt with an {@code int} value. */
    public void setsockoptInt(int level, int optname, int value) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
        setsockopt(level, optname, b, 4);
    }

    /** getsockopt of an {@code int} value. */
    public int getsockoptInt(int level, int optname) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        getsockopt(level, optname, b, 4);
        return b.getInt(0);
    }

    /** setsockopt with a u64 value (the SO_VM_SOCKETS_BUFFER_* options). */
    public void setsockoptLong(int level, int optname, long value) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        setsockopt(level, optname, b, 8);
    }

    /** getsockopt of a u64 value. */
    public long getsockoptLong(int level, int optname) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        getsockopt(level, optname, b, 8);
        return b.getLong(0);
    }

    /** setsockopt with a 16-byte timeval {@code {sec, usec}}. */
    public void setsockoptTimeval(int level, int optname, long sec, long usec) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sec).putLong(8, usec);
        setsockopt(level, optname, b, 16);
    }

    /** getsockopt of a timeval: {@code {sec, usec}}. */
    public long[] getsockoptTimeval(int level, int optname) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        getsockopt(level, optname, b, 16);
        return new long[] {b.getLong(0), b.getLong(8)};
    }

    /** SO_VM_SOCKETS_BUFFER_SIZE. */
    public void setBufferSize(long bytes) throws ErrnoException {
        setsockoptLong(VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE, bytes);
    }

    /** ioctl(2): SIOCOUTQ; anything else ENOTTY. */
    public long ioctl(int cmd) throws ErrnoException {
        checkOpen("ioctl");
        return check(AfVsock.ioctl(sk, cmd), "ioctl");
    }

    /** SIGPIPE signals raised by this socket's sends so far. */
    public long sigpipes() {
        return sk.sigpipes.get();
    }

    @Override
    public String toString() {
        return "VsockSocket{" + sk + (closed ? ", closed" : "") + "}";
    }
}
