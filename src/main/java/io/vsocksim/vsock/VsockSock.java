package io.vsocksim.vsock;

import io.vsocksim.Linux;
import io.vsocksim.kernel.DelayedWork;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.SocketState;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VmSockets;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vsock socket: {@code struct vsock_sock} together with the parts of {@code struct sock} and
 * {@code struct socket} that af_vsock and the virtio transports use.
 *
 * <p>Field groups and their protection, as in the kernel:
 * <ul>
 *   <li>{@link #lock} ({@code lock_sock}) protects the socket state ({@code skState}, {@code sockState},
 *       {@code skShutdown}, addresses, transport, buffer sizes, accept queue). User calls and the
 *       transport's receive path take it; it is released while sleeping on {@link #sleep}.</li>
 *   <li>{@code skErr}, {@code peerShutdown} and {@code flags} are read without the lock by poll and
 *       wait conditions ({@code READ_ONCE} in the kernel), hence volatile.</li>
 *   <li>Table membership ({@code bound*}, {@code conn*} links) is guarded by the owning
 *       {@link VsockCore}'s table lock.</li>
 *   <li>{@link #trans} is the transport's private state ({@code vsk->trans}); its fields have their own
 *       locks.</li>
 * </ul>
 *
 * <p>Lifetime follows {@code sock_hold}/{@code sock_put}: creation holds one reference (dropped by
 * release), each table entry and each pending timer holds one; at zero the socket is destructed
 * ({@code vsock_sk_destruct}) and its transport state freed. Lock order: listener before child,
 * socket lock before transport locks before the table lock.
 */
@Linux(file = "include/net/af_vsock.h", fn = "struct vsock_sock")
public final class VsockSock {
    /** {@code sock_flag} bits. */
    public static final int SOCK_DEAD = 1;
    public static final int SOCK_DONE = 1 << 1;
    public static final int SOCK_LINGER = 1 << 2;
    public static final int SOCK_ZEROCOPY = 1 << 3;
    /** The generic flags only SOL_SOCKET options set and read (net/core/sock.c). */
    public static final int SOCK_DBG = 1 << 4;
    public static final int SOCK_LOCALROUTE = 1 << 5;
    public static final int SOCK_BROADCAST = 1 << 6;
    public static final int SOCK_KEEPOPEN = 1 << 7;
    public static final int SOCK_URGINLINE = 1 << 8;
    public static final int SOCK_RCVTSTAMP = 1 << 9;
    public static final int SOCK_RCVTSTAMPNS = 1 << 10;
    public static final int SOCK_TSTAMP_NEW = 1 << 11;
    public static final int SOCK_RCVMARK = 1 << 12;
    public static final int SOCK_RXQ_OVFL = 1 << 13;
    public static final int SOCK_WIFI_STATUS = 1 << 14;
    public static final int SOCK_NOFCS = 1 << 15;
    public static final int SOCK_SELECT_ERR_QUEUE = 1 << 16;
    public static final int SOCK_FILTER_LOCKED = 1 << 17;
    public static final int SOCK_TXTIME = 1 << 18;

    /** {@code struct socket} flag bits ({@code sock->flags}) that SOL_SOCKET options set. */
    public static final int SOCK_PASSCRED = 1;
    public static final int SOCK_PASSSEC = 1 << 1;
    public static final int SOCK_PASSPIDFD = 1 << 2;

    /** {@code VSOCK_DEFAULT_BUFFER_SIZE}: 256 KiB. */
    public static final long VSOCK_DEFAULT_BUFFER_SIZE = 256 * 1024;
    /** {@code VSOCK_DEFAULT_BUFFER_MAX_SIZE}. */
    public static final long VSOCK_DEFAULT_BUFFER_MAX_SIZE = 256 * 1024;
    /** {@code VSOCK_DEFAULT_BUFFER_MIN_SIZE}. */
    public static final long VSOCK_DEFAULT_BUFFER_MIN_SIZE = 128;

    private final VsockCore core;
    /** {@code sk_type}: SOCK_STREAM or SOCK_SEQPACKET. */
    public final int type;
    /** {@code lock_sock()}. */
    public final ReentrantLock lock = new Mutex();
    /** {@code sk_sleep(sk)}: every state change, data, space and error wakes it. */
    public final WaitQueueHead sleep;
    private final AtomicInteger refcnt = new AtomicInteger(1);
    private final int id;

    // ---- struct socket ------------------------------------------------------------------------------
    /** {@code sock->state}. */
    public SocketState sockState = SocketState.SS_UNCONNECTED;
    /** O_NONBLOCK on the file. */
    public volatile boolean nonblock;

    // ---- struct sock --------------------------------------------------------------------------------
    /** {@code sk_state}; read it freely, change it only through {@link #setState}. */
    public volatile TcpState skState = TcpState.TCP_CLOSE;
    /** {@code sk_err}: positive errno or 0. */
    public volatile int skErr;
    /** {@code sk_shutdown}: RCV_SHUTDOWN | SEND_SHUTDOWN. */
    public volatile int skShutdown;
    /** {@code sock_flag} bits ({@link #SOCK_DONE} ...). */
    public volatile int flags;
    /** {@code sk_rcvlowat}, at least 1. */
    public volatile int rcvlowat = 1;
    /** {@code sk_rcvtimeo} (SO_RCVTIMEO) in jiffies; {@link WaitQueueHead#MAX_SCHEDULE_TIMEOUT} = none. */
    public volatile long rcvtimeo = WaitQueueHead.MAX_SCHEDULE_TIMEOUT;
    /** {@code sk_sndtimeo} (SO_SNDTIMEO) in jiffies. */
    public volatile long sndtimeo = WaitQueueHead.MAX_SCHEDULE_TIMEOUT;
    /** {@code sk_lingertime} in jiffies (meaningful with {@link #SOCK_LINGER}). */
    public long lingertime;
    /** SIGPIPE signals this socket's sends raised (SIM: the signal is counted, not delivered). */
    public final java.util.concurrent.atomic.AtomicLong sigpipes = new java.util.concurrent.atomic.AtomicLong();
    /** {@code sk_zckey}: the next MSG_ZEROCOPY notification id (u32, wraps). */
    public final java.util.concurrent.atomic.AtomicInteger zckey = new java.util.concurrent.atomic.AtomicInteger();
    /** {@code sk_error_queue}: MSG_ZEROCOPY completions, oldest first; guarded by its own monitor. */
    public final ArrayDeque<SockExtendedErr> errorQueue = new ArrayDeque<>();
    /** {@code sk_ack_backlog}. */
    public int ackBacklog;
    /** {@code sk_max_ack_backlog}. */
    public int maxAckBacklog;

    // ---- struct vsock_sock --------------------------------------------------------------------------
    /** {@code vsk->transport}, null until assigned. */
    public volatile VsockTransport transport;
    /** Prebuilt sleep conditions ({@link VsockConnectible.WaitConds}); guarded by the socket lock. */
    VsockConnectible.WaitConds waitConds;
    /** {@code local_addr}. */
    public volatile SockaddrVm localAddr = new SockaddrVm(VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY);
    /** {@code remote_addr}. */
    public volatile SockaddrVm remoteAddr = new SockaddrVm(VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY);
    /** {@code connect_timeout} in jiffies. */
    public long connectTimeout;
    /** Listening socket this child came from. */
    public VsockSock listener;
    /** Children waiting for accept (the listener's {@code accept_queue}). */
    public final ArrayDeque<VsockSock> acceptQueue = new ArrayDeque<>();
    /** {@code connect_work}: the non-blocking connect timeout. */
    public final DelayedWork connectWork;
    /** {@code close_work}: the transport's close timeout, set up by the transport when it arms it. */
    public DelayedWork closeWork;
    /** {@code close_work_scheduled}. */
    public boolean closeWorkScheduled;
    /** {@code peer_shutdown}: RCV_SHUTDOWN | SEND_SHUTDOWN as learned from the peer. */
    public volatile int peerShutdown;
    /** SO_VM_SOCKETS_BUFFER_SIZE. */
    public long bufferSize;
    /** SO_VM_SOCKETS_BUFFER_MIN_SIZE. */
    public long bufferMinSize;
    /** SO_VM_SOCKETS_BUFFER_MAX_SIZE. */
    public long bufferMaxSize;
    /** {@code vsk->trans}: the transport's per-socket state. */
    public volatile Object trans;
    /**
     * Zerocopy receive (RFC, not upstream): the socket's live mapping ({@code io.vsocksim.mm.VmArea}), or
     * null. Guarded by the socket lock.
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC v1: one mapping per socket")
    public Object zerocopyRx;

    // ---- table links, guarded by the core's table lock ------------------------------------------------
    int boundBucket = -1;
    VsockSock boundNext;
    VsockSock boundPrev;
    int connBucket = -1;
    VsockSock connNext;
    VsockSock connPrev;

    /**
     * SIM: the effective capabilities ({@link io.vsocksim.uapi.Capability} bitmask) of the process that
     * made the socket. The kernel checks the calling task; a process's call does so here too
     * ({@link io.vsocksim.kernel.Cred#capable}), and a kernel-internal call outside any process (a
     * white-box test) falls back to this set.
     */
    public final long capEffective;

    // ---- struct sock / struct socket fields only net/core/sock.c's SOL_SOCKET options touch ----------
    // Defaults are sock_init_data()'s (children get them afresh: __vsock_create copies none of them).
    /** {@code sock->flags} bits: SOCK_PASSCRED, SOCK_PASSSEC, SOCK_PASSPIDFD. */
    public volatile int socketFlags;
    /** {@code sk_sndbuf}, from {@code net.core.wmem_default}; stored only, vsock's credit ignores it. */
    public volatile int sndbuf;
    /** {@code sk_rcvbuf}, from {@code net.core.rmem_default}; stored only. */
    public volatile int rcvbuf;
    /** {@code sk_userlocks}: SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK. */
    public int userlocks;
    /** {@code sk_priority} (u32). */
    public volatile int priority;
    /** {@code sk_mark} (u32). */
    public volatile int mark;
    /** {@code sk_reuse} and {@code sk_reuseport}. */
    public int reuse;
    public int reuseport;
    /** {@code sk_no_check_tx}. */
    public int noCheckTx;
    /** {@code sk_bound_dev_if}. */
    public volatile int boundDevIf;
    /** {@code sk_ll_usec}, {@code sk_prefer_busy_poll}, {@code sk_busy_poll_budget}. */
    public volatile int llUsec;
    public volatile int preferBusyPoll;
    public volatile int busyPollBudget;
    /** {@code sk_max_pacing_rate} and {@code sk_pacing_rate} (unsigned long). */
    public volatile long maxPacingRate = -1L;
    public volatile long pacingRate = -1L;
    /** {@code sk_txrehash} (u8; 0 for vsock: sk_alloc zeroes it and only inet sets it). */
    public volatile int txrehash;
    /** {@code sk_incoming_cpu}. */
    public volatile int incomingCpu = -1;
    /** {@code sk_tsflags} and {@code sk_bind_phc}. */
    public volatile int tsflags;
    public volatile int bindPhc;
    /** {@code sk_clockid}, {@code sk_txtime_deadline_mode}, {@code sk_txtime_report_errors}. */
    public int clockid;
    public boolean txtimeDeadlineMode;
    public boolean txtimeReportErrors;
    /** {@code sk_cookie}: 0 until SO_COOKIE first asks ({@code sock_gen_cookie}). */
    public final java.util.concurrent.atomic.AtomicLong cookie = new java.util.concurrent.atomic.AtomicLong();

    VsockSock(VsockCore core, int type, int id, long capEffective, Runnable connectTimeoutFn) {
        this.core = core;
        this.type = type;
        this.id = id;
        this.capEffective = capEffective;
        this.sndbuf = core.kernel().wmemDefault();
        this.rcvbuf = core.kernel().rmemDefault();
        this.sleep = new WaitQueueHead(core.kernel().clock());
        this.connectWork = new DelayedWork("vsock-connect-" + id, connectTimeoutFn);
    }

    /** The machine's vsock core this socket belongs to. */
    public VsockCore core() {
        return core;
    }

    /** A small number unique on this machine, for names and logs. */
    public int id() {
        return id;
    }

    // ---- sock_flag ------------------------------------------------------------------------------------

    /** {@code sock_flag(sk, flag)}. */
    public boolean sockFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** {@code sock_set_flag(sk, flag)}; caller holds {@link #lock} (or owns the socket). */
    public void sockSetFlag(int flag) {
        flags |= flag;
    }

    /** {@code sock_reset_flag(sk, flag)}; caller holds {@link #lock}. */
    public void sockResetFlag(int flag) {
        flags &= ~flag;
    }

    /**
     * {@code sk->sk_state = state}. SIM: the one place the state changes, so the change is logged at
     * DEBUG through {@code log}, the logger of the kernel file that makes it, with both addresses
     * ({@link VsockLog}); costs a level check when DEBUG is off. The kernel has no vsock tracepoint here.
     */
    public void setState(org.slf4j.Logger log, TcpState state) {
        TcpState old = skState;
        skState = state;
        VsockLog.state(log, this, old, state);
    }

    // ---- lock_sock --------------------------------------------------------------------------------------

    /** {@code lock_sock(sk)}. */
    public void lockSock() {
        lock.lock();
    }

    /** {@code release_sock(sk)}. */
    public void releaseSock() {
        lock.unlock();
    }

    // ---- sk callbacks: every one wakes the socket's waiters, as sock_def_* do ------------------------

    /** {@code sk->sk_state_change(sk)}: {@code sock_def_wakeup} wakes everyone, with no key. */
    @Linux(file = "net/core/sock.c", fn = "sock_def_wakeup")
    public void stateChange() {
        sleep.wakeUp();
    }

    /** {@code sk->sk_data_ready(sk)}: {@code sock_def_readable}, keyed with the read events. */
    @Linux(file = "net/core/sock.c", fn = "sock_def_readable")
    public void dataReady() {
        sleep.wakeUp(Poll.POLLIN | Poll.POLLPRI | Poll.POLLRDNORM | Poll.POLLRDBAND);
    }

    /** {@code sk->sk_write_space(sk)}: {@code sock_def_write_space}, keyed with the write events. */
    @Linux(file = "net/core/sock.c", fn = "sock_def_write_space")
    public void writeSpace() {
        sleep.wakeUp(Poll.POLLOUT | Poll.POLLWRNORM | Poll.POLLWRBAND);
    }

    /** {@code sk_error_report(sk)}: {@code sock_def_error_report}, keyed with POLLERR. */
    @Linux(file = "net/core/sock.c", fn = "sock_def_error_report")
    public void errorReport() {
        sleep.wakeUp(Poll.POLLERR);
    }

    // ---- references -------------------------------------------------------------------------------------

    /** {@code sock_hold(sk)}. */
    public void sockHold() {
        int r = refcnt.getAndIncrement();
        assert r > 0 : "sock_hold on a dead socket: id=" + id;
    }

    /** {@code sock_put(sk)}: the last reference destructs the socket. */
    public void sockPut() {
        int r = refcnt.decrementAndGet();
        if (r == 0) {
            core.destruct(this);
        } else if (r < 0) {
            throw new AssertionError("sock_put below zero: id=" + id);
        }
    }

    /** Current reference count (diagnostics and tests). */
    public int refCount() {
        return refcnt.get();
    }

    @Override
    public String toString() {
        return "VsockSock{" + core.kernel().name() + "#" + id + " " + (type == io.vsocksim.uapi.Sock.SOCK_STREAM ? "STREAM" : "SEQPACKET")
                + " " + localAddr + " -> " + remoteAddr + " " + skState + "/" + sockState + " err=" + skErr
                + " shut=" + skShutdown + " peer_shut=" + peerShutdown + " flags=0x" + Integer.toHexString(flags) + "}";
    }
}
