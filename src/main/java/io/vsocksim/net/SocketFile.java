package io.vsocksim.net;

import static io.vsocksim.uapi.Errno.EFAULT;

import io.vsocksim.Linux;
import io.vsocksim.NotUpstream;
import io.vsocksim.fs.FOwner;
import io.vsocksim.fs.FileCount;
import io.vsocksim.fs.OpenFile;
import io.vsocksim.kernel.TaskWork;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.AfVsock;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.vsock.VsockConnectible;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.VsockSockopt;
import io.vsocksim.vsock.VsockZerocopyRx;
import java.nio.ByteBuffer;

/**
 * A socket as a process's descriptor refers to it: {@code struct socket} with the {@code struct file}
 * that {@code sock_alloc_file} gives it. It holds the file's reference count ({@code f_count}), its
 * status flags ({@code O_NONBLOCK} lives on the socket, where the calls read it) and owner, and does
 * what net/socket.c does between a system call and af_vsock's {@code proto_ops}.
 *
 * <p>Kernel-style: every call returns {@code >= 0} or {@code -errno}, restart codes included
 * ({@code -ERESTARTSYS} for an interrupted infinite wait); the caller is a process's system call
 * ({@code io.vsocksim.user.UserProcess}), which looks the file up by descriptor, holds a reference for
 * the call, makes the process's credentials current and applies the signal rules. Nothing here throws
 * for an expected error.
 *
 * <p>Several threads may call at once, as through a shared descriptor; they serialise on the socket
 * lock exactly where the kernel's do. A call that may block opens a {@link TaskWork} scope: the work
 * it queues runs on its way back to user mode.
 */
@Linux(file = "include/linux/net.h", fn = "struct socket")
@Linux(file = "net/socket.c", fn = "sock_alloc_file")
public final class SocketFile implements OpenFile {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** {@code MAX_RW_COUNT}: the most one read or write moves ({@code INT_MAX & PAGE_MASK}). */
    static final int MAX_RW_COUNT = Integer.MAX_VALUE & ~(GuestMemory.PAGE_SIZE - 1);

    private final VsockSock sk;
    /**
     * One reusable msghdr per calling thread: calls from several threads must not serialise on
     * anything but the socket lock (a blocked recv must not hold up another thread's MSG_DONTWAIT).
     */
    private final ThreadLocal<MsgHdr> msgs = ThreadLocal.withInitial(MsgHdr::new);
    /** {@code f_count}: a call running on another thread when the descriptor closes finishes on a live socket. */
    private final FileCount count = new FileCount();
    /** File status flags other than O_NONBLOCK that F_SETFL stored (no effect on a socket's calls). */
    private volatile int statusFlags;
    /** {@code file->f_owner}: set by FIOSETOWN/SIOCSPGRP. */
    private final FOwner owner = new FOwner();

    /** {@code SOCK_TYPE_MASK}: the bits of socket()'s type argument that hold the type. */
    public static final int SOCK_TYPE_MASK = 0xf;

    /**
     * __sys_socket_create's first check: beside the type, only SOCK_NONBLOCK and SOCK_CLOEXEC may be
     * set in socket()'s and socketpair()'s type argument (else EINVAL). Part of
     * {@code __sys_socket_create}, whose home is {@code Machine.sockCreate}.
     */
    public static boolean typeFlagsValid(int type) {
        return ((type & ~SOCK_TYPE_MASK) & ~(Sock.SOCK_NONBLOCK | Sock.SOCK_CLOEXEC)) == 0;
    }

    /**
     * The file of a new kernel socket, holding its one reference (the caller's, which installing a
     * descriptor takes over); {@code nonblock} is SOCK_NONBLOCK at creation or accept.
     */
    public SocketFile(VsockSock sk, boolean nonblock) {
        this.sk = sk;
        sk.nonblock = nonblock;
    }

    /** The kernel socket ({@code sock->sk}). */
    public VsockSock sock() {
        return sk;
    }

    // ---- struct file --------------------------------------------------------------------------------

    @Override
    public boolean tryGetFile() {
        return count.tryGet();
    }

    /** fput: drops one file reference; the last one releases the socket (sock_close → vsock_release). */
    @Override
    @Linux(file = "net/socket.c", fn = "sock_close")
    public void putFile() {
        if (count.put()) {
            AfVsock.release(sk);
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

    /** {@code sock_ioctl} → {@code vsock_ioctl}: SIOCOUTQ; ENOTTY for anything else. */
    @Override
    public long fileIoctl(int cmd, long arg) {
        return AfVsock.ioctl(sk, cmd);
    }

    /** The file's owner ({@code f_owner}). */
    public FOwner fileOwner() {
        return owner;
    }

    /** {@code sock_poll} → {@code vsock_poll}. */
    @Override
    public int filePoll() {
        return AfVsock.poll(sk);
    }

    /** {@code sk_sleep(sk)}: where wake-ups for this socket's pollers come from. */
    @Override
    public WaitQueueHead fileWaitQueue() {
        return sk.sleep;
    }

    /** SIGPIPE signals that this socket's sends decided on so far ({@code sk_stream_error}). */
    public long sigpipes() {
        return sk.sigpipes.get();
    }

    /** A call's way back to user mode runs the work it queued ({@link TaskWork}). */
    private void enter(boolean send) {
        if (send) {
            TaskWork.enterSend(sk.core().kernel().systemWq());
        } else {
            TaskWork.enter(sk.core().kernel().systemWq());
        }
    }

    // ---- addresses and connections ------------------------------------------------------------------

    /** bind(2) with a {@code struct sockaddr_vm}; null is a NULL address of full length: EFAULT. */
    public int bind(SockaddrVm addr) {
        return addr == null ? -EFAULT : AfVsock.bind(sk, addr, addr.validate());
    }

    /** bind(2) with a raw address of {@code addrlen} bytes at {@code addr}'s position. */
    @Linux(file = "net/socket.c", fn = "__sys_bind")
    public int bind(ByteBuffer addr, int addrlen) {
        int err = SockAddrs.moveAddrToKernel(addr, addrlen);
        if (err < 0) {
            return err;
        }
        SockaddrVm[] out = new SockaddrVm[1];
        int rc = SockAddrs.decode(addr, addrlen, out);
        return AfVsock.bind(sk, out[0], rc);
    }

    /** getsockname(2) ({@code peer} false) or getpeername(2): 0 with {@code out[0]} set, or {@code -errno}. */
    public int getname(boolean peer, SockaddrVm[] out) {
        return AfVsock.getname(sk, peer, out);
    }

    /**
     * listen(2): a {@code backlog} above the machine's {@code net.core.somaxconn} (unsigned, so a
     * negative one too) is lowered to it before the protocol sees it.
     */
    @Linux(file = "net/socket.c", fn = "__sys_listen_socket")
    public int listen(int backlog) {
        int somaxconn = sk.core().kernel().somaxconn();
        return AfVsock.listen(sk, Integer.compareUnsigned(backlog, somaxconn) > 0 ? somaxconn : backlog);
    }

    /**
     * accept: 0 with the new connection's file in {@code out[0]} (non-blocking if {@code flags} holds
     * SOCK_NONBLOCK), or {@code -errno}. The caller checked {@code flags} and installs the descriptor.
     */
    @Linux(file = "net/socket.c", fn = "do_accept")
    public int accept(int flags, SocketFile[] out) {
        enter(false);
        try {
            VsockSock[] n = new VsockSock[1];
            int rc = AfVsock.accept(sk, sk.nonblock ? AfVsock.O_NONBLOCK : 0, n);
            if (rc == 0) {
                out[0] = new SocketFile(n[0], (flags & Sock.SOCK_NONBLOCK) != 0);
            }
            return rc;
        } finally {
            TaskWork.exit();
        }
    }

    /** connect(2), blocking unless the file is O_NONBLOCK; null is a NULL address of full length: EFAULT. */
    public int connect(SockaddrVm addr) {
        return addr == null ? -EFAULT : connect(addr, addr.validate());
    }

    /** connect(2) with a raw address of {@code addrlen} bytes, copied in as bind's. */
    @Linux(file = "net/socket.c", fn = "__sys_connect")
    public int connect(ByteBuffer addr, int addrlen) {
        int err = SockAddrs.moveAddrToKernel(addr, addrlen);
        if (err < 0) {
            return err;
        }
        SockaddrVm[] out = new SockaddrVm[1];
        int rc = SockAddrs.decode(addr, addrlen, out);
        return connect(out[0], rc);
    }

    private int connect(SockaddrVm addr, int addrRc) {
        enter(false);
        try {
            return AfVsock.connect(sk, addr, addrRc, sk.nonblock ? AfVsock.O_NONBLOCK : 0);
        } finally {
            TaskWork.exit();
        }
    }

    /** shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
    public int shutdown(int how) {
        return AfVsock.shutdown(sk, how);
    }

    // ---- data ---------------------------------------------------------------------------------------

    /**
     * sendmsg over {@code buf}'s remaining bytes (its position moves by what was sent); {@code named}
     * if the caller gave a destination, which vsock refuses (EISCONN connected, else EOPNOTSUPP).
     */
    public long send(ByteBuffer buf, int flags, boolean named) {
        MsgHdr msg = msg(buf, flags);
        msg.hasName = named;
        return sendmsg(msg, buf.remaining());
    }

    /**
     * recvmsg into {@code buf}'s remaining space (its position advances): the bytes received (with
     * MSG_TRUNC on SEQPACKET: the message length), 0 at end of stream, or {@code -errno}. With a
     * {@code control} buffer, an MSG_ERRQUEUE receive writes its cmsg there from its position (which
     * advances past it); {@code msgFlagsOut[0]}, when given, receives {@code msg_flags}.
     */
    public long recv(ByteBuffer buf, ByteBuffer control, int flags, int[] msgFlagsOut) {
        MsgHdr msg = msg(buf, flags);
        msg.control = control;
        long ret = recvmsg(msg, buf.remaining());
        if (msgFlagsOut != null) {
            msgFlagsOut[0] = msg.msgFlags;
        }
        return ret;
    }

    /**
     * send(2) from a user buffer of which only the first {@code accessibleBytes} are mapped; copying
     * the rest faults (the transport reports ENOMEM, as the kernel does).
     */
    public long sendFaulting(ByteBuffer buf, int flags, int accessibleBytes) {
        return sendmsg(msg(buf, flags).faultAfter(accessibleBytes), buf.remaining());
    }

    /**
     * recv(2) into a user buffer of which only the first {@code accessibleBytes} are mapped: the rest
     * faults (EFAULT), like a buffer with an unmapped page or a NULL pointer ({@code 0}).
     */
    public long recvFaulting(ByteBuffer buf, int flags, int accessibleBytes) {
        return recvmsg(msg(buf, flags).faultAfter(accessibleBytes), buf.remaining());
    }

    /**
     * send(2) of {@code len} bytes at offset {@code off} of user memory {@code ub}: with MSG_ZEROCOPY
     * and SO_ZEROCOPY its pages can be pinned instead of copied. {@code accessibleBytes} of them are
     * mapped, the rest faults; a null {@code ub} is NULL. Memory outside the buffer counts as unmapped;
     * a negative {@code len} is a huge {@code size_t}, cut to {@code MAX_RW_COUNT}.
     */
    public long send(UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        long want = rwCount(len);
        MsgHdr msg = userMsg(ub, off, want, flags, accessibleBytes);
        if (ub != null) {
            msg.userMemory(ub.pages(), ub.handle(), ub.gpa());
        }
        return sendmsg(msg, want);
    }

    /** recv(2) into {@code len} bytes at offset {@code off} of user memory {@code ub}, as {@link #send(UserBuffer, int, int, int, int)}. */
    public long recv(UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        long want = rwCount(len);
        return recvmsg(userMsg(ub, off, want, flags, accessibleBytes), want);
    }

    /** A {@code size_t} length as {@code import_ubuf} takes it: negative is huge, cut to MAX_RW_COUNT. */
    @Linux(file = "lib/iov_iter.c", fn = "import_ubuf")
    private static long rwCount(int len) {
        return len < 0 ? MAX_RW_COUNT : Math.min(len, MAX_RW_COUNT);
    }

    /** The msghdr over {@code want} bytes at {@code off} of {@code ub}: what lies outside it or past {@code accessibleBytes} faults. */
    private MsgHdr userMsg(UserBuffer ub, int off, long want, int flags, int accessibleBytes) {
        ByteBuffer buf = userRange(ub, off, want);
        return msg(buf, flags).length((int) want).faultAfter(Math.min(buf.remaining(), accessibleBytes));
    }

    /** The part of {@code [off, off + want)} that lies inside {@code ub}, as a buffer over it (empty if none). */
    private static ByteBuffer userRange(UserBuffer ub, int off, long want) {
        if (ub == null || off < 0 || off > ub.size()) {
            return EMPTY; // the first byte is already outside the buffer
        }
        ByteBuffer buf = ub.buffer().duplicate();
        int mapped = (int) Math.min(want, ub.size() - off);
        return buf.limit(off + mapped).position(off);
    }

    /** {@code recvmsg(MSG_ERRQUEUE)}, parsed: 0 with the oldest MSG_ZEROCOPY completion in {@code out[0]}, or EAGAIN. */
    public int recvErrqueue(SockExtendedErr[] out) {
        MsgHdr msg = msgs.get().init(EMPTY, Sock.MSG_ERRQUEUE);
        int rc = (int) recvmsg(msg, 0);
        out[0] = msg.errqueueOut;
        return rc < 0 ? rc : 0;
    }

    /** This thread's msghdr over {@code buf}, with the call's flags as {@link #msgFlags} makes them. */
    private MsgHdr msg(ByteBuffer buf, int flags) {
        return msgs.get().init(buf, msgFlags(flags));
    }

    /** {@code vsock_connectible_sendmsg} in a send's {@link TaskWork} scope. */
    private long sendmsg(MsgHdr msg, long len) {
        enter(true);
        try {
            return VsockConnectible.sendmsg(sk, msg, len);
        } finally {
            TaskWork.exit();
        }
    }

    /** {@code vsock_connectible_recvmsg} with the msghdr's flags, in a {@link TaskWork} scope. */
    private long recvmsg(MsgHdr msg, long len) {
        enter(false);
        try {
            return VsockConnectible.recvmsg(sk, msg, len, msg.msgFlags);
        } finally {
            TaskWork.exit();
        }
    }

    /** Adds MSG_DONTWAIT for an O_NONBLOCK file, as {@code __sys_sendto}/{@code __sys_recvfrom} do. */
    private int msgFlags(int flags) {
        return sk.nonblock ? flags | Sock.MSG_DONTWAIT : flags;
    }

    // ---- events, options, mappings ------------------------------------------------------------------

    /**
     * poll(2) on this socket alone: the revents for {@code events}, waiting up to {@code timeoutMs}
     * (negative: forever, 0 not at all); 0 on timeout.
     */
    public int poll(int events, long timeoutMs) {
        enter(false);
        try {
            return AfVsock.pollWait(sk, events, timeoutMs);
        } finally {
            TaskWork.exit();
        }
    }

    /** setsockopt(2): {@code optlen} bytes of {@code optval} from index 0; 0 or {@code -errno}. */
    public int setsockopt(int level, int optname, ByteBuffer optval, int optlen) {
        return VsockSockopt.setsockopt(sk, level, optname, optval, optlen);
    }

    /**
     * getsockopt(2): fills {@code optval} from index 0, returns the resulting optlen or {@code -errno}.
     * {@code mm} is the caller's address space ({@code current->mm}), where
     * {@code SO_VM_SOCKETS_ZEROCOPY} looks up the mapping it fills.
     */
    public int getsockopt(int level, int optname, ByteBuffer optval, int optlen, MmStruct mm) {
        if (level == VmSockets.AF_VSOCK && optname == VmSockets.SO_VM_SOCKETS_ZEROCOPY
                && VsockZerocopyRx.enabled(sk)) {
            enter(false); // the credit update it sends leaves at return to user, as a send's packets
            try {
                return VsockZerocopyRx.getsockopt(sk, mm, optval, optlen);
            } finally {
                TaskWork.exit();
            }
        }
        return VsockSockopt.getsockopt(sk, level, optname, optval, optlen);
    }

    /**
     * mmap(2) of the socket into {@code mm}, the caller's address space: the zerocopy receive area.
     * The address, or ENODEV (zerocopy receive off), EPERM, EBUSY.
     */
    @NotUpstream("virtio/vsock zerocopy RX RFC v1: vsock_mmap")
    public long mmap(MmStruct mm, long length, int prot) {
        enter(false);
        try {
            return VsockZerocopyRx.mmap(sk, mm, length, prot);
        } finally {
            TaskWork.exit();
        }
    }

    @Override
    public String toString() {
        return "SocketFile{" + sk + "}";
    }
}
