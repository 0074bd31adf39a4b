package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * Generic socket numbers the vsock socket layer uses (generic kernel headers: include/linux/net.h,
 * include/linux/socket.h, include/uapi/asm-generic/socket.h, include/net/sock.h).
 */
@Linux(file = "include/linux/socket.h", fn = "socket")
public final class Sock {
    // ---- socket types (include/linux/net.h: enum sock_type) -----------------------------------------
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_SEQPACKET = 5;
    /** socket(2) type flag (O_NONBLOCK). */
    public static final int SOCK_NONBLOCK = 0x800;
    /** socket(2) type flag (O_CLOEXEC). */
    public static final int SOCK_CLOEXEC = 0x80000;

    // ---- shutdown(2) how (include/linux/net.h) and sk_shutdown bits (include/net/sock.h) ------------
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    /** sk_shutdown / peer_shutdown bit: no more receiving. */
    public static final int RCV_SHUTDOWN = 1;
    /** sk_shutdown / peer_shutdown bit: no more sending. */
    public static final int SEND_SHUTDOWN = 2;
    public static final int SHUTDOWN_MASK = 3;

    // ---- level SOL_SOCKET options (include/uapi/asm-generic/socket.h) ------------------------------
    public static final int SOL_SOCKET = 1;
    public static final int SO_DEBUG = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_LINGER = 13;
    public static final int SO_RCVLOWAT = 18;
    public static final int SO_SNDLOWAT = 19;
    /** Old (native long) timeval; the user-space SO_RCVTIMEO on x86-64. */
    public static final int SO_RCVTIMEO_OLD = 20;
    public static final int SO_SNDTIMEO_OLD = 21;
    public static final int SO_RCVTIMEO = SO_RCVTIMEO_OLD;
    public static final int SO_SNDTIMEO = SO_SNDTIMEO_OLD;
    public static final int SO_PROTOCOL = 38;
    public static final int SO_DOMAIN = 39;
    public static final int SO_ZEROCOPY = 60;
    public static final int SO_RCVTIMEO_NEW = 66;
    public static final int SO_SNDTIMEO_NEW = 67;

    // ---- ioctls (include/uapi/asm-generic/ioctls.h, linux/sockios.h) ------------------------------
    /** TIOCOUTQ: unsent bytes; the only socket ioctl vsock answers in 6.12.117. */
    public static final int SIOCOUTQ = 0x5411;
    /** FIONREAD: queued bytes; 6.12.117 vsock answers ENOTTY (added in later kernels). */
    public static final int SIOCINQ = 0x541B;

    // ---- MSG_* flags (include/linux/socket.h) -------------------------------------------------------
    public static final int MSG_OOB = 0x1;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_DONTROUTE = 0x4;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_EOR = 0x80;
    public static final int MSG_WAITALL = 0x100;
    public static final int MSG_ERRQUEUE = 0x2000;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_MORE = 0x8000;
    public static final int MSG_ZEROCOPY = 0x4000000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;

    // ---- sock_extended_err (include/uapi/linux/errqueue.h) ------------------------------------------
    public static final int SO_EE_ORIGIN_ZEROCOPY = 5;
    /** ee_code bit: the kernel copied the data instead of pinning it. */
    public static final int SO_EE_CODE_ZEROCOPY_COPIED = 1;

    private Sock() {
    }
}
