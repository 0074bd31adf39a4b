package io.vsocksim.vsock;

import static io.vsocksim.testing.Errnos.errnoOf;
import static io.vsocksim.uapi.Errno.EACCES;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EDOM;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENODATA;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOENT;
import static io.vsocksim.uapi.Errno.ENOPROTOOPT;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.ENXIO;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Capability;
import io.vsocksim.uapi.Errno;
import io.vsocksim.testing.LeakCheck;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every SOL_SOCKET option of net/core/sock.c (6.12.117) on an AF_VSOCK stream socket, both directions.
 * A row runs on a fresh socket of a process with capability set {@code caps}: an optional setsockopt
 * (bytes, optlen, expected errno or 0), then an optional getsockopt (optlen, expected errno, or the bytes
 * and optlen read back). {@code fn} names the kernel function that decides the outcome.
 */
class SolSocketOptionTableTest {
    private static final long ROOT = Capability.ALL;
    private static final long USER = Capability.NONE;
    private static final int NO_GET = Integer.MIN_VALUE;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext ctx;

    @BeforeEach
    void setUp() {
        ctx = LoopbackTestContext.threaded("m", leaks);
    }

    @AfterEach
    void tearDown() {
        ctx.close();
    }

    /** One option case; {@code set} null means no setsockopt, {@code getOptlen} {@link #NO_GET} no getsockopt. */
    record Row(String name, long caps, int opt, byte[] set, int setOptlen, int setErrno,
               int getOptlen, int getErrno, byte[] got, String fn) {
        @Override
        public String toString() {
            return name + " [" + fn + "]";
        }
    }

    static byte[] i32(int... vs) {
        ByteBuffer b = ByteBuffer.allocate(4 * vs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : vs) {
            b.putInt(v);
        }
        return b.array();
    }

    static byte[] i64(long... vs) {
        ByteBuffer b = ByteBuffer.allocate(8 * vs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : vs) {
            b.putLong(v);
        }
        return b.array();
    }

    /** getsockopt of a fresh socket with optlen 4 reads {@code v}. */
    static Row dflt(String n, int opt, int v) {
        return new Row(n + " default " + v, ROOT, opt, null, 0, 0, 4, 0, i32(v), "sk_getsockopt");
    }

    /** set an int as root (success), then read {@code back} with optlen 4. */
    static Row setGet(String n, int opt, int val, int back, String fn) {
        return new Row(n + "=" + val + " reads " + back, ROOT, opt, i32(val), 4, 0, 4, 0, i32(back), fn);
    }

    /** set an int with {@code caps}; expect {@code errno}; no read. */
    static Row setErr(String n, long caps, int opt, int val, int errno, String fn) {
        return new Row(n + "=" + val + (caps == USER ? " unprivileged" : "") + " → " + Errno.name(errno),
                caps, opt, i32(val), 4, errno, NO_GET, 0, null, fn);
    }

    /** set raw bytes with an optlen; expect {@code errno}. */
    static Row setRaw(String n, int opt, byte[] b, int optlen, int errno, String fn) {
        return new Row(n + " optlen=" + optlen + " → " + (errno == 0 ? "0" : Errno.name(errno)),
                ROOT, opt, b, optlen, errno, NO_GET, 0, null, fn);
    }

    /** getsockopt of a fresh socket with {@code optlen}: errno. */
    static Row getErr(String n, int opt, int optlen, int errno, String fn) {
        return new Row("get " + n + " optlen=" + optlen + " → " + Errno.name(errno), ROOT, opt, null, 0, 0,
                optlen, errno, null, fn);
    }

    /** getsockopt of a fresh socket with {@code optlen}: bytes (their length is the returned optlen). */
    static Row getRaw(String n, int opt, int optlen, byte[] got, String fn) {
        return new Row("get " + n + " optlen=" + optlen, ROOT, opt, null, 0, 0, optlen, 0, got, fn);
    }

    static List<Row> rows() {
        List<Row> r = new ArrayList<>();
        // ---- defaults: sock_init_data() and the read-only options ----
        r.add(dflt("SO_DEBUG", SO_DEBUG, 0));
        r.add(dflt("SO_REUSEADDR", SO_REUSEADDR, 0));
        r.add(dflt("SO_TYPE", SO_TYPE, SOCK_STREAM));
        r.add(dflt("SO_ERROR", SO_ERROR, 0));
        r.add(dflt("SO_DONTROUTE", SO_DONTROUTE, 0));
        r.add(dflt("SO_BROADCAST", SO_BROADCAST, 0));
        r.add(dflt("SO_SNDBUF", SO_SNDBUF, 212_992));
        r.add(dflt("SO_RCVBUF", SO_RCVBUF, 212_992));
        r.add(dflt("SO_KEEPALIVE", SO_KEEPALIVE, 0));
        r.add(dflt("SO_OOBINLINE", SO_OOBINLINE, 0));
        r.add(dflt("SO_NO_CHECK", SO_NO_CHECK, 0));
        r.add(dflt("SO_PRIORITY", SO_PRIORITY, 0));
        r.add(dflt("SO_BSDCOMPAT", SO_BSDCOMPAT, 0));
        r.add(dflt("SO_REUSEPORT", SO_REUSEPORT, 0));
        r.add(dflt("SO_PASSCRED", SO_PASSCRED, 0));
        r.add(dflt("SO_RCVLOWAT", SO_RCVLOWAT, 1));
        r.add(dflt("SO_SNDLOWAT", SO_SNDLOWAT, 1));
        r.add(dflt("SO_TIMESTAMP_OLD", SO_TIMESTAMP_OLD, 0));
        r.add(dflt("SO_ACCEPTCONN", SO_ACCEPTCONN, 0));
        r.add(dflt("SO_PASSSEC", SO_PASSSEC, 0));
        r.add(dflt("SO_MARK", SO_MARK, 0));
        r.add(dflt("SO_PROTOCOL", SO_PROTOCOL, 0));
        r.add(dflt("SO_DOMAIN", SO_DOMAIN, AF_VSOCK));
        r.add(dflt("SO_RXQ_OVFL", SO_RXQ_OVFL, 0));
        r.add(dflt("SO_WIFI_STATUS", SO_WIFI_STATUS, 0));
        r.add(dflt("SO_NOFCS", SO_NOFCS, 0));
        r.add(dflt("SO_LOCK_FILTER", SO_LOCK_FILTER, 0));
        r.add(dflt("SO_SELECT_ERR_QUEUE", SO_SELECT_ERR_QUEUE, 0));
        r.add(dflt("SO_BUSY_POLL", SO_BUSY_POLL, 0));
        r.add(dflt("SO_MAX_PACING_RATE (u32)", SO_MAX_PACING_RATE, -1));
        r.add(dflt("SO_BPF_EXTENSIONS", SO_BPF_EXTENSIONS, 64));
        r.add(dflt("SO_INCOMING_CPU", SO_INCOMING_CPU, -1));
        r.add(dflt("SO_INCOMING_NAPI_ID", SO_INCOMING_NAPI_ID, 0));
        r.add(dflt("SO_ZEROCOPY", SO_ZEROCOPY, 0));
        r.add(dflt("SO_BINDTOIFINDEX", SO_BINDTOIFINDEX, 0));
        r.add(dflt("SO_PREFER_BUSY_POLL", SO_PREFER_BUSY_POLL, 0));
        r.add(dflt("SO_BUF_LOCK", SO_BUF_LOCK, 0));
        r.add(dflt("SO_RESERVE_MEM", SO_RESERVE_MEM, 0));
        r.add(dflt("SO_TXREHASH", SO_TXREHASH, 0));
        r.add(dflt("SO_RCVMARK", SO_RCVMARK, 0));
        r.add(dflt("SO_PASSPIDFD", SO_PASSPIDFD, 0));
        r.add(getRaw("SO_MAX_PACING_RATE (u64)", SO_MAX_PACING_RATE, 8, i64(-1L), "sk_getsockopt"));
        r.add(getRaw("SO_TIMESTAMPING_OLD", SO_TIMESTAMPING_OLD, 16, i32(0, 0), "sk_getsockopt"));
        r.add(getRaw("SO_TXTIME", SO_TXTIME, 16, i32(0, 0), "sk_getsockopt"));
        r.add(getRaw("SO_PEERCRED (no peer credentials)", SO_PEERCRED, 16, i32(0, -1, -1), "cred_to_ucred"));
        r.add(getRaw("SO_PEERCRED cut", SO_PEERCRED, 6, Arrays.copyOf(i32(0, -1), 6), "sk_getsockopt"));
        r.add(getRaw("SO_MEMINFO", SO_MEMINFO, 64, i32(0, 212_992, 0, 212_992, 0, 0, 0, 0, 0), "sk_get_meminfo"));
        r.add(getRaw("SO_MEMINFO cut", SO_MEMINFO, 8, i32(0, 212_992), "sk_getsockopt"));
        r.add(getRaw("SO_BINDTODEVICE unbound", SO_BINDTODEVICE, 16, new byte[0], "sock_getbindtodevice"));
        r.add(getRaw("SO_GET_FILTER none", SO_GET_FILTER, 64, new byte[0], "sk_get_filter"));
        r.add(getRaw("SO_NETNS_COOKIE", SO_NETNS_COOKIE, 8, i64(1), "sk_getsockopt"));
        r.add(getRaw("SO_TYPE cut", SO_TYPE, 1, new byte[] {SOCK_STREAM}, "sk_getsockopt"));
        r.add(getErr("SO_PEERNAME unconnected", SO_PEERNAME, 16, ENOTCONN, "vsock_getname"));
        r.add(getErr("SO_PEERSEC", SO_PEERSEC, 64, ENOPROTOOPT, "security_socket_getpeersec_stream"));
        r.add(getErr("SO_PEERPIDFD", SO_PEERPIDFD, 4, ENODATA, "sk_getsockopt"));
        r.add(getErr("SO_PEERGROUPS", SO_PEERGROUPS, 64, ENODATA, "sk_getsockopt"));
        r.add(getErr("SO_PEEK_OFF", SO_PEEK_OFF, 4, EOPNOTSUPP, "sk_getsockopt"));
        r.add(getErr("SO_COOKIE short", SO_COOKIE, 7, EINVAL, "sk_getsockopt"));
        r.add(getErr("SO_NETNS_COOKIE long", SO_NETNS_COOKIE, 16, EINVAL, "sk_getsockopt"));
        r.add(getErr("SO_SNDBUFFORCE", SO_SNDBUFFORCE, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_RCVBUFFORCE", SO_RCVBUFFORCE, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_BUSY_POLL_BUDGET", SO_BUSY_POLL_BUDGET, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_CNX_ADVICE", SO_CNX_ADVICE, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_DETACH_FILTER", SO_DETACH_FILTER, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_SECURITY_AUTHENTICATION", SO_SECURITY_AUTHENTICATION, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("unknown 999", 999, 4, ENOPROTOOPT, "sk_getsockopt"));
        r.add(getErr("SO_DEBUG negative optlen", SO_DEBUG, -1, EINVAL, "sk_getsockopt"));

        // ---- booleans: any non-zero is stored as 1 (valbool) ----
        int[] bools = {SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK, SO_PASSCRED,
            SO_PASSSEC, SO_PASSPIDFD, SO_REUSEADDR, SO_RXQ_OVFL, SO_WIFI_STATUS, SO_NOFCS, SO_SELECT_ERR_QUEUE,
            SO_RCVMARK, SO_LOCK_FILTER, SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW,
            SO_TIMESTAMPNS_NEW, SO_DEBUG, SO_PREFER_BUSY_POLL};
        for (int o : bools) {
            r.add(setGet("bool " + o, o, 7, 1, "sk_setsockopt (valbool)"));
            r.add(setGet("bool " + o, o, 0, 0, "sk_setsockopt (valbool)"));
        }
        // ---- buffers: min with the sysctl (as u32), doubled, floored ----
        r.add(setGet("SO_SNDBUF", SO_SNDBUF, 10_000, 20_000, "sk_setsockopt"));
        r.add(setGet("SO_SNDBUF", SO_SNDBUF, 1_000_000, 425_984, "sk_setsockopt (wmem_max)"));
        r.add(setGet("SO_SNDBUF", SO_SNDBUF, 0, 4608, "sk_setsockopt (SOCK_MIN_SNDBUF)"));
        r.add(setGet("SO_SNDBUF", SO_SNDBUF, -1, 425_984, "sk_setsockopt (u32 min)"));
        r.add(setGet("SO_RCVBUF", SO_RCVBUF, 10_000, 20_000, "__sock_set_rcvbuf"));
        r.add(setGet("SO_RCVBUF", SO_RCVBUF, 1_000_000, 425_984, "__sock_set_rcvbuf (rmem_max)"));
        r.add(setGet("SO_RCVBUF", SO_RCVBUF, 1, 2304, "__sock_set_rcvbuf (SOCK_MIN_RCVBUF)"));
        r.add(new Row("SO_SNDBUFFORCE=1000000 ignores wmem_max", ROOT, SO_SNDBUFFORCE, i32(1_000_000), 4, 0, NO_GET, 0,
                null, "sk_setsockopt"));
        r.add(setErr("SO_SNDBUFFORCE", USER, SO_SNDBUFFORCE, 1, EPERM, "sk_setsockopt"));
        r.add(setErr("SO_RCVBUFFORCE", USER, SO_RCVBUFFORCE, 1, EPERM, "sk_setsockopt"));
        // ---- values and their rules ----
        r.add(setGet("SO_PRIORITY", SO_PRIORITY, 6, 6, "sk_setsockopt"));
        r.add(setGet("SO_PRIORITY", SO_PRIORITY, 7, 7, "sk_setsockopt (CAP_NET_ADMIN)"));
        r.add(setGet("SO_PRIORITY", SO_PRIORITY, -3, -3, "sk_setsockopt (CAP_NET_ADMIN)"));
        r.add(setErr("SO_PRIORITY", USER, SO_PRIORITY, 7, EPERM, "sk_setsockopt"));
        r.add(new Row("SO_PRIORITY=6 unprivileged", USER, SO_PRIORITY, i32(6), 4, 0, 4, 0, i32(6), "sk_setsockopt"));
        r.add(new Row("SO_PRIORITY=9 with CAP_NET_RAW", Capability.of(Capability.CAP_NET_RAW), SO_PRIORITY,
                i32(9), 4, 0, 4, 0, i32(9), "sk_setsockopt"));
        r.add(setGet("SO_MARK", SO_MARK, 0x1234, 0x1234, "__sock_set_mark"));
        r.add(setErr("SO_MARK", USER, SO_MARK, 1, EPERM, "sk_setsockopt"));
        r.add(setErr("SO_DEBUG", USER, SO_DEBUG, 1, EACCES, "sk_setsockopt"));
        r.add(new Row("SO_DEBUG=0 unprivileged", USER, SO_DEBUG, i32(0), 4, 0, 4, 0, i32(0), "sk_setsockopt"));
        r.add(setErr("SO_PREFER_BUSY_POLL", USER, SO_PREFER_BUSY_POLL, 1, EPERM, "sk_setsockopt"));
        r.add(setGet("SO_REUSEPORT", SO_REUSEPORT, 0, 0, "sk_setsockopt"));
        r.add(setErr("SO_REUSEPORT", ROOT, SO_REUSEPORT, 1, EOPNOTSUPP, "sk_setsockopt (!sk_is_inet)"));
        r.add(setGet("SO_BUSY_POLL", SO_BUSY_POLL, 50, 50, "sk_setsockopt"));
        r.add(setErr("SO_BUSY_POLL", ROOT, SO_BUSY_POLL, -1, EINVAL, "sk_setsockopt"));
        r.add(setErr("SO_BUSY_POLL_BUDGET", ROOT, SO_BUSY_POLL_BUDGET, 8, 0, "sk_setsockopt"));
        r.add(setErr("SO_BUSY_POLL_BUDGET", ROOT, SO_BUSY_POLL_BUDGET, 65_536, EINVAL, "sk_setsockopt"));
        r.add(setErr("SO_BUSY_POLL_BUDGET", USER, SO_BUSY_POLL_BUDGET, 8, EPERM, "sk_setsockopt"));
        r.add(setErr("SO_BUSY_POLL_BUDGET", USER, SO_BUSY_POLL_BUDGET, -1, EINVAL, "sk_setsockopt"));
        r.add(setGet("SO_MAX_PACING_RATE", SO_MAX_PACING_RATE, 1000, 1000, "sk_setsockopt"));
        r.add(setGet("SO_TXREHASH", SO_TXREHASH, -1, 1, "sk_setsockopt (net.core.txrehash)"));
        r.add(setGet("SO_TXREHASH", SO_TXREHASH, 0, 0, "sk_setsockopt"));
        r.add(setErr("SO_TXREHASH", ROOT, SO_TXREHASH, 2, EINVAL, "sk_setsockopt"));
        r.add(setGet("SO_INCOMING_CPU", SO_INCOMING_CPU, 3, 3, "reuseport_update_incoming_cpu"));
        r.add(setGet("SO_BINDTOIFINDEX", SO_BINDTOIFINDEX, 1, 1, "sock_bindtoindex_locked"));
        r.add(setErr("SO_BINDTOIFINDEX", ROOT, SO_BINDTOIFINDEX, -1, EINVAL, "sock_bindtoindex_locked"));
        r.add(setGet("SO_BUF_LOCK", SO_BUF_LOCK, 3, 3, "sk_setsockopt"));
        r.add(setErr("SO_BUF_LOCK", ROOT, SO_BUF_LOCK, 4, EINVAL, "sk_setsockopt"));
        r.add(setErr("SO_RESERVE_MEM", ROOT, SO_RESERVE_MEM, 4096, EOPNOTSUPP, "sock_reserve_memory"));
        r.add(setErr("SO_RESERVE_MEM", ROOT, SO_RESERVE_MEM, 0, EOPNOTSUPP, "sock_reserve_memory"));
        r.add(setErr("SO_RESERVE_MEM", ROOT, SO_RESERVE_MEM, -1, EINVAL, "sk_setsockopt"));
        r.add(setErr("SO_PEEK_OFF", ROOT, SO_PEEK_OFF, 0, EOPNOTSUPP, "sk_setsockopt (no set_peek_off)"));
        r.add(setErr("SO_DEVMEM_DONTNEED", ROOT, SO_DEVMEM_DONTNEED, 0, EBADF, "sock_devmem_dontneed"));
        r.add(setErr("SO_BSDCOMPAT", ROOT, SO_BSDCOMPAT, 1, 0, "sk_setsockopt"));
        r.add(setErr("SO_CNX_ADVICE", ROOT, SO_CNX_ADVICE, 1, 0, "sk_setsockopt"));
        r.add(setErr("SO_DETACH_FILTER", ROOT, SO_DETACH_FILTER, 0, ENOENT, "sk_detach_filter"));
        r.add(setErr("SO_DETACH_REUSEPORT_BPF", ROOT, SO_DETACH_REUSEPORT_BPF, 0, EINVAL, "reuseport_detach_prog"));
        r.add(setErr("SO_ATTACH_BPF", ROOT, SO_ATTACH_BPF, 3, EBADF, "sk_attach_bpf (SIM: no fd table)"));
        r.add(setErr("SO_ATTACH_REUSEPORT_EBPF", ROOT, SO_ATTACH_REUSEPORT_EBPF, 3, EBADF, "sk_reuseport_attach_bpf"));
        // ---- read-only and unknown names at setsockopt ----
        int[] readOnly = {SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ERROR, SO_SNDLOWAT, SO_PEERCRED, SO_ACCEPTCONN,
            SO_PEERNAME, SO_PEERSEC, SO_COOKIE, SO_MEMINFO, SO_BPF_EXTENSIONS, SO_INCOMING_NAPI_ID,
            SO_PEERGROUPS, SO_NETNS_COOKIE, SO_PEERPIDFD, SO_SECURITY_AUTHENTICATION, 999};
        for (int o : readOnly) {
            r.add(setErr("read-only " + o, ROOT, o, 1, ENOPROTOOPT, "sk_setsockopt"));
        }
        // ---- length and copy rules ----
        r.add(setRaw("SO_KEEPALIVE", SO_KEEPALIVE, i32(1), 3, EINVAL, "sk_setsockopt (optlen < sizeof(int))"));
        r.add(setRaw("SO_TYPE", SO_TYPE, i32(1), 2, EINVAL, "sk_setsockopt (length before name)"));
        r.add(setRaw("SO_KEEPALIVE NULL", SO_KEEPALIVE, null, 4, EFAULT, "copy_from_sockptr"));
        r.add(setRaw("SO_KEEPALIVE", SO_KEEPALIVE, i32(1), -1, EINVAL, "do_sock_setsockopt"));
        r.add(setRaw("SO_TIMESTAMPING {RX_SOFTWARE, 0}", SO_TIMESTAMPING_OLD, i32(SOF_TIMESTAMPING_RX_SOFTWARE, 0), 8, 0,
                "sock_set_timestamping"));
        r.add(setRaw("SO_TIMESTAMPING bad flag", SO_TIMESTAMPING_OLD, i32(1 << 18), 4, EINVAL, "sock_set_timestamping"));
        r.add(setRaw("SO_TIMESTAMPING OPT_ID_TCP alone", SO_TIMESTAMPING_OLD, i32(SOF_TIMESTAMPING_OPT_ID_TCP), 4,
                EINVAL, "sock_set_timestamping"));
        r.add(setRaw("SO_TIMESTAMPING OPT_STATS alone", SO_TIMESTAMPING_OLD, i32(SOF_TIMESTAMPING_OPT_STATS), 4,
                EINVAL, "sock_set_timestamping"));
        r.add(setRaw("SO_TIMESTAMPING BIND_PHC unbound", SO_TIMESTAMPING_NEW, i32(SOF_TIMESTAMPING_BIND_PHC, 0), 8,
                EOPNOTSUPP, "sock_timestamping_bind_phc"));
        r.add(setRaw("SO_TXTIME {MONOTONIC, DEADLINE}", SO_TXTIME, i32(CLOCK_MONOTONIC, 1), 8, 0, "sk_setsockopt"));
        r.add(setRaw("SO_TXTIME short", SO_TXTIME, i32(CLOCK_MONOTONIC, 0), 4, EINVAL, "sk_setsockopt"));
        r.add(setRaw("SO_TXTIME bad flags", SO_TXTIME, i32(CLOCK_MONOTONIC, 4), 8, EINVAL, "sk_setsockopt"));
        r.add(setRaw("SO_TXTIME clock 5", SO_TXTIME, i32(5, 0), 8, EINVAL, "sockopt_validate_clockid"));
        r.add(new Row("SO_TXTIME TAI unprivileged → EPERM", USER, SO_TXTIME, i32(CLOCK_TAI, 0), 8, EPERM, NO_GET, 0,
                null, "sk_setsockopt"));
        r.add(setRaw("SO_MAX_PACING_RATE u64", SO_MAX_PACING_RATE, i64(1L << 40), 8, 0, "sk_setsockopt"));
        r.add(setRaw("SO_LINGER short", SO_LINGER, i32(1, 1), 7, EINVAL, "sk_setsockopt"));
        r.add(setRaw("SO_RCVTIMEO usec 1e6", SO_RCVTIMEO_OLD, i64(1, 1_000_000), 16, EDOM, "sock_set_timeout"));
        r.add(setRaw("SO_ATTACH_FILTER optlen 8", SO_ATTACH_FILTER, new byte[16], 8, EINVAL, "copy_bpf_fprog_from_user"));
        r.add(setRaw("SO_ATTACH_FILTER NULL filter", SO_ATTACH_FILTER, new byte[16], 16, EINVAL, "bpf_check_basics_ok"));
        r.add(setRaw("SO_ATTACH_FILTER 5 insns", SO_ATTACH_FILTER, i64(5, 0x7000_0000L), 16, EFAULT,
                "__get_filter (SIM: filter memory unmapped)"));
        r.add(setRaw("SO_ATTACH_FILTER 4097 insns", SO_ATTACH_FILTER, i64(4097, 0x7000_0000L), 16, EINVAL,
                "bpf_check_basics_ok"));
        r.add(setRaw("SO_ATTACH_REUSEPORT_CBPF NULL", SO_ATTACH_REUSEPORT_CBPF, new byte[16], 16, EINVAL, "__get_filter"));
        r.add(setRaw("SO_ATTACH_BPF optlen 8", SO_ATTACH_BPF, i64(3), 8, EINVAL, "sk_setsockopt"));
        r.add(setRaw("SO_BINDTODEVICE lo", SO_BINDTODEVICE, "lo\0".getBytes(), 3, 0, "sock_setbindtodevice"));
        r.add(setRaw("SO_BINDTODEVICE lo no NUL", SO_BINDTODEVICE, "lo".getBytes(), 2, 0, "sock_setbindtodevice"));
        r.add(setRaw("SO_BINDTODEVICE eth0", SO_BINDTODEVICE, "eth0\0".getBytes(), 5, ENODEV, "dev_get_by_name_rcu"));
        r.add(setRaw("SO_BINDTODEVICE empty", SO_BINDTODEVICE, new byte[0], 0, 0, "sock_setbindtodevice"));
        r.add(setRaw("SO_BINDTODEVICE NULL optlen 0", SO_BINDTODEVICE, null, 0, 0, "sock_setbindtodevice"));
        r.add(setRaw("SO_BINDTODEVICE NULL optlen 3", SO_BINDTODEVICE, null, 3, EFAULT, "sock_setbindtodevice"));
        r.add(setRaw("SO_BINDTODEVICE negative", SO_BINDTODEVICE, null, -1, EINVAL, "do_sock_setsockopt"));
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    @DisplayName("SOL_SOCKET option table (net/core/sock.c sk_setsockopt / sk_getsockopt)")
    void shouldAnswerEachSolSocketOptionAsTheKernel(Row row) throws Exception {
        VsockSocket s = ctx.adopt(VsockSocket.open(ctx.m, SOCK_STREAM, 0, row.caps()));
        if (row.set() != null || row.setOptlen() != 0 || row.getOptlen() == NO_GET) {
            ByteBuffer b = row.set() == null ? null : ByteBuffer.wrap(row.set());
            int rc = errnoOf(() -> s.setsockopt(SOL_SOCKET, row.opt(), b, row.setOptlen()));
            assertThat(Errno.name(rc)).as("setsockopt errno").isEqualTo(Errno.name(row.setErrno()));
        }
        if (row.getOptlen() == NO_GET) {
            return;
        }
        ByteBuffer out = ByteBuffer.allocate(64);
        Arrays.fill(out.array(), (byte) 0x5a);
        int[] len = new int[1];
        int rc = errnoOf(() -> len[0] = s.getsockopt(SOL_SOCKET, row.opt(), out, row.getOptlen()));
        assertThat(Errno.name(rc)).as("getsockopt errno").isEqualTo(Errno.name(row.getErrno()));
        if (row.got() != null) {
            assertThat(len[0]).as("optlen").isEqualTo(row.got().length);
            assertThat(Arrays.copyOf(out.array(), row.got().length)).as("value").isEqualTo(row.got());
            assertThat(out.get(row.got().length)).as("byte after the value").isEqualTo((byte) 0x5a);
        }
    }

    @Test
    @DisplayName("SO_SNDBUF/SO_RCVBUF clamp to the machine's net.core.wmem_max/rmem_max and set SO_BUF_LOCK bits")
    void shouldClampBuffersToMachineSysctls() throws Exception {
        assertThat(SimInternals.kernel(ctx.m).setSkMem(65_536, 32_768, 212_992, 212_992)).isZero();
        VsockSocket s = ctx.sock(SOCK_STREAM);
        s.setsockoptInt(SOL_SOCKET, SO_SNDBUF, 100_000);
        s.setsockoptInt(SOL_SOCKET, SO_RCVBUF, 100_000);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_SNDBUF)).isEqualTo(131_072);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_RCVBUF)).isEqualTo(65_536);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_BUF_LOCK)).isEqualTo(SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK);
        s.setsockoptInt(SOL_SOCKET, SO_RCVBUFFORCE, 100_000);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_RCVBUF)).isEqualTo(200_000);
        s.setsockoptInt(SOL_SOCKET, SO_SNDBUFFORCE, Integer.MAX_VALUE);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_SNDBUF)).isEqualTo(Integer.MAX_VALUE - 1);
        assertThat(SimInternals.kernel(ctx.m).setSkMem(4607, 32_768, 212_992, 212_992)).isEqualTo(-EINVAL);
    }

    @Test
    @DisplayName("SO_BINDTODEVICE: bound to lo reads \"lo\\0\"; optlen < IFNAMSIZ → EINVAL; rebinding needs CAP_NET_RAW")
    void shouldBindToLoopbackOnly() throws Exception {
        VsockSocket s = ctx.sock(SOCK_STREAM);
        s.setsockopt(SOL_SOCKET, SO_BINDTODEVICE, ByteBuffer.wrap("lo\0".getBytes()), 3);
        ByteBuffer out = ByteBuffer.allocate(16);
        assertThat(s.getsockopt(SOL_SOCKET, SO_BINDTODEVICE, out, 16)).isEqualTo(3);
        assertThat(Arrays.copyOf(out.array(), 3)).isEqualTo("lo\0".getBytes());
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_BINDTOIFINDEX)).isEqualTo(1);
        assertThat(errnoOf(() -> s.getsockopt(SOL_SOCKET, SO_BINDTODEVICE, out, 15))).isEqualTo(EINVAL);
        s.setsockoptInt(SOL_SOCKET, SO_BINDTOIFINDEX, 7); // no lookup: any index is stored
        assertThat(errnoOf(() -> s.getsockopt(SOL_SOCKET, SO_BINDTODEVICE, out, 16))).isEqualTo(ENXIO);

        VsockSocket u = ctx.adopt(VsockSocket.open(ctx.m, SOCK_STREAM, 0, USER));
        u.setsockoptInt(SOL_SOCKET, SO_BINDTOIFINDEX, 1);
        assertThat(errnoOf(() -> u.setsockoptInt(SOL_SOCKET, SO_BINDTOIFINDEX, 0))).isEqualTo(EPERM);
        // bound to lo, which has no PTP clock
        ByteBuffer ts = ByteBuffer.wrap(i32(SOF_TIMESTAMPING_BIND_PHC, 0));
        assertThat(errnoOf(() -> s.setsockopt(SOL_SOCKET, SO_TIMESTAMPING_OLD, ts, 8))).isEqualTo(EOPNOTSUPP);
        s.setsockoptInt(SOL_SOCKET, SO_BINDTOIFINDEX, 1);
        assertThat(errnoOf(() -> s.setsockopt(SOL_SOCKET, SO_TIMESTAMPING_OLD, ts, 8))).isEqualTo(EINVAL);
    }

    @Test
    @DisplayName("SO_TIMESTAMP*/SO_TIMESTAMPING: the OLD/NEW and NS variants share flags as sk_getsockopt reads them")
    void shouldReportTimestampVariants() throws Exception {
        VsockSocket s = ctx.sock(SOCK_STREAM);
        s.setsockoptInt(SOL_SOCKET, SO_TIMESTAMPNS_NEW, 1);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_TIMESTAMPNS_NEW)).isEqualTo(1);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_TIMESTAMPNS_OLD)).isZero();
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_TIMESTAMP_NEW)).isEqualTo(1);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_TIMESTAMP_OLD)).isZero();
        s.setsockoptInt(SOL_SOCKET, SO_TIMESTAMPING_OLD, SOF_TIMESTAMPING_RX_SOFTWARE);
        ByteBuffer out = ByteBuffer.allocate(8);
        assertThat(s.getsockopt(SOL_SOCKET, SO_TIMESTAMPING_NEW, out, 8)).isEqualTo(8);
        assertThat(out.array()).isEqualTo(i32(0, 0)); // set through OLD: NEW reports nothing
        assertThat(s.getsockopt(SOL_SOCKET, SO_TIMESTAMPING_OLD, out, 8)).isEqualTo(8);
        assertThat(out.array()).isEqualTo(i32(SOF_TIMESTAMPING_RX_SOFTWARE, 0));
    }

    @Test
    @DisplayName("SO_TXTIME, SO_MAX_PACING_RATE, SO_LINGER, SO_COOKIE, SO_LOCK_FILTER read back what was set")
    void shouldReadBackStructuredOptions() throws Exception {
        VsockSocket s = ctx.sock(SOCK_STREAM);
        s.setsockopt(SOL_SOCKET, SO_TXTIME, ByteBuffer.wrap(i32(CLOCK_TAI, 3)), 8);
        ByteBuffer out = ByteBuffer.allocate(8);
        assertThat(s.getsockopt(SOL_SOCKET, SO_TXTIME, out, 8)).isEqualTo(8);
        assertThat(out.array()).isEqualTo(i32(CLOCK_TAI, 3));

        s.setsockopt(SOL_SOCKET, SO_MAX_PACING_RATE, ByteBuffer.wrap(i64(1L << 40)), 8);
        assertThat(s.getsockoptLong(SOL_SOCKET, SO_MAX_PACING_RATE)).isEqualTo(1L << 40);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_MAX_PACING_RATE)).isEqualTo(-1); // min(~0U, rate)

        LoopbackTestContext.setLinger(s, true, -1); // l_linger widened to unsigned long: forever
        ByteBuffer l = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        s.getsockopt(SOL_SOCKET, SO_LINGER, l, 8);
        assertThat(l.getInt(0)).isEqualTo(1);
        assertThat(l.getInt(4)).isEqualTo((int) (Long.MAX_VALUE / io.vsocksim.kernel.Clock.HZ));
        LoopbackTestContext.setLinger(s, false, 0);

        long c1 = s.getsockoptLong(SOL_SOCKET, SO_COOKIE);
        assertThat(s.getsockoptLong(SOL_SOCKET, SO_COOKIE)).isEqualTo(c1).isPositive();
        VsockSocket t = ctx.sock(SOCK_STREAM);
        assertThat(t.getsockoptLong(SOL_SOCKET, SO_COOKIE)).isNotEqualTo(c1).isPositive();

        s.setsockoptInt(SOL_SOCKET, SO_LOCK_FILTER, 1);
        assertThat(errnoOf(() -> s.setsockoptInt(SOL_SOCKET, SO_LOCK_FILTER, 0))).isEqualTo(EPERM);
        assertThat(errnoOf(() -> s.setsockoptInt(SOL_SOCKET, SO_DETACH_FILTER, 0))).isEqualTo(EPERM);
        ByteBuffer fprog = ByteBuffer.wrap(i64(1, 0x7000_0000L));
        assertThat(errnoOf(() -> s.setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16))).isEqualTo(EPERM);
        assertThat(errnoOf(() -> s.setsockoptInt(SOL_SOCKET, SO_ATTACH_BPF, 3))).isEqualTo(EPERM);
    }

    @Test
    @DisplayName("SO_ACCEPTCONN on a listener, SO_PEERNAME on a connected pair, fresh defaults on the accepted child")
    void shouldAnswerConnectionOptions() throws Exception {
        VsockSocket l = ctx.listener(SOCK_STREAM, ctx.freshPort());
        assertThat(l.getsockoptInt(SOL_SOCKET, SO_ACCEPTCONN)).isEqualTo(1);
        l.setsockoptInt(SOL_SOCKET, SO_KEEPALIVE, 1);
        l.setsockoptInt(SOL_SOCKET, SO_SNDBUF, 8192);
        VsockSocket[] p = ctx.pair(SOCK_STREAM, l);
        ByteBuffer out = ByteBuffer.allocate(32);
        assertThat(p[0].getsockopt(SOL_SOCKET, SO_PEERNAME, out, 16)).isEqualTo(16);
        assertThat(Arrays.copyOf(out.array(), 16)).isEqualTo(p[0].getpeername().toBytes());
        assertThat(p[0].getsockopt(SOL_SOCKET, SO_PEERNAME, out, 4)).isEqualTo(4);
        assertThat(errnoOf(() -> p[0].getsockopt(SOL_SOCKET, SO_PEERNAME, out, 17))).isEqualTo(EINVAL);
        // __vsock_create gives the child sock_init_data's defaults, not the listener's options
        assertThat(p[1].getsockoptInt(SOL_SOCKET, SO_KEEPALIVE)).isZero();
        assertThat(p[1].getsockoptInt(SOL_SOCKET, SO_SNDBUF)).isEqualTo(212_992);
        assertThat(p[1].getsockoptInt(SOL_SOCKET, SO_ACCEPTCONN)).isZero();
    }
}
