package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EDOM;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOPROTOOPT;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.ERANGE;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_DOMAIN;
import static io.vsocksim.uapi.Sock.SO_ERROR;
import static io.vsocksim.uapi.Sock.SO_LINGER;
import static io.vsocksim.uapi.Sock.SO_PROTOCOL;
import static io.vsocksim.uapi.Sock.SO_RCVLOWAT;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO_NEW;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO_OLD;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO_NEW;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO_OLD;
import static io.vsocksim.uapi.Sock.SO_TYPE;
import static io.vsocksim.uapi.Sock.SO_ZEROCOPY;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_MAX_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_MIN_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.WaitQueueHead;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Socket options of connectible vsock sockets: vsock_connectible_setsockopt/getsockopt for level
 * AF_VSOCK and SO_ZEROCOPY, and the subset of the generic SOL_SOCKET handling (net/core/sock.c) that
 * matters to vsock: SO_TYPE, SO_ERROR, SO_RCVLOWAT (through vsock_set_rcvlowat), SO_RCVTIMEO/SNDTIMEO
 * (old and new timeval), SO_LINGER, SO_PROTOCOL, SO_DOMAIN.
 *
 * <p>{@code optval} is the user buffer in host (little-endian) byte order; {@code optlen} is what the
 * caller passed, which may differ from the buffer's size, as in C. The buffer is user memory of
 * {@code capacity()} bytes from index 0: null is a NULL pointer, and a copy reaching past the capacity
 * faults (EFAULT) where the kernel's {@code copy_from_sockptr}/{@code copy_to_user} would.
 */
@Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_setsockopt")
public final class VsockSockopt {
    /** sizeof(struct __kernel_old_timeval) and of struct __kernel_sock_timeval on x86-64. */
    public static final int TIMEVAL_SIZE = 16;
    /** sizeof(struct linger). */
    public static final int LINGER_SIZE = 8;
    private static final long USEC_PER_SEC = 1_000_000L;

    private VsockSockopt() {
    }

    /** Mirrors vsock_connectible_setsockopt() (and sock_setsockopt() for the generic options). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_setsockopt")
    public static int setsockopt(VsockSock sk, int level, int optname, ByteBuffer optval, int optlen) {
        if (level != AF_VSOCK && level != SOL_SOCKET) {
            return -ENOPROTOOPT;
        }
        ByteBuffer v = userView(optval);
        if (level == SOL_SOCKET && optname != SO_ZEROCOPY) {
            return sockSetsockopt(sk, optname, v, optlen);
        }
        sk.lockSock();
        try {
            VsockTransport transport = sk.transport;
            if (level == SOL_SOCKET) {
                if (optlen < 4) {
                    return -EINVAL;
                }
                if (!readable(v, 4)) {
                    return -EFAULT;
                }
                int zerocopy = v.getInt(0);
                if (zerocopy < 0 || zerocopy > 1) {
                    return -EINVAL;
                }
                if (transport != null && !transport.msgzerocopyAllow()) {
                    return -EOPNOTSUPP;
                }
                if (zerocopy == 1) {
                    sk.sockSetFlag(VsockSock.SOCK_ZEROCOPY);
                } else {
                    sk.sockResetFlag(VsockSock.SOCK_ZEROCOPY);
                }
                return 0;
            }
            switch (optname) {
                case SO_VM_SOCKETS_BUFFER_SIZE:
                    if (optlen < 8) {
                        return -EINVAL;
                    }
                    if (!readable(v, 8)) {
                        return -EFAULT;
                    }
                    updateBufferSize(sk, transport, v.getLong(0));
                    return 0;
                case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
                    if (optlen < 8) {
                        return -EINVAL;
                    }
                    if (!readable(v, 8)) {
                        return -EFAULT;
                    }
                    sk.bufferMaxSize = v.getLong(0);
                    updateBufferSize(sk, transport, sk.bufferSize);
                    return 0;
                case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
                    if (optlen < 8) {
                        return -EINVAL;
                    }
                    if (!readable(v, 8)) {
                        return -EFAULT;
                    }
                    sk.bufferMinSize = v.getLong(0);
                    updateBufferSize(sk, transport, sk.bufferSize);
                    return 0;
                case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW:
                case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD: {
                    if (optlen < TIMEVAL_SIZE) {
                        return -EINVAL;
                    }
                    if (!readable(v, TIMEVAL_SIZE)) {
                        return -EFAULT;
                    }
                    long sec = v.getLong(0);
                    long usec = v.getLong(8);
                    // tv_usec is compared signed but divided as an unsigned long, as in the kernel: a
                    // negative tv_usec passes the check and DIV_ROUND_UP wraps (for -1 it gives 0).
                    if (sec >= 0 && usec < USEC_PER_SEC && sec < WaitQueueHead.MAX_SCHEDULE_TIMEOUT / Clock.HZ - 1) {
                        long t = sec * Clock.HZ + divRoundUp(usec, USEC_PER_SEC / Clock.HZ);
                        sk.connectTimeout = t == 0 ? VsockCore.VSOCK_DEFAULT_CONNECT_TIMEOUT : t;
                        return 0;
                    }
                    return -ERANGE;
                }
                default:
                    return -ENOPROTOOPT;
            }
        } finally {
            sk.releaseSock();
        }
    }

    /** Mirrors vsock_update_buffer_size(): raise to MIN, lower to MAX, tell the transport. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_update_buffer_size")
    private static void updateBufferSize(VsockSock vsk, VsockTransport transport, long val) {
        if (Long.compareUnsigned(val, vsk.bufferMinSize) < 0) {
            val = vsk.bufferMinSize;
        }
        if (Long.compareUnsigned(val, vsk.bufferMaxSize) > 0) {
            val = vsk.bufferMaxSize;
        }
        if (val != vsk.bufferSize && transport != null) {
            val = transport.notifyBufferSize(vsk, val);
        }
        vsk.bufferSize = val;
    }

    /** The generic SOL_SOCKET setters vsock sockets reach (sock_setsockopt). */
    @Linux(file = "net/core/sock.c", fn = "sk_setsockopt")
    private static int sockSetsockopt(VsockSock sk, int optname, ByteBuffer v, int optlen) {
        // Every option first reads an int, whatever its real size.
        if (optlen < 4) {
            return -EINVAL;
        }
        if (!readable(v, 4)) {
            return -EFAULT;
        }
        switch (optname) {
            case SO_RCVTIMEO_OLD:
            case SO_RCVTIMEO_NEW:
            case SO_SNDTIMEO_OLD:
            case SO_SNDTIMEO_NEW: {
                long[] out = new long[1];
                int rc = sockSetTimeout(v, optlen, out);
                if (rc == 0) {
                    if (optname == SO_RCVTIMEO_OLD || optname == SO_RCVTIMEO_NEW) {
                        sk.rcvtimeo = out[0];
                    } else {
                        sk.sndtimeo = out[0];
                    }
                }
                return rc;
            }
            case SO_LINGER: {
                if (optlen < LINGER_SIZE) {
                    return -EINVAL;
                }
                if (!readable(v, LINGER_SIZE)) {
                    return -EFAULT;
                }
                int onoff = v.getInt(0);
                int linger = v.getInt(4);
                sk.lockSock();
                try {
                    if (onoff == 0) {
                        sk.sockResetFlag(VsockSock.SOCK_LINGER);
                    } else {
                        sk.lingertime = Integer.toUnsignedLong(linger) * Clock.HZ;
                        sk.sockSetFlag(VsockSock.SOCK_LINGER);
                    }
                } finally {
                    sk.releaseSock();
                }
                return 0;
            }
            case SO_RCVLOWAT: {
                int val = v.getInt(0);
                if (val < 0) {
                    val = Integer.MAX_VALUE;
                }
                sk.lockSock();
                try {
                    if (sk.type == SOCK_STREAM) {
                        return setRcvlowat(sk, val);
                    }
                    sk.rcvlowat = val == 0 ? 1 : val;
                    return 0;
                } finally {
                    sk.releaseSock();
                }
            }
            default:
                // SIM: other generic options (SO_SNDBUF, SO_KEEPALIVE, ...) are accepted and ignored;
                // none of them affects vsock.
                return 0;
        }
    }

    /** Mirrors vsock_set_rcvlowat(); socket lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_set_rcvlowat")
    private static int setRcvlowat(VsockSock vsk, int val) {
        if (val > vsk.bufferSize) {
            return -EINVAL;
        }
        VsockTransport transport = vsk.transport;
        if (transport != null) {
            int err = transport.notifySetRcvlowat(vsk, val);
            if (err != 0) {
                return err;
            }
        }
        vsk.rcvlowat = val == 0 ? 1 : val;
        return 0;
    }

    /** Mirrors sock_set_timeout(): a timeval to jiffies, rounding microseconds up. */
    @Linux(file = "net/core/sock.c", fn = "sock_set_timeout")
    private static int sockSetTimeout(ByteBuffer v, int optlen, long[] out) {
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
            out[0] = 0;
            return 0;
        }
        long val = WaitQueueHead.MAX_SCHEDULE_TIMEOUT;
        if ((sec != 0 || usec != 0) && sec < WaitQueueHead.MAX_SCHEDULE_TIMEOUT / Clock.HZ - 1) {
            val = sec * Clock.HZ + divRoundUp(usec, USEC_PER_SEC / Clock.HZ);
        }
        out[0] = val;
        return 0;
    }

    /**
     * Mirrors vsock_connectible_getsockopt() for level AF_VSOCK and sk_getsockopt() for SOL_SOCKET:
     * writes the value into {@code optval} and returns the written length (the new optlen) or -errno.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_getsockopt")
    public static int getsockopt(VsockSock sk, int level, int optname, ByteBuffer optval, int optlen) {
        ByteBuffer v = userView(optval);
        if (level == SOL_SOCKET) {
            return sockGetsockopt(sk, optname, v, optlen);
        }
        if (level != AF_VSOCK) {
            return -ENOPROTOOPT;
        }
        ByteBuffer tmp = ByteBuffer.allocate(TIMEVAL_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int lv = 8;
        switch (optname) {
            case SO_VM_SOCKETS_BUFFER_SIZE:
                tmp.putLong(0, sk.bufferSize);
                break;
            case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
                tmp.putLong(0, sk.bufferMaxSize);
                break;
            case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
                tmp.putLong(0, sk.bufferMinSize);
                break;
            case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW:
            case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
                lv = sockGetTimeout(sk.connectTimeout, tmp);
                break;
            default:
                return -ENOPROTOOPT;
        }
        return copyOut(tmp, lv, v, optlen);
    }

    /**
     * The generic SOL_SOCKET getters (sk_getsockopt subset): the value is cut to {@code min(optlen, lv)}
     * bytes and that is the returned optlen; only a negative optlen is EINVAL.
     */
    @Linux(file = "net/core/sock.c", fn = "sk_getsockopt")
    private static int sockGetsockopt(VsockSock sk, int optname, ByteBuffer v, int optlen) {
        if (optlen < 0) {
            return -EINVAL;
        }
        ByteBuffer tmp = ByteBuffer.allocate(TIMEVAL_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int lv = 4;
        switch (optname) {
            case SO_TYPE:
                tmp.putInt(0, sk.type);
                break;
            case SO_ERROR:
                tmp.putInt(0, -AfVsock.sockError(sk));
                break;
            case SO_RCVLOWAT:
                tmp.putInt(0, sk.rcvlowat);
                break;
            case SO_PROTOCOL:
                tmp.putInt(0, 0);
                break;
            case SO_DOMAIN:
                tmp.putInt(0, AF_VSOCK);
                break;
            case SO_ZEROCOPY:
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_ZEROCOPY) ? 1 : 0);
                break;
            case SO_LINGER:
                lv = LINGER_SIZE;
                tmp.putInt(0, sk.sockFlag(VsockSock.SOCK_LINGER) ? 1 : 0);
                tmp.putInt(4, (int) (sk.lingertime / Clock.HZ));
                break;
            case SO_RCVTIMEO_OLD:
            case SO_RCVTIMEO_NEW:
                lv = sockGetTimeout(sk.rcvtimeo, tmp);
                break;
            case SO_SNDTIMEO_OLD:
            case SO_SNDTIMEO_NEW:
                lv = sockGetTimeout(sk.sndtimeo, tmp);
                break;
            default:
                return -ENOPROTOOPT;
        }
        // Every generic option truncates a short buffer to its first optlen bytes and reports that
        // length, structs (SO_LINGER, the timevals) included; only the AF_VSOCK level refuses one.
        int len = Math.min(optlen, lv);
        if (len > 0 && !writable(v, len)) {
            return -EFAULT;
        }
        if (len > 0) {
            v.put(0, tmp, 0, len);
        }
        return len;
    }

    /** Mirrors sock_get_timeout(): jiffies to a 16-byte timeval; infinite is 0. */
    @Linux(file = "net/core/sock.c", fn = "sock_get_timeout")
    private static int sockGetTimeout(long timeo, ByteBuffer tmp) {
        long sec = 0;
        long usec = 0;
        if (timeo != WaitQueueHead.MAX_SCHEDULE_TIMEOUT) {
            sec = timeo / Clock.HZ;
            usec = ((timeo % Clock.HZ) * USEC_PER_SEC) / Clock.HZ;
        }
        tmp.putLong(0, sec);
        tmp.putLong(8, usec);
        return TIMEVAL_SIZE;
    }

    /** The tail of vsock_connectible_getsockopt(): shorter than the value is EINVAL, longer is truncated. */
    private static int copyOut(ByteBuffer tmp, int lv, ByteBuffer v, int optlen) {
        if (optlen < lv) {
            return -EINVAL;
        }
        if (!writable(v, lv)) {
            return -EFAULT;
        }
        v.put(0, tmp, 0, lv);
        return lv;
    }

    /** The option buffer as the kernel reads it (little-endian, from index 0), or null for NULL. */
    private static ByteBuffer userView(ByteBuffer optval) {
        return optval == null ? null : optval.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Whether {@code copy_from_sockptr} of {@code n} bytes succeeds: a mapped buffer that long. */
    private static boolean readable(ByteBuffer v, int n) {
        return v != null && v.capacity() >= n;
    }

    /** Whether {@code copy_to_user} of {@code n} bytes succeeds: a writable buffer that long. */
    private static boolean writable(ByteBuffer v, int n) {
        return readable(v, n) && !v.isReadOnly();
    }

    /** DIV_ROUND_UP on unsigned longs, wrapping like C. */
    private static long divRoundUp(long n, long d) {
        return Long.divideUnsigned(n + d - 1, d);
    }
}
