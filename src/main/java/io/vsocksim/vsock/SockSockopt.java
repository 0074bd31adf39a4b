package io.vsocksim.vsock;

import static io.vsocksim.uapi.Capability.CAP_NET_ADMIN;
import static io.vsocksim.uapi.Capability.CAP_NET_RAW;
import static io.vsocksim.uapi.Errno.EACCES;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EDOM;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOENT;
import static io.vsocksim.uapi.Errno.ENOPROTOOPT;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.vsock.VsockSockopt.LINGER_SIZE;
import static io.vsocksim.vsock.VsockSockopt.TIMEVAL_SIZE;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.Capability;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The generic socket options of net/core/sock.c as an AF_VSOCK socket meets them:
 * {@code sk_setsockopt} (reached through {@code sock_setsockopt} from vsock_connectible_setsockopt for
 * every SOL_SOCKET option but SO_ZEROCOPY) and, in {@link SockGetsockopt}, {@code sk_getsockopt}.
 *
 * <p>What vsock brings to these functions: no {@code set_peek_off} (SO_PEEK_OFF is EOPNOTSUPP), a
 * {@code set_rcvlowat} on streams only, no {@code sk_prot->keepalive}, not an inet socket (SO_REUSEPORT
 * cannot be turned on), not TCP (SO_RESERVE_MEM and SO_DEVMEM_DONTNEED refuse), no peer credentials.
 *
 * <p>SIM: what the simulator does not model, with the errno that stands in for it:
 * <ul>
 *   <li>network devices: the machine's network namespace holds only {@code lo} (ifindex 1), with no
 *       PTP clock; other names are ENODEV, as on a machine without them;</li>
 *   <li>BPF: there is no fd table and no user memory beyond the option buffer, so an eBPF program fd is
 *       EBADF (no fd names a program) and a well-formed classic {@code sock_fprog} is EFAULT (its
 *       {@code filter} pointer is never mapped). Malformed ones fail as in the kernel;</li>
 *   <li>capabilities are the calling process's ({@link io.vsocksim.kernel.Cred#current()}), or, for a
 *       kernel-internal call made outside any process, the set its socket was created with
 *       ({@link VsockSock#capEffective});</li>
 *   <li>values that only steer IP (priority, mark, pacing, busy polling, timestamps, txtime) are stored
 *       and read back; nothing on vsock's data path consults them, as in the kernel.</li>
 * </ul>
 */
public final class SockSockopt {
    /** sizeof(struct so_timestamping), of struct sock_txtime and of a u64. */
    static final int PAIR_SIZE = 8;
    /** sizeof(struct sock_fprog) on x86-64: a u16 length, padding, a filter pointer at offset 8. */
    static final int FPROG_SIZE = 16;
    /** {@code BPF_MAXINSNS}: the longest classic filter. */
    static final int BPF_MAXINSNS = 4096;
    /** {@code IFNAMSIZ}. */
    static final int IFNAMSIZ = 16;
    /** The one network device of the simulated namespace. */
    static final int LOOPBACK_IFINDEX = 1;
    static final String LOOPBACK_NAME = "lo";
    /** {@code net.core.txrehash} default (SOCK_TXREHASH_ENABLED). */
    static final int SYSCTL_TXREHASH = 1;
    private static final long USEC_PER_SEC = 1_000_000L;
    private static final int SZ_1G = 1 << 30;

    private SockSockopt() {
    }

    /**
     * Mirrors sk_setsockopt() for an AF_VSOCK socket. {@code v} is the caller's buffer as a
     * little-endian view from index 0, or null for NULL; {@code optlen} is non-negative.
     *
     * @return 0 or -errno
     */
    @Linux(file = "net/core/sock.c", fn = "sk_setsockopt")
    static int setsockopt(VsockSock sk, int optname, ByteBuffer v, int optlen) {
        // SO_BINDTODEVICE takes a string and is the one option that skips the int rules below.
        if (optname == SO_BINDTODEVICE) {
            return setBindToDevice(sk, v, optlen);
        }
        if (optlen < 4) {
            return -EINVAL;
        }
        if (!readable(v, 4)) {
            return -EFAULT;
        }
        int val = v.getInt(0);
        int valbool = val != 0 ? 1 : 0;

        // The options the kernel handles before taking the socket lock.
        switch (optname) {
            case SO_PRIORITY:
                if ((val >= 0 && val <= 6) || capable(sk, CAP_NET_RAW) || capable(sk, CAP_NET_ADMIN)) {
                    sk.priority = val;
                    return 0;
                }
                return -EPERM;
            case SO_PASSSEC:
                assignSocketFlag(sk, VsockSock.SOCK_PASSSEC, valbool);
                return 0;
            case SO_PASSCRED:
                assignSocketFlag(sk, VsockSock.SOCK_PASSCRED, valbool);
                return 0;
            case SO_PASSPIDFD:
                assignSocketFlag(sk, VsockSock.SOCK_PASSPIDFD, valbool);
                return 0;
            case SO_TYPE:
            case SO_PROTOCOL:
            case SO_DOMAIN:
            case SO_ERROR:
                return -ENOPROTOOPT;
            case SO_BUSY_POLL:
                if (val < 0) {
                    return -EINVAL;
                }
                sk.llUsec = val;
                return 0;
            case SO_PREFER_BUSY_POLL:
                if (valbool != 0 && !capable(sk, CAP_NET_ADMIN)) {
                    return -EPERM;
                }
                sk.preferBusyPoll = valbool;
                return 0;
            case SO_BUSY_POLL_BUDGET:
                if (val > sk.busyPollBudget && !capable(sk, CAP_NET_ADMIN)) {
                    return -EPERM;
                }
                if (val < 0 || val > 0xffff) {
                    return -EINVAL;
                }
                sk.busyPollBudget = val;
                return 0;
            case SO_MAX_PACING_RATE:
                return setMaxPacingRate(sk, v, optlen, val);
            case SO_TXREHASH:
                if (val < -1 || val > 1) {
                    return -EINVAL;
                }
                sk.txrehash = (val & 0xff) == SOCK_TXREHASH_DEFAULT ? SYSCTL_TXREHASH : val & 0xff;
                return 0;
            case SO_PEEK_OFF:
                return -EOPNOTSUPP; // vsock's proto_ops have no set_peek_off
            case SO_DEVMEM_DONTNEED:
                return -EBADF; // sock_devmem_dontneed: TCP sockets only
            default:
                break;
        }
        // The options set under the socket lock.
        sk.lockSock();
        try {
            KernelContext kernel = sk.core().kernel();
            switch (optname) {
                case SO_DEBUG:
                    if (val != 0 && !capable(sk, CAP_NET_ADMIN)) {
                        return -EACCES;
                    }
                    valboolFlag(sk, VsockSock.SOCK_DBG, valbool);
                    return 0;
                case SO_REUSEADDR:
                    sk.reuse = valbool;
                    return 0;
                case SO_REUSEPORT:
                    if (valbool != 0) {
                        return -EOPNOTSUPP; // only inet sockets may share a port
                    }
                    sk.reuseport = 0;
                    return 0;
                case SO_DONTROUTE:
                    valboolFlag(sk, VsockSock.SOCK_LOCALROUTE, valbool);
                    return 0;
                case SO_BROADCAST:
                    valboolFlag(sk, VsockSock.SOCK_BROADCAST, valbool);
                    return 0;
                case SO_SNDBUF:
                    // A request above the sysctl is cut to it, not refused (compared as u32).
                    setSndbuf(sk, Integer.compareUnsigned(val, kernel.wmemMax()) > 0 ? kernel.wmemMax() : val);
                    return 0;
                case SO_SNDBUFFORCE:
                    if (!capable(sk, CAP_NET_ADMIN)) {
                        return -EPERM;
                    }
                    setSndbuf(sk, Math.max(val, 0));
                    return 0;
                case SO_RCVBUF:
                    setRcvbuf(sk, Integer.compareUnsigned(val, kernel.rmemMax()) > 0 ? kernel.rmemMax() : val);
                    return 0;
                case SO_RCVBUFFORCE:
                    if (!capable(sk, CAP_NET_ADMIN)) {
                        return -EPERM;
                    }
                    setRcvbuf(sk, Math.max(val, 0));
                    return 0;
                case SO_KEEPALIVE:
                    valboolFlag(sk, VsockSock.SOCK_KEEPOPEN, valbool); // vsock_proto has no keepalive hook
                    return 0;
                case SO_OOBINLINE:
                    valboolFlag(sk, VsockSock.SOCK_URGINLINE, valbool);
                    return 0;
                case SO_NO_CHECK:
                    sk.noCheckTx = valbool;
                    return 0;
                case SO_LINGER:
                    return setLinger(sk, v, optlen);
                case SO_BSDCOMPAT:
                case SO_CNX_ADVICE: // dst_negative_advice: a vsock socket has no route to drop
                    return 0;
                case SO_TIMESTAMP_OLD:
                case SO_TIMESTAMP_NEW:
                case SO_TIMESTAMPNS_OLD:
                case SO_TIMESTAMPNS_NEW:
                    setTimestamp(sk, optname, valbool);
                    return 0;
                case SO_TIMESTAMPING_OLD:
                case SO_TIMESTAMPING_NEW: {
                    int flags = val;
                    int phc = 0;
                    if (optlen == PAIR_SIZE) {
                        if (!readable(v, PAIR_SIZE)) {
                            return -EFAULT;
                        }
                        phc = v.getInt(4);
                    }
                    return setTimestamping(sk, optname, flags, phc);
                }
                case SO_RCVLOWAT:
                    if (val < 0) {
                        val = Integer.MAX_VALUE;
                    }
                    if (sk.type == SOCK_STREAM) {
                        return VsockSockopt.setRcvlowat(sk, val); // only vsock_stream_ops has set_rcvlowat
                    }
                    sk.rcvlowat = val == 0 ? 1 : val;
                    return 0;
                case SO_RCVTIMEO_OLD:
                case SO_RCVTIMEO_NEW:
                case SO_SNDTIMEO_OLD:
                case SO_SNDTIMEO_NEW: {
                    long t = sockSetTimeout(v, optlen);
                    if (t < 0) {
                        return (int) t;
                    }
                    if (optname == SO_RCVTIMEO_OLD || optname == SO_RCVTIMEO_NEW) {
                        sk.rcvtimeo = t;
                    } else {
                        sk.sndtimeo = t;
                    }
                    return 0;
                }
                case SO_ATTACH_FILTER:
                case SO_ATTACH_REUSEPORT_CBPF: {
                    int err = copyBpfFprogFromUser(v, optlen);
                    // sk_attach_filter / sk_reuseport_attach_filter both start with __get_filter.
                    return err != 0 ? err : getFilter(sk, v);
                }
                case SO_ATTACH_BPF:
                case SO_ATTACH_REUSEPORT_EBPF:
                    if (optlen != 4) {
                        return -EINVAL;
                    }
                    if (sk.sockFlag(VsockSock.SOCK_FILTER_LOCKED)) {
                        return -EPERM;
                    }
                    return -EBADF; // SIM: bpf_prog_get_type finds no program behind any fd
                case SO_DETACH_REUSEPORT_BPF:
                    return -EINVAL; // reuseport_detach_prog: no reuseport group and sk_reuseport clear
                case SO_DETACH_FILTER:
                    // sk_detach_filter: no filter is ever attached
                    return sk.sockFlag(VsockSock.SOCK_FILTER_LOCKED) ? -EPERM : -ENOENT;
                case SO_LOCK_FILTER:
                    if (sk.sockFlag(VsockSock.SOCK_FILTER_LOCKED) && valbool == 0) {
                        return -EPERM;
                    }
                    valboolFlag(sk, VsockSock.SOCK_FILTER_LOCKED, valbool);
                    return 0;
                case SO_MARK:
                    if (!capable(sk, CAP_NET_RAW) && !capable(sk, CAP_NET_ADMIN)) {
                        return -EPERM;
                    }
                    sk.mark = val;
                    return 0;
                case SO_RCVMARK:
                    valboolFlag(sk, VsockSock.SOCK_RCVMARK, valbool);
                    return 0;
                case SO_RXQ_OVFL:
                    valboolFlag(sk, VsockSock.SOCK_RXQ_OVFL, valbool);
                    return 0;
                case SO_WIFI_STATUS:
                    valboolFlag(sk, VsockSock.SOCK_WIFI_STATUS, valbool);
                    return 0;
                case SO_NOFCS:
                    valboolFlag(sk, VsockSock.SOCK_NOFCS, valbool);
                    return 0;
                case SO_SELECT_ERR_QUEUE:
                    valboolFlag(sk, VsockSock.SOCK_SELECT_ERR_QUEUE, valbool);
                    return 0;
                case SO_INCOMING_CPU:
                    sk.incomingCpu = val; // reuseport_update_incoming_cpu without a reuseport group
                    return 0;
                case SO_TXTIME:
                    return setTxtime(sk, v, optlen);
                case SO_BINDTOIFINDEX:
                    return bindToIndexLocked(sk, val);
                case SO_BUF_LOCK:
                    if ((val & ~SOCK_BUF_LOCK_MASK) != 0) {
                        return -EINVAL;
                    }
                    sk.userlocks = val | (sk.userlocks & ~SOCK_BUF_LOCK_MASK);
                    return 0;
                case SO_RESERVE_MEM:
                    if (val < 0 || val > SZ_1G) {
                        return -EINVAL;
                    }
                    return -EOPNOTSUPP; // sock_reserve_memory: TCP with a memory cgroup only, even for 0
                default:
                    // SO_SNDLOWAT, SO_PEERCRED, SO_ACCEPTCONN and the other read-only or unknown names.
                    // SO_ZEROCOPY never gets here: vsock answers it itself.
                    return -ENOPROTOOPT;
            }
        } finally {
            sk.releaseSock();
        }
    }

    /** sk_setsockopt's set_sndbuf tail (SO_SNDBUF, SO_SNDBUFFORCE): double, with a floor; locks the size. */
    private static void setSndbuf(VsockSock sk, int val) {
        val = Math.min(val, Integer.MAX_VALUE / 2);
        sk.userlocks |= SOCK_SNDBUF_LOCK;
        sk.sndbuf = Math.max(val * 2, KernelContext.SOCK_MIN_SNDBUF);
        sk.writeSpace();
    }

    /** Mirrors __sock_set_rcvbuf(): double, with a floor; locks the size. */
    @Linux(file = "net/core/sock.c", fn = "__sock_set_rcvbuf")
    private static void setRcvbuf(VsockSock sk, int val) {
        val = Math.min(val, Integer.MAX_VALUE / 2);
        sk.userlocks |= SOCK_RCVBUF_LOCK;
        sk.rcvbuf = Math.max(val * 2, KernelContext.SOCK_MIN_RCVBUF);
    }

    /**
     * sk_setsockopt's SO_MAX_PACING_RATE: a u32 ({@code ~0U} meaning unlimited) or, with optlen ≥ 8, an
     * unsigned long.
     */
    private static int setMaxPacingRate(VsockSock sk, ByteBuffer v, int optlen, int val) {
        long ulval = val == -1 ? -1L : Integer.toUnsignedLong(val);
        if (optlen >= 8) {
            if (!readable(v, 8)) {
                return -EFAULT;
            }
            ulval = v.getLong(0);
        }
        sk.maxPacingRate = ulval;
        if (Long.compareUnsigned(ulval, sk.pacingRate) < 0) {
            sk.pacingRate = ulval;
        }
        return 0;
    }

    /** sk_setsockopt's SO_LINGER: a struct linger; a linger time too large for jiffies means "forever". */
    private static int setLinger(VsockSock sk, ByteBuffer v, int optlen) {
        if (optlen < LINGER_SIZE) {
            return -EINVAL;
        }
        if (!readable(v, LINGER_SIZE)) {
            return -EFAULT;
        }
        int onoff = v.getInt(0);
        int linger = v.getInt(4);
        if (onoff == 0) {
            sk.sockResetFlag(VsockSock.SOCK_LINGER);
            return 0;
        }
        // l_linger widens to an unsigned long: a negative one is huge, hence forever.
        sk.lingertime = linger < 0 || linger >= WaitQueueHead.MAX_SCHEDULE_TIMEOUT / Clock.HZ
                ? WaitQueueHead.MAX_SCHEDULE_TIMEOUT : (long) linger * Clock.HZ;
        sk.sockSetFlag(VsockSock.SOCK_LINGER);
        return 0;
    }

    /** Mirrors sock_set_timestamp() / __sock_set_timestamps(). */
    @Linux(file = "net/core/sock.c", fn = "__sock_set_timestamps")
    private static void setTimestamp(VsockSock sk, int optname, int valbool) {
        if (valbool == 0) {
            sk.sockResetFlag(VsockSock.SOCK_RCVTSTAMP | VsockSock.SOCK_RCVTSTAMPNS);
            return;
        }
        boolean isNew = optname == SO_TIMESTAMP_NEW || optname == SO_TIMESTAMPNS_NEW;
        boolean ns = optname == SO_TIMESTAMPNS_OLD || optname == SO_TIMESTAMPNS_NEW;
        valboolFlag(sk, VsockSock.SOCK_TSTAMP_NEW, isNew ? 1 : 0);
        valboolFlag(sk, VsockSock.SOCK_RCVTSTAMPNS, ns ? 1 : 0);
        sk.sockSetFlag(VsockSock.SOCK_RCVTSTAMP);
    }

    /** Mirrors sock_set_timestamping(); a vsock socket is never TCP. */
    @Linux(file = "net/core/sock.c", fn = "sock_set_timestamping")
    private static int setTimestamping(VsockSock sk, int optname, int val, int phc) {
        if ((val & ~SOF_TIMESTAMPING_MASK) != 0) {
            return -EINVAL;
        }
        if ((val & SOF_TIMESTAMPING_OPT_ID_TCP) != 0 && (val & SOF_TIMESTAMPING_OPT_ID) == 0) {
            return -EINVAL;
        }
        if ((val & SOF_TIMESTAMPING_OPT_STATS) != 0 && (val & SOF_TIMESTAMPING_OPT_TSONLY) == 0) {
            return -EINVAL;
        }
        if ((val & SOF_TIMESTAMPING_BIND_PHC) != 0) {
            // sock_timestamping_bind_phc: needs a bound device, and lo has no PHC virtual clock
            return sk.boundDevIf != LOOPBACK_IFINDEX ? -EOPNOTSUPP : -EINVAL;
        }
        sk.tsflags = val;
        valboolFlag(sk, VsockSock.SOCK_TSTAMP_NEW, optname == SO_TIMESTAMPING_NEW ? 1 : 0);
        return 0;
    }

    /** SO_TXTIME: exactly a struct sock_txtime; clocks other than MONOTONIC need CAP_NET_ADMIN. */
    @Linux(file = "net/core/sock.c", fn = "sockopt_validate_clockid")
    private static int setTxtime(VsockSock sk, ByteBuffer v, int optlen) {
        if (optlen != PAIR_SIZE) {
            return -EINVAL;
        }
        if (!readable(v, PAIR_SIZE)) {
            return -EFAULT;
        }
        int clockid = v.getInt(0);
        int flags = v.getInt(4);
        if ((flags & ~SOF_TXTIME_FLAGS_MASK) != 0) {
            return -EINVAL;
        }
        if (clockid != CLOCK_MONOTONIC && !capable(sk, CAP_NET_ADMIN)) {
            return -EPERM;
        }
        if (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC && clockid != CLOCK_TAI) {
            return -EINVAL;
        }
        sk.sockSetFlag(VsockSock.SOCK_TXTIME);
        sk.clockid = clockid;
        sk.txtimeDeadlineMode = (flags & SOF_TXTIME_DEADLINE_MODE) != 0;
        sk.txtimeReportErrors = (flags & SOF_TXTIME_REPORT_ERRORS) != 0;
        return 0;
    }

    /** Mirrors copy_bpf_fprog_from_user() (native ABI): exactly a struct sock_fprog. */
    @Linux(file = "net/core/filter.c", fn = "copy_bpf_fprog_from_user")
    private static int copyBpfFprogFromUser(ByteBuffer v, int optlen) {
        if (optlen != FPROG_SIZE) {
            return -EINVAL;
        }
        return readable(v, FPROG_SIZE) ? 0 : -EFAULT;
    }

    /** Mirrors __get_filter() up to the copy of the instructions, which the simulator cannot make. */
    @Linux(file = "net/core/filter.c", fn = "__get_filter")
    private static int getFilter(VsockSock sk, ByteBuffer fprog) {
        if (sk.sockFlag(VsockSock.SOCK_FILTER_LOCKED)) {
            return -EPERM;
        }
        int len = fprog.getShort(0) & 0xffff;
        long filter = fprog.getLong(8);
        if (filter == 0 || len == 0 || len > BPF_MAXINSNS) {
            return -EINVAL; // bpf_check_basics_ok
        }
        return -EFAULT; // SIM: the instructions live at a user address the simulator has no memory for
    }

    /** Mirrors sock_setbindtodevice(): a name of up to IFNAMSIZ-1 bytes; "" (or optlen 0) unbinds. */
    @Linux(file = "net/core/sock.c", fn = "sock_setbindtodevice")
    private static int setBindToDevice(VsockSock sk, ByteBuffer v, int optlen) {
        if (optlen < 0) {
            return -EINVAL;
        }
        int n = Math.min(optlen, IFNAMSIZ - 1);
        if (n > 0 && !readable(v, n)) {
            return -EFAULT;
        }
        int index = 0;
        if (n > 0 && v.get(0) != 0) {
            int end = 0;
            while (end < n && v.get(end) != 0) {
                end++;
            }
            byte[] name = new byte[end];
            v.get(0, name);
            if (!LOOPBACK_NAME.equals(new String(name, StandardCharsets.ISO_8859_1))) {
                return -ENODEV; // dev_get_by_name_rcu: the namespace has only lo
            }
            index = LOOPBACK_IFINDEX;
        }
        sk.lockSock();
        try {
            return bindToIndexLocked(sk, index);
        } finally {
            sk.releaseSock();
        }
    }

    /** Mirrors sock_bindtoindex_locked(): rebinding needs CAP_NET_RAW; the index is not looked up. */
    @Linux(file = "net/core/sock.c", fn = "sock_bindtoindex_locked")
    private static int bindToIndexLocked(VsockSock sk, int ifindex) {
        if (sk.boundDevIf != 0 && !capable(sk, CAP_NET_RAW)) {
            return -EPERM;
        }
        if (ifindex < 0) {
            return -EINVAL;
        }
        sk.boundDevIf = ifindex;
        return 0;
    }

    /** Mirrors sock_set_timeout(): a timeval to jiffies, rounding microseconds up; -errno on failure. */
    @Linux(file = "net/core/sock.c", fn = "sock_set_timeout")
    private static long sockSetTimeout(ByteBuffer v, int optlen) {
        if (optlen < TIMEVAL_SIZE) {
            return -EINVAL;
        }
        if (!readable(v, TIMEVAL_SIZE)) {
            return -EFAULT;
        }
        long sec = v.getLong(0);
        long usec = v.getLong(8);
        if (usec < 0 || usec >= USEC_PER_SEC) {
            return -EDOM;
        }
        if (sec < 0) {
            return 0;
        }
        long val = WaitQueueHead.MAX_SCHEDULE_TIMEOUT;
        if ((sec != 0 || usec != 0) && sec < WaitQueueHead.MAX_SCHEDULE_TIMEOUT / Clock.HZ - 1) {
            val = sec * Clock.HZ + divRoundUp(usec, USEC_PER_SEC / Clock.HZ);
        }
        return val;
    }

    /** {@code sockopt_capable} / {@code sockopt_ns_capable}: SIM, against the socket owner's set. */
    @Linux(file = "net/core/sock.c", fn = "sockopt_ns_capable")
    static boolean capable(VsockSock sk, int cap) {
        return io.vsocksim.kernel.Cred.capable(cap, sk.capEffective);
    }

    /** {@code sock_valbool_flag}; socket lock held. */
    @Linux(file = "include/net/sock.h", fn = "sock_valbool_flag")
    private static void valboolFlag(VsockSock sk, int flag, int valbool) {
        if (valbool != 0) {
            sk.sockSetFlag(flag);
        } else {
            sk.sockResetFlag(flag);
        }
    }

    /** {@code assign_bit} on {@code sock->flags}; atomic in the kernel, hence under the socket lock here. */
    private static void assignSocketFlag(VsockSock sk, int bit, int valbool) {
        sk.lockSock();
        try {
            sk.socketFlags = valbool != 0 ? sk.socketFlags | bit : sk.socketFlags & ~bit;
        } finally {
            sk.releaseSock();
        }
    }

    /** Whether {@code copy_from_sockptr} of {@code n} bytes succeeds: a mapped buffer that long. */
    static boolean readable(ByteBuffer v, int n) {
        return v != null && v.capacity() >= n;
    }

    /** Whether {@code copy_to_user} of {@code n} bytes succeeds: a writable buffer that long. */
    static boolean writable(ByteBuffer v, int n) {
        return readable(v, n) && !v.isReadOnly();
    }

    /** DIV_ROUND_UP on unsigned longs, wrapping like C. */
    static long divRoundUp(long n, long d) {
        return Long.divideUnsigned(n + d - 1, d);
    }
}
