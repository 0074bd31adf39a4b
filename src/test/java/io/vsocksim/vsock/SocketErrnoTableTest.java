package io.vsocksim.vsock;

import static io.vsocksim.testing.Errnos.assertErrno;
import static io.vsocksim.uapi.Errno.*;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One test per row of the situation → return table (socket-layer.md §13) that the loopback transport
 * can show, each asserting the exact errno, over CID 1 of a loopback-only machine.
 */
@Timeout(30)
class SocketErrnoTableTest {
    private static final int PORT = 1234;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private Machine m;
    private final java.util.List<VsockSocket> open = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() {
        m = TestMachine.threaded("m", leaks);
    }

    @AfterEach
    void tearDown() {
        open.forEach(VsockSocket::close);
        TestMachine.settle(m);
        m.close();
    }

    private VsockSocket sock(int type) throws ErrnoException {
        VsockSocket s = VsockSocket.open(m, type);
        open.add(s);
        return s;
    }

    private VsockSocket listener(int type, int port) throws ErrnoException {
        VsockSocket l = sock(type);
        l.bind(VMADDR_CID_ANY, port);
        l.listen(8);
        return l;
    }

    /** A connected pair over loopback: [client, accepted child]. */
    private VsockSocket[] pair(int type) throws ErrnoException {
        VsockSocket l = listener(type, PORT);
        VsockSocket c = sock(type);
        c.connect(VMADDR_CID_LOCAL, PORT);
        VsockSocket a = l.accept();
        open.add(a);
        return new VsockSocket[] {c, a};
    }

    private static ByteBuffer bytes(int n) {
        return ByteBuffer.allocate(n);
    }

    @Test
    @DisplayName("socket(AF_VSOCK, SOCK_RAW, 0) → ESOCKTNOSUPPORT")
    void shouldRefuseRawSocketType() {
        assertErrno(() -> VsockSocket.open(m, SOCK_RAW), ESOCKTNOSUPPORT);
    }

    @Test
    @DisplayName("socket(…, protocol = 6) → EPROTONOSUPPORT")
    void shouldRefuseForeignProtocol() {
        assertErrno(() -> VsockSocket.open(m, SOCK_STREAM, 6, true), EPROTONOSUPPORT);
    }

    @Test
    @DisplayName("socket(SOCK_DGRAM) on a virtio-only system → ENODEV")
    void shouldRefuseDgramWithoutDatagramTransport() {
        assertErrno(() -> VsockSocket.open(m, SOCK_DGRAM), ENODEV);
    }

    @Test
    @DisplayName("bind twice → EINVAL")
    void shouldRefuseSecondBind() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        s.bind(VMADDR_CID_ANY, PORT);
        assertErrno(() -> s.bind(VMADDR_CID_ANY, PORT + 1), EINVAL);
    }

    @Test
    @DisplayName("bind to a used port (same port, either side CID_ANY) → EADDRINUSE")
    void shouldRefuseUsedPort() throws Exception {
        sock(SOCK_STREAM).bind(VMADDR_CID_LOCAL, PORT);
        assertErrno(() -> sock(SOCK_STREAM).bind(VMADDR_CID_ANY, PORT), EADDRINUSE);
        assertErrno(() -> sock(SOCK_SEQPACKET).bind(VMADDR_CID_LOCAL, PORT), EADDRINUSE);
    }

    @Test
    @DisplayName("bind port ≤ 1023 unprivileged → EACCES")
    void shouldRefuseReservedPortWithoutCapability() throws Exception {
        VsockSocket s = VsockSocket.open(m, SOCK_STREAM, 0, false);
        open.add(s);
        assertErrno(() -> s.bind(VMADDR_CID_ANY, 1023), EACCES);
        assertErrno(() -> s.bind(VMADDR_CID_ANY, 0), EACCES);
        s.bind(VMADDR_CID_ANY, 1024);
    }

    @Test
    @DisplayName("bind non-local CID → EADDRNOTAVAIL")
    void shouldRefuseNonLocalCid() {
        assertErrno(() -> sock(SOCK_STREAM).bind(VMADDR_CID_HOST, PORT), EADDRNOTAVAIL);
        assertErrno(() -> sock(SOCK_STREAM).bind(5, PORT), EADDRNOTAVAIL);
    }

    @Test
    @DisplayName("bind/connect with addrlen < 16 or wrong family → EINVAL")
    void shouldRefuseBadAddresses() throws Exception {
        ByteBuffer addr = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        assertErrno(() -> sock(SOCK_STREAM).bind(addr.duplicate(), 15), EINVAL);
        assertErrno(() -> sock(SOCK_STREAM).connect(addr.duplicate(), 15), EINVAL);
        ByteBuffer inet = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        inet.put(0, (byte) 2);
        assertErrno(() -> sock(SOCK_STREAM).bind(inet.duplicate(), 16), EINVAL);
        assertErrno(() -> sock(SOCK_STREAM).connect(inet.duplicate(), 16), EINVAL);
    }

    @Test
    @DisplayName("listen on an unbound socket → EINVAL")
    void shouldRefuseListenUnbound() {
        assertErrno(() -> sock(SOCK_STREAM).listen(1), EINVAL);
    }

    @Test
    @DisplayName("listen after a failed connect → succeeds")
    void shouldListenAfterFailedConnect() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, PORT), ECONNRESET);
        s.listen(1);
        assertThat(UserInternals.sock(s).skState).isEqualTo(io.vsocksim.uapi.TcpState.TCP_LISTEN);
    }

    @Test
    @DisplayName("accept on a non-listening socket → EINVAL")
    void shouldRefuseAcceptWithoutListen() {
        assertErrno(() -> sock(SOCK_STREAM).accept(), EINVAL);
    }

    @Test
    @DisplayName("accept, nothing queued, non-blocking → EAGAIN")
    void shouldNotBlockAcceptWhenNonBlocking() throws Exception {
        VsockSocket l = listener(SOCK_STREAM, PORT);
        l.setNonBlocking(true);
        assertErrno(l::accept, EAGAIN);
    }

    @Test
    @DisplayName("connect on a listening socket → EINVAL")
    void shouldRefuseConnectOnListener() throws Exception {
        VsockSocket l = listener(SOCK_STREAM, PORT);
        assertErrno(() -> l.connect(VMADDR_CID_LOCAL, PORT), EINVAL);
    }

    @Test
    @DisplayName("connect on a connected socket → EISCONN")
    void shouldRefuseConnectWhenConnected() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[0].connect(VMADDR_CID_LOCAL, PORT), EISCONN);
    }

    @Test
    @DisplayName("connect after shutdown() → EINVAL")
    void shouldRefuseConnectAfterShutdown() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[0].shutdown(SHUT_WR);
        assertErrno(() -> p[0].connect(VMADDR_CID_LOCAL, PORT), EINVAL);
    }

    @Test
    @DisplayName("connect to a port with no listener / a bound non-listener → ECONNRESET")
    void shouldResetConnectToNobody() throws Exception {
        assertErrno(() -> sock(SOCK_STREAM).connect(VMADDR_CID_LOCAL, PORT), ECONNRESET);
        sock(SOCK_STREAM).bind(VMADDR_CID_ANY, PORT + 1);
        assertErrno(() -> sock(SOCK_STREAM).connect(VMADDR_CID_LOCAL, PORT + 1), ECONNRESET);
    }

    @Test
    @DisplayName("SO_ERROR after a blocking connect failed with ECONNRESET → 0")
    void shouldConsumeSkErrInBlockingConnect() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, PORT), ECONNRESET);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_ERROR)).isZero();
    }

    @Test
    @DisplayName("connect, listener backlog full → ECONNRESET")
    void shouldResetWhenBacklogFull() throws Exception {
        VsockSocket l = sock(SOCK_STREAM);
        l.bind(VMADDR_CID_ANY, PORT);
        l.listen(0);
        sock(SOCK_STREAM).connect(VMADDR_CID_LOCAL, PORT); // backlog 0 still admits one (ack_backlog > max)
        assertErrno(() -> sock(SOCK_STREAM).connect(VMADDR_CID_LOCAL, PORT), ECONNRESET);
    }

    @Test
    @DisplayName("getpeername when not SS_CONNECTED → ENOTCONN")
    void shouldRefuseGetpeernameUnconnected() {
        assertErrno(() -> sock(SOCK_STREAM).getpeername(), ENOTCONN);
    }

    @Test
    @DisplayName("send on an unconnected socket → ENOTCONN (no SIGPIPE)")
    void shouldRefuseSendUnconnected() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        assertErrno(() -> s.send(bytes(1), 0), ENOTCONN);
        assertThat(s.sigpipes()).isZero();
    }

    @Test
    @DisplayName("send after own SHUT_WR → EPIPE (+SIGPIPE on STREAM unless MSG_NOSIGNAL)")
    void shouldFailSendAfterOwnShutdownWithEpipe() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[0].shutdown(SHUT_WR);
        assertErrno(() -> p[0].send(bytes(1), 0), EPIPE);
        assertThat(p[0].sigpipes()).isEqualTo(1);
        assertErrno(() -> p[0].send(bytes(1), MSG_NOSIGNAL), EPIPE);
        assertThat(p[0].sigpipes()).isEqualTo(1);
        VsockSocket[] q = pair2(SOCK_SEQPACKET);
        q[0].shutdown(SHUT_WR);
        assertErrno(() -> q[0].send(bytes(1), 0), EPIPE);
        assertThat(q[0].sigpipes()).isZero();
    }

    private VsockSocket[] pair2(int type) throws ErrnoException {
        VsockSocket l = listener(type, PORT + 100);
        VsockSocket c = sock(type);
        c.connect(VMADDR_CID_LOCAL, PORT + 100);
        VsockSocket a = l.accept();
        open.add(a);
        return new VsockSocket[] {c, a};
    }

    @Test
    @DisplayName("sendto with an address on a connected socket → EISCONN")
    void shouldRefuseSendtoOnConnected() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[0].sendto(bytes(1), 0, new SockaddrVm(VMADDR_CID_LOCAL, PORT)), EISCONN);
        assertErrno(() -> sock(SOCK_STREAM).sendto(bytes(1), 0, new SockaddrVm(VMADDR_CID_LOCAL, PORT)), EOPNOTSUPP);
    }

    @Test
    @DisplayName("send / recv with MSG_OOB → EOPNOTSUPP")
    void shouldRefuseOob() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[0].send(bytes(1), MSG_OOB), EOPNOTSUPP);
        assertErrno(() -> p[1].recv(bytes(1), MSG_OOB), EOPNOTSUPP);
    }

    @Test
    @DisplayName("SEQPACKET send larger than min(peer, own) buffer → EMSGSIZE")
    void shouldRefuseOversizedMessage() throws Exception {
        VsockSocket[] p = pair(SOCK_SEQPACKET);
        assertErrno(() -> p[0].send(bytes(256 * 1024 + 1), 0), EMSGSIZE);
        p[1].setBufferSize(4096);
        p[1].send(bytes(1), 0); // carries the new buf_alloc to the client
        ByteBuffer one = bytes(1);
        p[0].recv(one, 0);
        assertErrno(() -> p[0].send(bytes(4097), 0), EMSGSIZE);
    }

    @Test
    @DisplayName("recv on a never-connected socket → ENOTCONN")
    void shouldRefuseRecvNeverConnected() {
        assertErrno(() -> sock(SOCK_STREAM).recv(bytes(1), 0), ENOTCONN);
    }

    @Test
    @DisplayName("recv after the peer closed, data drained → 0; after own SHUT_RD → 0")
    void shouldReturnEofAfterPeerCloseOrOwnShutRd() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        p[0].close();
        ByteBuffer buf = bytes(8);
        assertThat(p[1].recv(buf, 0)).isEqualTo(3);
        assertThat(p[1].recv(buf, 0)).isZero();
        VsockSocket[] q = pair2(SOCK_STREAM);
        q[1].shutdown(SHUT_RD);
        assertThat(q[1].recv(bytes(8), 0)).isZero();
    }

    @Test
    @DisplayName("recv, no data, non-blocking → EAGAIN")
    void shouldNotBlockRecvWithDontwait() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[1].recv(bytes(1), MSG_DONTWAIT), EAGAIN);
    }

    @Test
    @DisplayName("recv, no data, SO_RCVTIMEO expires → EAGAIN")
    void shouldTimeOutRecvWithRcvtimeo() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[1].setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO, 1, 0);
        CompletableFuture<Throwable> r = CompletableFuture.supplyAsync(() -> {
            try {
                p[1].recv(bytes(1), 0);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        TestMachine.clock(m).awaitSleepers(1);
        TestMachine.clock(m).advanceJiffies(Clock.HZ);
        assertThat(r.get(10, TimeUnit.SECONDS)).isInstanceOf(ErrnoException.class)
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(EAGAIN));
    }

    @Test
    @DisplayName("recv MSG_WAITALL with len ≥ buffer size → ENOMEM")
    void shouldRefuseWaitallBeyondBuffer() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[1].recv(bytes(256 * 1024), MSG_WAITALL), ENOMEM);
    }

    @Test
    @DisplayName("recv MSG_ERRQUEUE, queue empty → EAGAIN")
    void shouldReportEmptyErrorQueue() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertErrno(() -> p[1].recv(bytes(64), MSG_ERRQUEUE), EAGAIN);
    }

    @Test
    @DisplayName("recv into a bad buffer → EFAULT (STREAM: data kept; SEQPACKET: message dropped)")
    void shouldFaultOnReadOnlyBuffer() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[0].send(ByteBuffer.wrap(new byte[] {7, 8}), 0);
        p[1].poll(POLLIN_MASK, -1);
        assertErrno(() -> p[1].recv(bytes(2).asReadOnlyBuffer(), 0), EFAULT);
        ByteBuffer ok = bytes(2);
        assertThat(p[1].recv(ok, 0)).isEqualTo(2);
        assertThat(ok.array()).containsExactly(7, 8);

        VsockSocket[] q = pair2(SOCK_SEQPACKET);
        q[0].send(ByteBuffer.wrap(new byte[] {1}), 0);
        q[0].send(ByteBuffer.wrap(new byte[] {2}), 0);
        q[1].poll(POLLIN_MASK, -1);
        assertErrno(() -> q[1].recv(bytes(1).asReadOnlyBuffer(), 0), EFAULT);
        ByteBuffer next = bytes(1);
        assertThat(q[1].recv(next, 0)).isEqualTo(1);
        assertThat(next.get(0)).isEqualTo((byte) 2);
    }

    private static final int POLLIN_MASK = io.vsocksim.uapi.Poll.POLLIN;

    @Test
    @DisplayName("shutdown on an unconnected or listening socket → ENOTCONN; how = 3 → EINVAL")
    void shouldRefuseBadShutdowns() throws Exception {
        assertErrno(() -> sock(SOCK_STREAM).shutdown(SHUT_RDWR), ENOTCONN);
        VsockSocket l = listener(SOCK_STREAM, PORT);
        assertErrno(() -> l.shutdown(SHUT_RD), ENOTCONN);
        assertErrno(() -> l.shutdown(3), EINVAL);
    }

    @Test
    @DisplayName("setsockopt/getsockopt size and name errors")
    void shouldRefuseBadOptions() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        assertErrno(() -> s.setsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, bytes(8), 7), EINVAL);
        assertErrno(() -> s.setsockoptInt(AF_VSOCK, SO_VM_SOCKETS_PEER_HOST_VM_ID, 1), ENOPROTOOPT);
        assertErrno(() -> s.setsockoptInt(AF_VSOCK, 10, 1), ENOPROTOOPT);
        assertErrno(() -> s.setsockoptTimeval(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, -1, 0), ERANGE);
        assertErrno(() -> s.getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, bytes(8), 7), EINVAL);
        assertErrno(() -> s.getsockopt(AF_VSOCK, SO_VM_SOCKETS_PEER_HOST_VM_ID, bytes(8), 8), ENOPROTOOPT);
        assertErrno(() -> s.setsockoptInt(6, 1, 1), ENOPROTOOPT);
        assertErrno(() -> s.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, 256 * 1024 + 1), EINVAL);
        assertThat(s.getsockoptInt(SOL_SOCKET, SO_TYPE)).isEqualTo(SOCK_STREAM);
    }

    @Test
    @DisplayName("ioctl SIOCOUTQ without transport → EOPNOTSUPP; on a listener with a transport → EINVAL; SIOCINQ → ENOTTY")
    void shouldAnswerIoctlsAsTheKernel() throws Exception {
        VsockSocket s = sock(SOCK_STREAM);
        assertErrno(() -> s.ioctl(SIOCOUTQ), EOPNOTSUPP);
        assertErrno(() -> s.ioctl(SIOCINQ), ENOTTY);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, PORT), ECONNRESET);
        s.listen(1);
        assertErrno(() -> s.ioctl(SIOCOUTQ), EINVAL);
        VsockSocket[] p = pair(SOCK_STREAM);
        assertThat(p[0].ioctl(SIOCOUTQ)).isZero();
    }
}
