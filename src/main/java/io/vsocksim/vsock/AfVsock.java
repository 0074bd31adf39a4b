package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EALREADY;
import static io.vsocksim.uapi.Errno.EINPROGRESS;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EISCONN;
import static io.vsocksim.uapi.Errno.ENETUNREACH;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPROTONOSUPPORT;
import static io.vsocksim.uapi.Errno.ERESTARTSYS;
import static io.vsocksim.uapi.Errno.ESOCKTNOSUPPORT;
import static io.vsocksim.uapi.Errno.ETIMEDOUT;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Poll.POLLERR;
import static io.vsocksim.uapi.Poll.POLLHUP;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Poll.POLLRDHUP;
import static io.vsocksim.uapi.Poll.POLLRDNORM;
import static io.vsocksim.uapi.Poll.POLLWRNORM;
import static io.vsocksim.uapi.Sock.RCV_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SEND_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SHUTDOWN_MASK;
import static io.vsocksim.uapi.Sock.SIOCOUTQ;
import static io.vsocksim.uapi.Sock.SOCK_DGRAM;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_PORT_ANY;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.SocketState;
import io.vsocksim.uapi.TcpState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The af_vsock proto_ops for connectible sockets: socket creation and release, bind, getname,
 * listen, accept, connect (with the connect timeout), shutdown, poll and ioctl. Data transfer and
 * socket options are in {@link VsockConnectible}.
 *
 * <p>Every method is a syscall entry in process context: it takes the socket lock itself
 * ({@code lock_sock}) and returns the kernel's result ({@code >= 0} or {@code -errno}). Blocking waits
 * release the socket lock while asleep ({@code sk_wait_event}), on the socket's wait queue, with
 * timeouts from the machine's clock. {@code -ERESTARTSYS} is returned as the kernel does; the public
 * API turns it into EINTR.
 */
@Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_stream_ops")
public final class AfVsock {
    /** O_NONBLOCK, as connect's and accept's file-flags argument. */
    public static final int O_NONBLOCK = 0x800;

    private static final Logger LOG = LoggerFactory.getLogger(LoggerNames.AF_VSOCK);

    private AfVsock() {
    }

    /** Installs af_vsock's connect timer function on {@code core} (once per machine). */
    public static void init(VsockCore core) {
        core.connectTimeoutFn(AfVsock::connectTimeout);
    }

    /**
     * Mirrors vsock_create() for AF_VSOCK: protocol must be 0 or PF_VSOCK; STREAM and SEQPACKET get a
     * socket on the unbound list; DGRAM has no transport on a virtio machine (ENODEV).
     *
     * @param out receives the new socket
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_create")
    public static int create(VsockCore core, int type, int protocol, long capEffective, VsockSock[] out) {
        if (protocol != 0 && protocol != AF_VSOCK) {
            return -EPROTONOSUPPORT;
        }
        switch (type) {
            case SOCK_DGRAM:
                // vsock_assign_transport() for DGRAM finds no transport_dgram on virtio-only machines.
                return -ENODEV;
            case SOCK_STREAM:
            case SOCK_SEQPACKET:
                out[0] = core.create(type, capEffective);
                return 0;
            default:
                return -ESOCKTNOSUPPORT;
        }
    }

    /** Mirrors vsock_release() / __vsock_release(): close, recursively releasing unaccepted children. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_release")
    public static void release(VsockSock sk) {
        VsockCore core = sk.core();
        sk.lockSock();
        try {
            sk.sockSetFlag(VsockSock.SOCK_DEAD);
            if (sk.transport != null) {
                sk.transport.release(sk);
            } else {
                core.removeSock(sk);
            }
            sk.skShutdown = SHUTDOWN_MASK;
            VsockSock pending;
            while ((pending = dequeueAccept(sk)) != null) {
                release(pending);
                pending.sockPut();
            }
        } finally {
            sk.releaseSock();
        }
        sk.sockState = SocketState.SS_FREE;
        // The socket's own reference (sock_put at the end of __vsock_release).
        sk.sockPut();
    }

    /** Mirrors vsock_dequeue_accept(); listener lock held. The caller owns the returned reference. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_dequeue_accept")
    private static VsockSock dequeueAccept(VsockSock listener) {
        return listener.acceptQueue.pollFirst();
    }

    /**
     * Mirrors vsock_bind(): {@code addrRc} is the result of decoding the user's address
     * ({@code vsock_addr_cast}); any failure there is EINVAL.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_bind")
    public static int bind(VsockSock sk, SockaddrVm addr, int addrRc) {
        if (addrRc != 0 || addr == null) {
            return -EINVAL;
        }
        sk.lockSock();
        try {
            return bindLocked(sk, addr);
        } finally {
            sk.releaseSock();
        }
    }

    /** Mirrors __vsock_bind(); socket lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_bind")
    static int bindLocked(VsockSock sk, SockaddrVm addr) {
        if (sk.localAddr.isBound()) {
            return -EINVAL;
        }
        if (addr.cid() != VMADDR_CID_ANY && !sk.core().findCid(addr.cid())) {
            return -io.vsocksim.uapi.Errno.EADDRNOTAVAIL;
        }
        return sk.core().bindConnectible(sk, addr.cid(), addr.port());
    }

    /** Mirrors vsock_auto_bind(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_auto_bind")
    static int autoBind(VsockSock sk) {
        if (sk.localAddr.isBound()) {
            return 0;
        }
        return bindLocked(sk, new SockaddrVm(VMADDR_CID_ANY, VMADDR_PORT_ANY));
    }

    /**
     * Mirrors vsock_getname(): the local address, or with {@code peer} the remote one (ENOTCONN unless
     * SS_CONNECTED).
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_getname")
    public static int getname(VsockSock sk, boolean peer, SockaddrVm[] out) {
        sk.lockSock();
        try {
            if (peer) {
                if (sk.sockState != SocketState.SS_CONNECTED) {
                    return -ENOTCONN;
                }
                out[0] = sk.remoteAddr;
            } else {
                out[0] = sk.localAddr;
            }
            return SockaddrVm.SIZE;
        } finally {
            sk.releaseSock();
        }
    }

    /** Mirrors vsock_listen(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_listen")
    public static int listen(VsockSock sk, int backlog) {
        sk.lockSock();
        try {
            if (sk.sockState != SocketState.SS_UNCONNECTED) {
                return -EINVAL;
            }
            if (!sk.localAddr.isBound()) {
                return -EINVAL;
            }
            sk.maxAckBacklog = backlog;
            sk.setState(LOG, TcpState.TCP_LISTEN);
            return 0;
        } finally {
            sk.releaseSock();
        }
    }

    /**
     * Mirrors vsock_accept(): waits (SO_RCVTIMEO, or not at all with O_NONBLOCK on the listener) for a
     * child and grafts it. The listener's {@code sk_err} is ignored (6.12.117).
     *
     * @param fileFlags the listener file's flags ({@link #O_NONBLOCK})
     * @param out receives the accepted socket (alive on its own reference until released)
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_accept")
    public static int accept(VsockSock listener, int fileFlags, VsockSock[] out) {
        listener.lockSock();
        try {
            if (listener.skState != TcpState.TCP_LISTEN) {
                return -EINVAL;
            }
            long timeoJiffies = (fileFlags & O_NONBLOCK) != 0 ? 0 : listener.rcvtimeo;
            VsockSock connected = dequeueAccept(listener);
            if (connected == null && timeoJiffies != 0) {
                long ret = listener.sleep.waitEventInterruptibleTimeout(listener.lock,
                        () -> !listener.acceptQueue.isEmpty(), toNanos(timeoJiffies));
                if (ret < 0) {
                    return sockIntrErrno(timeoJiffies);
                }
                connected = dequeueAccept(listener);
            }
            if (connected == null) {
                return -EAGAIN;
            }
            listener.ackBacklog--;
            connected.lockSock();
            try {
                connected.sockState = SocketState.SS_CONNECTED;
            } finally {
                connected.releaseSock();
            }
            // The accept queue's reference goes; the child lives on its own (sk_alloc) reference.
            connected.sockPut();
            out[0] = connected;
            return 0;
        } finally {
            listener.releaseSock();
        }
    }

    /**
     * Mirrors vsock_connect(). With {@link #O_NONBLOCK} in {@code fileFlags} it returns EINPROGRESS
     * (or EALREADY) and arms the connect timer; otherwise it waits up to the connect timeout.
     *
     * @param addrRc result of decoding the user's address (any failure is EINVAL in the full path)
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connect")
    public static int connect(VsockSock sk, SockaddrVm addr, int addrRc, int fileFlags) {
        boolean nonblock = (fileFlags & O_NONBLOCK) != 0;
        VsockCore core = sk.core();
        int err;
        sk.lockSock();
        try {
            switch (sk.sockState) {
                case SS_CONNECTED:
                    return -EISCONN;
                case SS_DISCONNECTING:
                    return -EINVAL;
                case SS_CONNECTING:
                    err = -EALREADY;
                    if (nonblock) {
                        return err;
                    }
                    break;
                default:
                    if (sk.skState == TcpState.TCP_LISTEN || addrRc != 0 || addr == null) {
                        return -EINVAL;
                    }
                    sk.remoteAddr = addr;
                    err = core.assignTransport(sk, null);
                    if (err != 0) {
                        return err;
                    }
                    VsockTransport transport = sk.transport;
                    if (transport == null || !transport.streamAllow(addr.cid(), addr.port())) {
                        return -ENETUNREACH;
                    }
                    if (!transport.msgzerocopyAllow() && sk.sockFlag(VsockSock.SOCK_ZEROCOPY)) {
                        return -EOPNOTSUPP;
                    }
                    err = autoBind(sk);
                    if (err != 0) {
                        return err;
                    }
                    sk.setState(LOG, TcpState.TCP_SYN_SENT);
                    err = transport.connect(sk);
                    if (err < 0) {
                        return err;
                    }
                    // Clears a failure left by an earlier attempt.
                    sk.skErr = 0;
                    sk.sockState = SocketState.SS_CONNECTING;
                    err = -EINPROGRESS;
            }
            return connectWait(sk, nonblock, err);
        } finally {
            sk.releaseSock();
        }
    }

    /** The wait loop of vsock_connect(); socket lock held. */
    private static int connectWait(VsockSock sk, boolean nonblock, int err) {
        long timeout = sk.connectTimeout;
        while (sk.skState != TcpState.TCP_ESTABLISHED && sk.skState != TcpState.TCP_CLOSING && sk.skErr == 0) {
            if (nonblock) {
                // The timer holds a reference until it runs; re-arming keeps the one it has.
                sk.sockHold();
                if (sk.core().kernel().systemWq().modDelayedWork(sk.connectWork, timeout)) {
                    sk.sockPut();
                }
                return err;
            }
            long remaining = sk.sleep.waitEventInterruptibleTimeout(sk.lock, () -> sk.skState == TcpState.TCP_ESTABLISHED
                    || sk.skState == TcpState.TCP_CLOSING || sk.skErr != 0, toNanos(timeout));
            if (sk.skState == TcpState.TCP_ESTABLISHED || sk.skState == TcpState.TCP_CLOSING) {
                return 0;
            }
            if (remaining < 0 || remaining == 0) {
                err = remaining == 0 ? -ETIMEDOUT : sockIntrErrno(timeout);
                if (remaining == 0) {
                    logConnectTimeout(sk);
                }
                sk.setState(LOG, TcpState.TCP_CLOSE);
                sk.sockState = SocketState.SS_UNCONNECTED;
                transportCancelPkt(sk);
                return err;
            }
            timeout = Math.max(1, Clock.nanosToJiffies(remaining));
        }
        err = sockError(sk);
        if (err != 0) {
            sk.setState(LOG, TcpState.TCP_CLOSE);
            sk.sockState = SocketState.SS_UNCONNECTED;
        }
        return err;
    }

    /** Mirrors vsock_connect_timeout(): the non-blocking connect's timer (system_wq). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connect_timeout")
    static void connectTimeout(VsockSock sk) {
        sk.lockSock();
        try {
            if (sk.skState == TcpState.TCP_SYN_SENT && sk.skShutdown != SHUTDOWN_MASK) {
                logConnectTimeout(sk);
                sk.setState(LOG, TcpState.TCP_CLOSE);
                sk.sockState = SocketState.SS_UNCONNECTED;
                sk.skErr = io.vsocksim.uapi.Errno.ETIMEDOUT;
                sk.errorReport();
                transportCancelPkt(sk);
            }
        } finally {
            sk.releaseSock();
        }
        sk.sockPut();
    }

    /** SIM: the DEBUG line of a connect that timed out (blocking or not), before the socket closes. */
    private static void logConnectTimeout(VsockSock sk) {
        if (LOG.isDebugEnabled()) {
            VsockLog.event(LOG, sk, "connect timed out", "no answer within " + Clock.jiffiesToMsecs(sk.connectTimeout) + " ms");
        }
    }

    /** Mirrors vsock_transport_cancel_pkt(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_transport_cancel_pkt")
    private static int transportCancelPkt(VsockSock sk) {
        VsockTransport t = sk.transport;
        return t == null ? -EOPNOTSUPP : t.cancelPkt(sk);
    }

    /**
     * Mirrors vsock_shutdown(): {@code how} is SHUT_RD/WR/RDWR; ENOTCONN on an unconnected socket;
     * otherwise the socket becomes SS_DISCONNECTING and the peer is told.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_shutdown")
    public static int shutdown(VsockSock sk, int how) {
        int mode = how + 1;
        if ((mode & ~SHUTDOWN_MASK) != 0 || mode == 0) {
            return -EINVAL;
        }
        sk.lockSock();
        try {
            if (sk.sockState == SocketState.SS_UNCONNECTED) {
                return -ENOTCONN;
            }
            sk.sockState = SocketState.SS_DISCONNECTING;
            sk.skShutdown |= mode;
            sk.stateChange();
            sk.sockResetFlag(VsockSock.SOCK_DONE);
            if (sk.transport != null) {
                sk.transport.shutdown(sk, mode);
            }
            return 0;
        } finally {
            sk.releaseSock();
        }
    }

    /** Mirrors vsock_poll_shutdown(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_poll_shutdown")
    private static int pollShutdown(VsockSock sk, int peerShutdown) {
        int mask = 0;
        if (sk.skShutdown == SHUTDOWN_MASK || ((sk.skShutdown & SEND_SHUTDOWN) != 0 && (peerShutdown & SEND_SHUTDOWN) != 0)) {
            mask |= POLLHUP;
        }
        if ((sk.skShutdown & RCV_SHUTDOWN) != 0 || (peerShutdown & SEND_SHUTDOWN) != 0) {
            mask |= POLLRDHUP;
        }
        return mask;
    }

    /** Mirrors vsock_poll() for connectible sockets: the current event mask. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_poll")
    public static int poll(VsockSock sk) {
        int mask = 0;
        if (sk.skErr != 0 || VsockConnectible.errqueueNotEmpty(sk)) {
            mask |= POLLERR;
        }
        sk.lockSock();
        try {
            VsockTransport transport = sk.transport;
            if (sk.skState == TcpState.TCP_LISTEN && !sk.acceptQueue.isEmpty()) {
                mask |= POLLIN | POLLRDNORM;
            }
            if (transport != null && transport.streamIsActive(sk) && (sk.skShutdown & RCV_SHUTDOWN) == 0) {
                int ret = transport.notifyPollIn(sk, sk.rcvlowat);
                if (ret < 0) {
                    mask |= POLLERR;
                } else if (ret > 0) {
                    mask |= POLLIN | POLLRDNORM;
                }
            }
            int peerShutdown = sk.peerShutdown;
            mask |= pollShutdown(sk, peerShutdown);
            if ((sk.skShutdown & RCV_SHUTDOWN) != 0 || (peerShutdown & SEND_SHUTDOWN) != 0) {
                mask |= POLLIN | POLLRDNORM;
            }
            if (transport != null && sk.skState == TcpState.TCP_ESTABLISHED && (sk.skShutdown & SEND_SHUTDOWN) == 0) {
                int ret = transport.notifyPollOut(sk, 1);
                if (ret < 0) {
                    mask |= POLLERR;
                } else if (ret > 0) {
                    mask |= POLLOUT | POLLWRNORM;
                }
            }
            if ((sk.skState == TcpState.TCP_CLOSE || sk.skState == TcpState.TCP_CLOSING) && (sk.skShutdown & SEND_SHUTDOWN) == 0) {
                mask |= POLLOUT | POLLWRNORM;
            }
        } finally {
            sk.releaseSock();
        }
        return mask;
    }

    /**
     * poll(2) on one socket: waits until {@link #poll} reports one of {@code events} (POLLERR, POLLHUP
     * and POLLNVAL are always reported) or {@code timeoutMs} passes ({@code < 0} = forever; one too
     * long to represent in nanoseconds saturates to forever, as poll_select_set_timeout's does). SIM: a
     * one-socket shortcut of {@code do_poll} ({@code io.vsocksim.fs.Select.poll} is the whole of it).
     *
     * @return the reported revents, 0 on timeout, or {@code -EINTR}
     */
    public static int pollWait(VsockSock sk, int events, long timeoutMs) {
        int interest = events | POLLERR | POLLHUP | io.vsocksim.uapi.Poll.POLLNVAL;
        int seen = poll(sk) & interest;
        if (seen != 0 || timeoutMs == 0) {
            return seen;
        }
        // An end time past what the clock can hold saturates (timespec64_add_safe) and never comes.
        long nanos = timeoutMs < 0 || timeoutMs > WaitQueueHead.MAX_SCHEDULE_TIMEOUT / 1_000_000L
                ? WaitQueueHead.MAX_SCHEDULE_TIMEOUT : timeoutMs * 1_000_000L;
        PollTable pt = PollTable.CURRENT.get().arm(sk, interest);
        try {
            long ret = sk.sleep.waitEventInterruptibleTimeout(pt, nanos);
            if (ret < 0) {
                return -EINTR;
            }
            return ret == 0 ? 0 : pt.seen;
        } finally {
            pt.disarm();
        }
    }

    /**
     * The wait condition of one thread's poll ({@code struct poll_wqueues} lives on the poller's
     * stack): reused, so a poll that sleeps allocates nothing.
     */
    private static final class PollTable implements java.util.function.BooleanSupplier {
        static final ThreadLocal<PollTable> CURRENT = ThreadLocal.withInitial(PollTable::new);
        private VsockSock sk;
        private int interest;
        int seen;

        PollTable arm(VsockSock s, int mask) {
            sk = s;
            interest = mask;
            seen = 0;
            return this;
        }

        void disarm() {
            sk = null;
        }

        @Override
        public boolean getAsBoolean() {
            seen = poll(sk) & interest;
            return seen != 0;
        }
    }

    /**
     * Mirrors vsock_ioctl(): SIOCOUTQ only; every other request is ENOIOCTLCMD, which the generic
     * socket ioctl turns into ENOTTY.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_do_ioctl")
    public static long ioctl(VsockSock sk, int cmd) {
        sk.lockSock();
        try {
            if (cmd != SIOCOUTQ) {
                return -io.vsocksim.uapi.Errno.ENOTTY;
            }
            VsockTransport t = sk.transport;
            if (t == null) {
                return -EOPNOTSUPP;
            }
            if (sk.skState == TcpState.TCP_LISTEN) {
                return -EINVAL;
            }
            return t.unsentBytes(sk);
        } finally {
            sk.releaseSock();
        }
    }

    // ---- helpers shared with VsockConnectible --------------------------------------------------------

    /** Mirrors sock_error(): consumes and returns {@code -sk_err}. */
    @Linux(file = "include/net/sock.h", fn = "sock_error")
    static int sockError(VsockSock sk) {
        int err = sk.skErr;
        if (err == 0) {
            return 0;
        }
        sk.skErr = 0;
        return -err;
    }

    /** Mirrors sock_intr_errno(): ERESTARTSYS for an infinite wait, EINTR otherwise. */
    @Linux(file = "include/net/sock.h", fn = "sock_intr_errno")
    static int sockIntrErrno(long timeoJiffies) {
        return timeoJiffies == WaitQueueHead.MAX_SCHEDULE_TIMEOUT ? -ERESTARTSYS : -EINTR;
    }

    /** Jiffies to wait-queue nanoseconds ({@code MAX_SCHEDULE_TIMEOUT} stays infinite). */
    static long toNanos(long jiffies) {
        return jiffies == WaitQueueHead.MAX_SCHEDULE_TIMEOUT ? WaitQueueHead.MAX_SCHEDULE_TIMEOUT : Clock.jiffiesToNanos(jiffies);
    }
}
