package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENODATA;
import static io.vsocksim.uapi.Errno.ENOPROTOOPT;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.ENXIO;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.vsock.SockSockopt.IFNAMSIZ;
import static io.vsocksim.vsock.VsockSockopt.LINGER_SIZE;
import static io.vsocksim.vsock.SockSockopt.LOOPBACK_IFINDEX;
import static io.vsocksim.vsock.SockSockopt.LOOPBACK_NAME;
import static io.vsocksim.vsock.SockSockopt.PAIR_SIZE;
import static io.vsocksim.vsock.VsockSockopt.TIMEVAL_SIZE;
import static io.vsocksim.vsock.SockSockopt.writable;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.TcpState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * net/core/sock.c {@code sk_getsockopt} for an AF_VSOCK socket: the syscall calls it directly for
 * level SOL_SOCKET, vsock has no say. Most values are an int (or a small struct) cut to
 * {@code min(optlen, lv)} bytes, and that length is the new optlen; the options with their own length
 * rules are listed in {@link #getsockopt}. See {@link SockSockopt} for what is not modelled.
 */
public final class SockGetsockopt {
    /** sizeof(struct ucred). */
    static final int UCRED_SIZE = 12;
    /** {@code SK_MEMINFO_VARS} u32 values. */
    static final int SK_MEMINFO_VARS = 9;
    /** {@code SKF_AD_MAX}: what bpf_tell_extensions() reports. */
    static final int SKF_AD_MAX = 64;
    /** SIM: {@code init_net.net_cookie}: the first namespace's cookie, the only namespace here. */
    static final long INIT_NET_COOKIE = 1;

    private SockGetsockopt() {
    }

    /**
     * Mirrors sk_getsockopt(): writes the value into {@code v} and returns the new optlen, or -errno.
     * Own length rules: SO_PEERCRED and SO_MEMINFO cut to their struct; SO_PEERNAME refuses an optlen
     * above the address (EINVAL); SO_COOKIE needs at least 8 bytes and SO_NETNS_COOKIE exactly 8;
     * SO_MAX_PACING_RATE answers a u64 to an optlen of 8 or more; SO_BINDTODEVICE needs IFNAMSIZ.
     *
     * @param v the caller's buffer (little-endian view from index 0) or null
     * @param len the caller's optlen
     */
    @Linux(file = "net/core/sock.c", fn = "sk_getsockopt")
    static int getsockopt(VsockSock sk, int optname, ByteBuffer v, int len) {
        if (len < 0) {
            return -EINVAL;
        }
        ByteBuffer tmp = ByteBuffer.allocate(4 * SK_MEMINFO_VARS).order(ByteOrder.LITTLE_ENDIAN);
        int lv = 4;
        switch (optname) {
            case SO_DEBUG:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_DBG));
                break;
            case SO_DONTROUTE:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_LOCALROUTE));
                break;
            case SO_BROADCAST:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_BROADCAST));
                break;
            case SO_SNDBUF:
                tmp.putInt(0, sk.sndbuf);
                break;
            case SO_RCVBUF:
                tmp.putInt(0, sk.rcvbuf);
                break;
            case SO_REUSEADDR:
                tmp.putInt(0, sk.reuse);
                break;
            case SO_REUSEPORT:
                tmp.putInt(0, sk.reuseport);
                break;
            case SO_KEEPALIVE:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_KEEPOPEN));
                break;
            case SO_TYPE:
                tmp.putInt(0, sk.type);
                break;
            case SO_PROTOCOL:
                tmp.putInt(0, 0);
                break;
            case SO_DOMAIN:
                tmp.putInt(0, AF_VSOCK);
                break;
            case SO_ERROR:
                tmp.putInt(0, -AfVsock.sockError(sk)); // vsock never sets sk_err_soft
                break;
            case SO_OOBINLINE:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_URGINLINE));
                break;
            case SO_NO_CHECK:
                tmp.putInt(0, sk.noCheckTx);
                break;
            case SO_PRIORITY:
                tmp.putInt(0, sk.priority);
                break;
            case SO_LINGER:
                lv = LINGER_SIZE;
                tmp.putInt(0, flag(sk, VsockSock.SOCK_LINGER));
                tmp.putInt(4, (int) (sk.lingertime / Clock.HZ));
                break;
            case SO_BSDCOMPAT:
            case SO_RESERVE_MEM: // sk_reserved_mem: never charged on vsock
                break;
            case SO_TIMESTAMP_OLD:
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_RCVTSTAMP) && !sk.sockFlag(VsockSock.SOCK_TSTAMP_NEW)
                        && !sk.sockFlag(VsockSock.SOCK_RCVTSTAMPNS) ? 1 : 0);
                break;
            case SO_TIMESTAMPNS_OLD:
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_RCVTSTAMPNS) && !sk.sockFlag(VsockSock.SOCK_TSTAMP_NEW) ? 1 : 0);
                break;
            case SO_TIMESTAMP_NEW:
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_RCVTSTAMP) && sk.sockFlag(VsockSock.SOCK_TSTAMP_NEW) ? 1 : 0);
                break;
            case SO_TIMESTAMPNS_NEW:
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_RCVTSTAMPNS) && sk.sockFlag(VsockSock.SOCK_TSTAMP_NEW) ? 1 : 0);
                break;
            case SO_TIMESTAMPING_OLD:
            case SO_TIMESTAMPING_NEW:
                lv = PAIR_SIZE;
                // The NEW name reports the flags only if they were set through it.
                if (optname == SO_TIMESTAMPING_OLD || sk.sockFlag(VsockSock.SOCK_TSTAMP_NEW)) {
                    tmp.putInt(0, sk.tsflags);
                    tmp.putInt(4, sk.bindPhc);
                }
                break;
            case SO_RCVTIMEO_OLD:
            case SO_RCVTIMEO_NEW:
                lv = sockGetTimeout(sk.rcvtimeo, tmp);
                break;
            case SO_SNDTIMEO_OLD:
            case SO_SNDTIMEO_NEW:
                lv = sockGetTimeout(sk.sndtimeo, tmp);
                break;
            case SO_RCVLOWAT:
                tmp.putInt(0, sk.rcvlowat);
                break;
            case SO_SNDLOWAT:
                tmp.putInt(0, 1);
                break;
            case SO_PASSCRED:
                tmp.putInt(0, (sk.socketFlags & VsockSock.SOCK_PASSCRED) != 0 ? 1 : 0);
                break;
            case SO_PASSPIDFD:
                tmp.putInt(0, (sk.socketFlags & VsockSock.SOCK_PASSPIDFD) != 0 ? 1 : 0);
                break;
            case SO_PASSSEC:
                tmp.putInt(0, (sk.socketFlags & VsockSock.SOCK_PASSSEC) != 0 ? 1 : 0);
                break;
            case SO_PEERCRED:
                // cred_to_ucred with no peer pid and no peer cred: pid 0, uid and gid -1
                tmp.putInt(0, 0).putInt(4, -1).putInt(8, -1);
                return copyOut(tmp, Math.min(len, UCRED_SIZE), v);
            case SO_PEERPIDFD:
            case SO_PEERGROUPS:
                return -ENODATA; // vsock records no peer pid or credentials
            case SO_PEERNAME:
                return peerName(sk, v, len);
            case SO_ACCEPTCONN:
                tmp.putInt(0, sk.skState == TcpState.TCP_LISTEN ? 1 : 0);
                break;
            case SO_PEERSEC:
                return -ENOPROTOOPT; // security_socket_getpeersec_stream: no LSM labels a vsock peer
            case SO_MARK:
                tmp.putInt(0, sk.mark);
                break;
            case SO_RCVMARK:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_RCVMARK));
                break;
            case SO_RXQ_OVFL:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_RXQ_OVFL));
                break;
            case SO_WIFI_STATUS:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_WIFI_STATUS));
                break;
            case SO_PEEK_OFF:
                return -EOPNOTSUPP; // no set_peek_off in vsock's proto_ops
            case SO_NOFCS:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_NOFCS));
                break;
            case SO_BINDTODEVICE:
                return getBindToDevice(sk, v, len);
            case SO_GET_FILTER:
                return 0; // sk_get_filter: no filter attached, so nothing copied and optlen 0
            case SO_LOCK_FILTER:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_FILTER_LOCKED));
                break;
            case SO_BPF_EXTENSIONS:
                tmp.putInt(0, SKF_AD_MAX);
                break;
            case SO_SELECT_ERR_QUEUE:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_SELECT_ERR_QUEUE));
                break;
            case SO_BUSY_POLL:
                tmp.putInt(0, sk.llUsec);
                break;
            case SO_PREFER_BUSY_POLL:
                tmp.putInt(0, sk.preferBusyPoll);
                break;
            case SO_MAX_PACING_RATE:
                if (len >= 8) {
                    lv = 8;
                    tmp.putLong(0, sk.maxPacingRate);
                } else {
                    long r = sk.maxPacingRate;
                    tmp.putInt(0, Long.compareUnsigned(r, 0xffff_ffffL) > 0 ? -1 : (int) r);
                }
                break;
            case SO_INCOMING_CPU:
                tmp.putInt(0, sk.incomingCpu);
                break;
            case SO_MEMINFO:
                // sk_get_meminfo: rcvbuf at [1], sndbuf at [3]. SIM: the transient charges (rmem, wmem,
                // optmem, drops) of in-flight packets are not tracked and read 0, as on an idle socket.
                tmp.putInt(4, sk.rcvbuf).putInt(12, sk.sndbuf);
                return copyOut(tmp, Math.min(len, 4 * SK_MEMINFO_VARS), v);
            case SO_INCOMING_NAPI_ID:
                break; // no NAPI delivers to vsock: below MIN_NAPI_ID, reported as 0
            case SO_COOKIE:
                lv = 8;
                if (len < lv) {
                    return -EINVAL;
                }
                tmp.putLong(0, genCookie(sk));
                break;
            case SO_ZEROCOPY:
                tmp.putInt(0, flag(sk, VsockSock.SOCK_ZEROCOPY));
                break;
            case SO_TXTIME:
                lv = PAIR_SIZE;
                tmp.putInt(0, sk.clockid);
                tmp.putInt(4, (sk.txtimeDeadlineMode ? SOF_TXTIME_DEADLINE_MODE : 0)
                        | (sk.txtimeReportErrors ? SOF_TXTIME_REPORT_ERRORS : 0));
                break;
            case SO_BINDTOIFINDEX:
                tmp.putInt(0, sk.boundDevIf);
                break;
            case SO_NETNS_COOKIE:
                lv = 8;
                if (len != lv) {
                    return -EINVAL;
                }
                tmp.putLong(0, INIT_NET_COOKIE);
                break;
            case SO_BUF_LOCK:
                tmp.putInt(0, sk.userlocks & SOCK_BUF_LOCK_MASK);
                break;
            case SO_TXREHASH:
                tmp.putInt(0, sk.txrehash);
                break;
            default:
                // SO_SNDBUFFORCE, SO_BUSY_POLL_BUDGET, SO_CNX_ADVICE and the other set-only or unknown names.
                return -ENOPROTOOPT;
        }
        return copyOut(tmp, Math.min(len, lv), v);
    }

    /** sk_getsockopt's SO_PEERNAME: the peer's vsock_getname(); an optlen above sizeof(sockaddr_vm) is EINVAL. */
    private static int peerName(VsockSock sk, ByteBuffer v, int len) {
        SockaddrVm[] out = new SockaddrVm[1];
        int lv = AfVsock.getname(sk, true, out);
        if (lv < 0) {
            return -ENOTCONN;
        }
        if (lv < len) {
            return -EINVAL;
        }
        ByteBuffer tmp = ByteBuffer.wrap(out[0].toBytes());
        return copyOut(tmp, len, v);
    }

    /** Mirrors sock_getbindtodevice(): optlen 0 when unbound, else the NUL-terminated name. */
    @Linux(file = "net/core/sock.c", fn = "sock_getbindtodevice")
    private static int getBindToDevice(VsockSock sk, ByteBuffer v, int len) {
        int ifindex = sk.boundDevIf;
        if (ifindex == 0) {
            return 0;
        }
        if (len < IFNAMSIZ) {
            return -EINVAL;
        }
        if (ifindex != LOOPBACK_IFINDEX) {
            return -ENXIO; // netdev_get_name: SO_BINDTOIFINDEX stores an index no device has
        }
        byte[] name = (LOOPBACK_NAME + "\0").getBytes(StandardCharsets.ISO_8859_1);
        return copyOut(ByteBuffer.wrap(name), name.length, v);
    }

    /** Mirrors sock_gen_cookie(): the machine's next cookie, given once and kept. */
    @Linux(file = "include/linux/sock_diag.h", fn = "sock_gen_cookie")
    private static long genCookie(VsockSock sk) {
        long c = sk.cookie.get();
        if (c == 0) {
            sk.cookie.compareAndSet(0, sk.core().kernel().nextSocketCookie());
            c = sk.cookie.get();
        }
        return c;
    }

    /** Mirrors sock_get_timeout(): jiffies to a 16-byte timeval; infinite is 0. */
    @Linux(file = "net/core/sock.c", fn = "sock_get_timeout")
    static int sockGetTimeout(long timeo, ByteBuffer tmp) {
        long sec = 0;
        long usec = 0;
        if (timeo != WaitQueueHead.MAX_SCHEDULE_TIMEOUT) {
            sec = timeo / Clock.HZ;
            usec = ((timeo % Clock.HZ) * 1_000_000L) / Clock.HZ;
        }
        tmp.putLong(0, sec);
        tmp.putLong(8, usec);
        return TIMEVAL_SIZE;
    }

    /** copy_to_sockptr of the first {@code len} bytes of {@code tmp}; returns {@code len} or -EFAULT. */
    private static int copyOut(ByteBuffer tmp, int len, ByteBuffer v) {
        if (len > 0) {
            if (!writable(v, len)) {
                return -EFAULT;
            }
            v.put(0, tmp, 0, len);
        }
        return len;
    }

    private static int flag(VsockSock sk, int flag) {
        return sk.sockFlag(flag) ? 1 : 0;
    }
}
