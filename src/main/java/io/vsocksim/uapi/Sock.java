package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * Generic socket numbers the vsock socket layer uses (generic kernel headers: include/linux/net.h,
 * include/linux/socket.h, include/uapi/asm-generic/socket.h, include/net/sock.h).
 */
@Linux(file = "include/linux/net.h", fn = "enum sock_type")
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

    // ---- level SOL_SOCKET options (include/uapi/asm-generic/socket.h, the x86-64 values) -----------
    public static final int SOL_SOCKET = 1;
    public static final int SO_DEBUG = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ERROR = 4;
    public static final int SO_DONTROUTE = 5;
    public static final int SO_BROADCAST = 6;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_OOBINLINE = 10;
    public static final int SO_NO_CHECK = 11;
    public static final int SO_PRIORITY = 12;
    public static final int SO_LINGER = 13;
    public static final int SO_BSDCOMPAT = 14;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_PASSCRED = 16;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVLOWAT = 18;
    public static final int SO_SNDLOWAT = 19;
    /** Old (native long) timeval; the user-space SO_RCVTIMEO on x86-64. */
    public static final int SO_RCVTIMEO_OLD = 20;
    public static final int SO_SNDTIMEO_OLD = 21;
    public static final int SO_RCVTIMEO = SO_RCVTIMEO_OLD;
    public static final int SO_SNDTIMEO = SO_SNDTIMEO_OLD;
    public static final int SO_SECURITY_AUTHENTICATION = 22;
    public static final int SO_SECURITY_ENCRYPTION_TRANSPORT = 23;
    public static final int SO_SECURITY_ENCRYPTION_NETWORK = 24;
    public static final int SO_BINDTODEVICE = 25;
    public static final int SO_ATTACH_FILTER = 26;
    /** The getsockopt name of SO_ATTACH_FILTER's number. */
    public static final int SO_GET_FILTER = SO_ATTACH_FILTER;
    public static final int SO_DETACH_FILTER = 27;
    public static final int SO_DETACH_BPF = SO_DETACH_FILTER;
    public static final int SO_PEERNAME = 28;
    public static final int SO_TIMESTAMP_OLD = 29;
    public static final int SO_ACCEPTCONN = 30;
    public static final int SO_PEERSEC = 31;
    public static final int SO_SNDBUFFORCE = 32;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int SO_PASSSEC = 34;
    public static final int SO_TIMESTAMPNS_OLD = 35;
    public static final int SO_MARK = 36;
    public static final int SO_TIMESTAMPING_OLD = 37;
    public static final int SO_PROTOCOL = 38;
    public static final int SO_DOMAIN = 39;
    public static final int SO_RXQ_OVFL = 40;
    public static final int SO_WIFI_STATUS = 41;
    public static final int SO_PEEK_OFF = 42;
    public static final int SO_NOFCS = 43;
    public static final int SO_LOCK_FILTER = 44;
    public static final int SO_SELECT_ERR_QUEUE = 45;
    public static final int SO_BUSY_POLL = 46;
    public static final int SO_MAX_PACING_RATE = 47;
    public static final int SO_BPF_EXTENSIONS = 48;
    public static final int SO_INCOMING_CPU = 49;
    public static final int SO_ATTACH_BPF = 50;
    public static final int SO_ATTACH_REUSEPORT_CBPF = 51;
    public static final int SO_ATTACH_REUSEPORT_EBPF = 52;
    public static final int SO_CNX_ADVICE = 53;
    public static final int SO_MEMINFO = 55;
    public static final int SO_INCOMING_NAPI_ID = 56;
    public static final int SO_COOKIE = 57;
    public static final int SO_PEERGROUPS = 59;
    public static final int SO_ZEROCOPY = 60;
    public static final int SO_TXTIME = 61;
    public static final int SO_BINDTOIFINDEX = 62;
    public static final int SO_TIMESTAMP_NEW = 63;
    public static final int SO_TIMESTAMPNS_NEW = 64;
    public static final int SO_TIMESTAMPING_NEW = 65;
    public static final int SO_RCVTIMEO_NEW = 66;
    public static final int SO_SNDTIMEO_NEW = 67;
    public static final int SO_DETACH_REUSEPORT_BPF = 68;
    public static final int SO_PREFER_BUSY_POLL = 69;
    public static final int SO_BUSY_POLL_BUDGET = 70;
    public static final int SO_NETNS_COOKIE = 71;
    public static final int SO_BUF_LOCK = 72;
    public static final int SO_RESERVE_MEM = 73;
    public static final int SO_TXREHASH = 74;
    public static final int SO_RCVMARK = 75;
    public static final int SO_PASSPIDFD = 76;
    public static final int SO_PEERPIDFD = 77;
    public static final int SO_DEVMEM_LINEAR = 78;
    public static final int SO_DEVMEM_DMABUF = 79;
    public static final int SO_DEVMEM_DONTNEED = 80;

    // ---- values carried by SOL_SOCKET options (include/uapi/linux/socket.h, net_tstamp.h) ----------
    /** sk_userlocks bit set by SO_SNDBUF (and SO_BUF_LOCK). */
    public static final int SOCK_SNDBUF_LOCK = 1;
    /** sk_userlocks bit set by SO_RCVBUF (and SO_BUF_LOCK). */
    public static final int SOCK_RCVBUF_LOCK = 2;
    /** The sk_userlocks bits SO_BUF_LOCK may set. */
    public static final int SOCK_BUF_LOCK_MASK = SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK;
    /** SO_TXREHASH value -1 as a u8: "use net.core.txrehash". */
    public static final int SOCK_TXREHASH_DEFAULT = 255;
    public static final int SOF_TIMESTAMPING_RX_SOFTWARE = 1 << 3;
    public static final int SOF_TIMESTAMPING_OPT_ID = 1 << 7;
    public static final int SOF_TIMESTAMPING_OPT_TSONLY = 1 << 11;
    public static final int SOF_TIMESTAMPING_OPT_STATS = 1 << 12;
    public static final int SOF_TIMESTAMPING_BIND_PHC = 1 << 15;
    public static final int SOF_TIMESTAMPING_OPT_ID_TCP = 1 << 16;
    /** Every SO_TIMESTAMPING flag 6.12.117 knows (up to SOF_TIMESTAMPING_OPT_RX_FILTER). */
    public static final int SOF_TIMESTAMPING_MASK = (1 << 18) - 1;
    public static final int SOF_TXTIME_DEADLINE_MODE = 1;
    public static final int SOF_TXTIME_REPORT_ERRORS = 2;
    public static final int SOF_TXTIME_FLAGS_MASK = SOF_TXTIME_DEADLINE_MODE | SOF_TXTIME_REPORT_ERRORS;
    /** clockid_t values SO_TXTIME accepts (include/uapi/linux/time.h). */
    public static final int CLOCK_REALTIME = 0;
    public static final int CLOCK_MONOTONIC = 1;
    public static final int CLOCK_TAI = 11;

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
    /** {@code MSG_CMSG_COMPAT}: only the 32-bit entry points may pass it (EINVAL otherwise). */
    public static final int MSG_CMSG_COMPAT = 0x80000000;
    /** {@code MSG_INTERNAL_SENDMSG_FLAGS}: MSG_SPLICE_PAGES, MSG_SENDPAGE_NOPOLICY, MSG_SENDPAGE_DECRYPTED. */
    public static final int MSG_INTERNAL_SENDMSG_FLAGS = 0x8000000 | 0x10000 | 0x100000;

    // ---- sock_extended_err (include/uapi/linux/errqueue.h) ------------------------------------------
    public static final int SO_EE_ORIGIN_ZEROCOPY = 5;
    /** ee_code bit: the kernel copied the data instead of pinning it. */
    public static final int SO_EE_CODE_ZEROCOPY_COPIED = 1;

    private Sock() {
    }
}
