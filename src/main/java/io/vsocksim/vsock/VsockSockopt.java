package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOPROTOOPT;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.ERANGE;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
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
 * AF_VSOCK and SO_ZEROCOPY, and vsock_set_rcvlowat. Every other SOL_SOCKET option goes to the generic
 * code of net/core/sock.c: {@link SockSockopt} (set) and {@link SockGetsockopt} (get).
 *
 * <p>{@code optval} is the user buffer in host (little-endian) byte order; {@code optlen} is what the
 * caller passed, which may differ from the buffer's size, as in C. The buffer is user memory of
 * {@code capacity()} bytes from index 0: null is a NULL pointer, and a copy reaching past the capacity
 * faults (EFAULT) where the kernel's {@code copy_from_sockptr}/{@code copy_to_user} would.
 */
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
        if (optlen < 0) {
            return -EINVAL; // do_sock_setsockopt, before any protocol sees the call
        }
        if (level != AF_VSOCK && level != SOL_SOCKET) {
            return -ENOPROTOOPT;
        }
        ByteBuffer v = userView(optval);
        if (level == SOL_SOCKET && optname != SO_ZEROCOPY) {
            return SockSockopt.setsockopt(sk, optname, v, optlen);
        }
        sk.lockSock();
        try {
            VsockTransport transport = sk.transport;
            if (level == SOL_SOCKET) {
                if (optlen < 4) {
                    return -EINVAL;
                }
                if (!SockSockopt.readable(v, 4)) {
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
                    if (!SockSockopt.readable(v, 8)) {
                        return -EFAULT;
                    }
                    updateBufferSize(sk, transport, v.getLong(0));
                    return 0;
                case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
                    if (optlen < 8) {
                        return -EINVAL;
                    }
                    if (!SockSockopt.readable(v, 8)) {
                        return -EFAULT;
                    }
                    sk.bufferMaxSize = v.getLong(0);
                    updateBufferSize(sk, transport, sk.bufferSize);
                    return 0;
                case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
                    if (optlen < 8) {
                        return -EINVAL;
                    }
                    if (!SockSockopt.readable(v, 8)) {
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
                    if (!SockSockopt.readable(v, TIMEVAL_SIZE)) {
                        return -EFAULT;
                    }
                    long sec = v.getLong(0);
                    long usec = v.getLong(8);
                    // tv_usec is compared signed but divided as an unsigned long, as in the kernel: a
                    // negative tv_usec passes the check and DIV_ROUND_UP wraps (for -1 it gives 0).
                    if (sec >= 0 && usec < USEC_PER_SEC && sec < WaitQueueHead.MAX_SCHEDULE_TIMEOUT / Clock.HZ - 1) {
                        long t = sec * Clock.HZ + SockSockopt.divRoundUp(usec, USEC_PER_SEC / Clock.HZ);
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

    /** Mirrors vsock_set_rcvlowat(); socket lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_set_rcvlowat")
    static int setRcvlowat(VsockSock vsk, int val) {
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

    /**
     * Mirrors vsock_connectible_getsockopt() for level AF_VSOCK and sk_getsockopt() for SOL_SOCKET:
     * writes the value into {@code optval} and returns the written length (the new optlen) or -errno.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_getsockopt")
    public static int getsockopt(VsockSock sk, int level, int optname, ByteBuffer optval, int optlen) {
        ByteBuffer v = userView(optval);
        if (level == SOL_SOCKET) {
            return SockGetsockopt.getsockopt(sk, optname, v, optlen);
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
                lv = SockGetsockopt.sockGetTimeout(sk.connectTimeout, tmp);
                break;
            default:
                return -ENOPROTOOPT;
        }
        return copyOut(tmp, lv, v, optlen);
    }

    /** The tail of vsock_connectible_getsockopt(): shorter than the value is EINVAL, longer is truncated. */
    private static int copyOut(ByteBuffer tmp, int lv, ByteBuffer v, int optlen) {
        if (optlen < lv) {
            return -EINVAL;
        }
        if (!SockSockopt.writable(v, lv)) {
            return -EFAULT;
        }
        v.put(0, tmp, 0, lv);
        return lv;
    }

    /** The option buffer as the kernel reads it (little-endian, from index 0), or null for NULL. */
    private static ByteBuffer userView(ByteBuffer optval) {
        return optval == null ? null : optval.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
}
