package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOMEM;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_LINGER;
import static io.vsocksim.uapi.Sock.SO_RCVLOWAT;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO_OLD;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO_NEW;
import static io.vsocksim.uapi.Sock.SO_TYPE;
import static io.vsocksim.uapi.Sock.SO_ZEROCOPY;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_ZEROCOPY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad arguments at the public API, one row each: the exact errno the Linux syscall layer gives for the
 * same C call (a NULL or short user pointer → EFAULT after the length checks, a bad length or flag →
 * EINVAL, a huge mmap length → ENOMEM), or the exact Java exception where no C call corresponds (a
 * data buffer that carries its own length is null). docs/errors.md lists the same table.
 */
@Timeout(30)
class BadArgumentErrnoTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext ctx;
    private final List<AutoCloseable> extra = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() {
        ctx = LoopbackTestContext.threaded("m", leaks);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : extra) {
            c.close();
        }
        ctx.close();
    }

    /** One call with a bad argument, made on a fresh fixture. */
    interface BadCall {
        void run(BadArgumentErrnoTest t) throws Exception;
    }

    /** A row: the call as C would spell it, the call, and an errno (Integer) or an exception type. */
    record Row(String call, BadCall run, Object expect) {
        @Override
        public String toString() {
            return call + " → " + (expect instanceof Integer e ? Errno.name(e) : ((Class<?>) expect).getSimpleName());
        }
    }

    static Stream<Row> rows() {
        return Stream.of(
                // addresses: the SockaddrVm overloads pass sizeof(struct sockaddr_vm)
                new Row("bind(fd, NULL, 16) [bind(SockaddrVm null)]", t -> t.sock().bind((SockaddrVm) null), EFAULT),
                new Row("bind(fd, NULL, 16)", t -> t.sock().bind(null, 16), EFAULT),
                new Row("bind(fd, NULL, 0)", t -> t.sock().bind(null, 0), EINVAL),
                new Row("bind(fd, NULL, -1)", t -> t.sock().bind(null, -1), EINVAL),
                new Row("bind(fd, addr, 129)", t -> t.sock().bind(addr(), 129), EINVAL),
                new Row("bind(fd, 8-byte buffer, 16)", t -> t.sock().bind(ByteBuffer.allocate(8), 16), EFAULT),
                new Row("connect(fd, NULL, 16) [connect(SockaddrVm null)]",
                        t -> t.sock().connect((SockaddrVm) null), EFAULT),
                new Row("connect(fd, NULL, 16)", t -> t.sock().connect(null, 16), EFAULT),
                new Row("connect(fd, NULL, 0)", t -> t.sock().connect(null, 0), EINVAL),
                // flags
                new Row("socket(AF_VSOCK, SOCK_STREAM | 0x10, 0)", t -> VsockSocket.open(t.ctx.m, SOCK_STREAM | 0x10), EINVAL),
                new Row("accept4(fd, NULL, NULL, 0x1)", t -> t.listener().accept(0x1), EINVAL),
                // setsockopt: the length check first, then the copy
                new Row("setsockopt(SOL_SOCKET, SO_RCVLOWAT, NULL, 4)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_RCVLOWAT, null, 4), EFAULT),
                new Row("setsockopt(SOL_SOCKET, SO_RCVLOWAT, NULL, 2)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_RCVLOWAT, null, 2), EINVAL),
                new Row("setsockopt(SOL_SOCKET, SO_RCVTIMEO_OLD, NULL, 16)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_RCVTIMEO_OLD, null, 16), EFAULT),
                new Row("setsockopt(SOL_SOCKET, SO_RCVTIMEO_OLD, NULL, 8) (int read faults first)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_RCVTIMEO_OLD, null, 8), EFAULT),
                new Row("setsockopt(SOL_SOCKET, SO_SNDTIMEO_NEW, 4-byte buffer, 16)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_SNDTIMEO_NEW, ByteBuffer.allocate(4), 16), EFAULT),
                new Row("setsockopt(SOL_SOCKET, SO_LINGER, NULL, 8)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_LINGER, null, 8), EFAULT),
                new Row("setsockopt(SOL_SOCKET, SO_ZEROCOPY, NULL, 4)",
                        t -> t.sock().setsockopt(SOL_SOCKET, SO_ZEROCOPY, null, 4), EFAULT),
                new Row("setsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, NULL, 8)",
                        t -> t.sock().setsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, null, 8), EFAULT),
                new Row("setsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, NULL, 4)",
                        t -> t.sock().setsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, null, 4), EINVAL),
                new Row("setsockopt(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW, NULL, 16)",
                        t -> t.sock().setsockopt(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW, null, 16), EFAULT),
                // getsockopt
                new Row("getsockopt(SOL_SOCKET, SO_TYPE, NULL, 4)",
                        t -> t.sock().getsockopt(SOL_SOCKET, SO_TYPE, null, 4), EFAULT),
                new Row("getsockopt(SOL_SOCKET, SO_LINGER, 4-byte buffer, 8)",
                        t -> t.sock().getsockopt(SOL_SOCKET, SO_LINGER, ByteBuffer.allocate(4), 8), EFAULT),
                new Row("getsockopt(SOL_SOCKET, SO_TYPE, read-only memory, 4)",
                        t -> t.sock().getsockopt(SOL_SOCKET, SO_TYPE, ByteBuffer.allocate(4).asReadOnlyBuffer(), 4),
                        EFAULT),
                new Row("getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, NULL, 8)",
                        t -> t.sock().getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, null, 8), EFAULT),
                new Row("getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, NULL, 4)",
                        t -> t.sock().getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, null, 4), EINVAL),
                // user memory
                new Row("mmap(NULL, 0, ...) [allocUserBuffer(0)]", t -> SimInternals.allocUserBuffer(t.ctx.m, 0), EINVAL),
                new Row("mmap(NULL, (size_t) -1, ...) [allocUserBuffer(-1)]", t -> SimInternals.allocUserBuffer(t.ctx.m, -1), ENOMEM),
                new Row("allocUserBuffer(2 MiB + 1) (SIM: largest buffer 2 MiB)",
                        t -> SimInternals.allocUserBuffer(t.ctx.m, UserBuffer.MAX_BYTES + 1), ENOMEM),
                new Row("send(fd, ub - 1, 10, 0) (first byte unmapped)", t -> t.sendUser(-1, 10), ENOMEM),
                new Row("send(fd, ub + size + 1, 10, 0)", t -> t.sendUser(4097, 10), ENOMEM),
                new Row("send(fd, ub + size - 10, 100, 0) (the packet's tail faults)", t -> t.sendUser(4086, 100), ENOMEM),
                new Row("send(fd, ub, (size_t) -1, 0)", t -> t.sendUser(0, -1), ENOMEM),
                new Row("sysctl -w net.core.somaxconn=-1", t -> t.ctx.m.setSomaxconn(-1), EINVAL),
                new Row("madvise(addr, len, 5)", t -> ErrnoException.check(t.process().madvise(0x10000, 4096, 5), "madvise"), EINVAL),
                // no C call: the Java object carries the length
                new Row("send(null ByteBuffer)", t -> t.connected().send(null, 0), NullPointerException.class),
                new Row("sendto(null ByteBuffer)", t -> t.connected().sendto(null, 0, null), NullPointerException.class),
                new Row("write(null ByteBuffer)", t -> t.connected().write(null), NullPointerException.class),
                new Row("recv(null ByteBuffer)", t -> t.connected().recv(null, 0), NullPointerException.class),
                new Row("read(null ByteBuffer)", t -> t.connected().read(null), NullPointerException.class),
                new Row("recvmsg(null ByteBuffer)", t -> t.connected().recvmsg(null, 0, null), NullPointerException.class),
                new Row("recvmsg(null ByteBuffer, control)",
                        t -> t.connected().recvmsg(null, ByteBuffer.allocate(64), 0, null), NullPointerException.class),
                new Row("recvmsg(buf, flags, new int[0])",
                        t -> t.connected().recvmsg(ByteBuffer.allocate(8), 0, new int[0]), IllegalArgumentException.class),
                new Row("send(fd, NULL, 10, 0) (a null UserBuffer is NULL)",
                        t -> UserInternals.send(t.connected(), (UserBuffer) null, 0, 10, 0), ENOMEM),
                new Row("mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0)", t -> {
                    t.ctx.m.setZerocopyPolicy(ZerocopyPolicy.PAGES);
                    t.sock().mmap(0, Mman.PROT_READ);
                }, EINVAL),
                new Row("read of an unmapped address by a process", t -> t.process().readByte(0x10000),
                        SegmentationFault.class));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void shouldReportBadArgumentAsTheTableSays(Row row) {
        if (row.expect() instanceof Integer errno) {
            assertThatThrownBy(() -> row.run().run(this)).isExactlyInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(Errno.name(((ErrnoException) e).errno())).isEqualTo(Errno.name(errno)));
        } else {
            assertThatThrownBy(() -> row.run().run(this)).isExactlyInstanceOf((Class<?>) row.expect());
        }
    }

    @Test
    @DisplayName("getsockopt(SOL_SOCKET, SO_TYPE, NULL, 0) copies nothing and succeeds with optlen 0")
    void shouldSucceedWhenNullOptvalAndNothingToCopy() throws Exception {
        assertThat(sock().getsockopt(SOL_SOCKET, SO_TYPE, null, 0)).isZero();
    }

    @Test
    @DisplayName("send(fd, ub, size + 100, 0): the packets that are mapped go, the one that faults ends the call")
    void shouldSendMappedPacketsWhenUserRangeRunsPastBuffer() throws Exception {
        VsockSocket[] p = pair();
        int size = 128 << 10; // two whole 64 KiB packets
        try (UserBuffer ub = SimInternals.allocUserBuffer(ctx.m, size)) {
            ub.buffer().put(size - 1, (byte) 7);
            assertThat(UserInternals.send(p[0], ub, 0, size + 100, 0)).isEqualTo(size);
            assertThat(UserInternals.send(p[0], ub, size, 0, 0)).as("nothing to send at the end").isZero();
        }
        ByteBuffer in = ByteBuffer.allocate(size);
        while (in.hasRemaining()) {
            p[1].recv(in, 0);
        }
        assertThat(in.get(size - 1)).isEqualTo((byte) 7);
    }

    @Test
    @DisplayName("getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY) on a socket of no process → EINVAL (nothing mapped)")
    void shouldRefuseZerocopyGetsockoptWithoutProcess() throws Exception {
        ctx.m.setZerocopyPolicy(ZerocopyPolicy.PAGES);
        VsockSocket rx = pair()[1];
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 0x7f00_0000_0000L - 4096);
        assertThatThrownBy(() -> rx.getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY, b, 8))
                .isExactlyInstanceOf(ErrnoException.class)
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(EINVAL));
    }

    @Test
    @DisplayName("poll(POLLIN, Long.MAX_VALUE) waits as forever and returns POLLIN when data comes")
    void shouldWaitForeverWhenPollTimeoutHuge() throws Exception {
        VsockSocket[] p = pair();
        for (long timeout : new long[] {Long.MAX_VALUE, Long.MAX_VALUE / 1_000_000L + 1, Long.MIN_VALUE}) {
            Future<Integer> f = ctx.spawn("poller", () -> p[1].poll(Poll.POLLIN, timeout));
            p[0].send(ByteBuffer.wrap(new byte[] {1}), 0);
            assertThat(f.get(10, TimeUnit.SECONDS) & Poll.POLLIN).as("timeout %d", timeout).isEqualTo(Poll.POLLIN);
            assertThat(p[1].recv(ByteBuffer.allocate(1), 0)).isEqualTo(1);
        }
    }

    // ---- fixture ----------------------------------------------------------------------------------

    private static ByteBuffer addr() {
        return ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, 1234).toBytes());
    }

    VsockSocket sock() throws ErrnoException {
        return ctx.sock(SOCK_STREAM);
    }

    VsockSocket listener() throws ErrnoException {
        VsockSocket l = ctx.sock(SOCK_STREAM);
        l.bind(VMADDR_CID_ANY, ctx.freshPort());
        l.listen(4);
        return l;
    }

    VsockSocket[] pair() throws ErrnoException {
        return ctx.pair(SOCK_STREAM);
    }

    VsockSocket connected() throws ErrnoException {
        return pair()[0];
    }

    UserProcess process() {
        UserProcess p = UserProcess.spawn(ctx.m, "p");
        extra.add(p);
        return p;
    }

    /** send(2) of {@code len} bytes at {@code off} of a fresh 4096-byte user buffer, on a connected socket. */
    void sendUser(int off, int len) throws ErrnoException {
        VsockSocket c = connected();
        try (UserBuffer ub = SimInternals.allocUserBuffer(ctx.m, 4096)) {
            UserInternals.send(c, ub, off, len, 0);
        }
    }
}
