package io.vsocksim.user;

import static io.vsocksim.user.Outcome.thrown;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Addresses and options of the vsock face, checked where it matters against the descriptor the
 * option became (the face's process is the test's, so its first socket is descriptor 0).
 */
class JavaNetOptionsTest extends NetTestBase {

    private static long getsockoptLong(UserProcess p, int fd, int level, int name) {
        ByteBuffer v = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(p.getsockopt(fd, level, name, v, 8)).isEqualTo(8);
        return v.getLong(0);
    }

    @Test
    void shouldNameBothEndsWithVsockAddressesAndHaveNoInetAddress() throws Exception {
        ServerSocket l = worlds.track(worlds.hostNet().serverSocket(4321));
        Socket c = worlds.track(worlds.guestNet().socket(VsockAddress.ofHostPort(4321)));
        Socket a = worlds.track(l.accept());
        assertThat(l.getLocalSocketAddress()).isEqualTo(VsockAddress.ofAnyCIDPort(4321));
        assertThat(l.getLocalPort()).isEqualTo(4321);
        assertThat(l.getInetAddress()).isNull();
        assertThat(c.getRemoteSocketAddress()).isEqualTo(VsockAddress.ofHostPort(4321));
        // connect auto-binds to VMADDR_CID_ANY (vsock_auto_bind) and getsockname says so; the accepted end names CID 3
        assertThat(c.getLocalSocketAddress()).isEqualTo(VsockAddress.of(VsockAddress.CID_ANY, c.getLocalPort()));
        assertThat(a.getLocalSocketAddress()).isEqualTo(VsockAddress.ofHostPort(4321));
        assertThat(a.getRemoteSocketAddress()).isEqualTo(VsockAddress.of(3, c.getLocalPort()));
        assertThat(a.getPort()).isEqualTo(c.getLocalPort());
        assertThat(c.getPort()).isEqualTo(4321);
        assertThat(c.getInetAddress()).isNull();
        assertThat(c.getLocalAddress()).isNull();
        assertThat(a.getInetAddress()).isNull();
        assertThat(c.isConnected() && c.isBound() && a.isConnected() && a.isBound()).isTrue();
    }

    @Test
    void shouldReportUnboundAndUnconnectedAsTheJdkDoes() throws Exception {
        Socket s = worlds.track(worlds.localNet().socket());
        ServerSocket l = worlds.track(worlds.localNet().serverSocket());
        assertThat(s.getLocalPort()).isEqualTo(-1);
        assertThat(s.getPort()).isZero();
        assertThat(s.getLocalSocketAddress()).isNull();
        assertThat(s.getRemoteSocketAddress()).isNull();
        assertThat(l.getLocalPort()).isEqualTo(-1);
        assertThat(l.getLocalSocketAddress()).isNull();
        assertThat(Outcome.of(l::accept)).isEqualTo(thrown(SocketException.class, "Socket is not bound yet"));
        assertThat(Outcome.of(s::getInputStream)).isEqualTo(thrown(SocketException.class, "Socket is not connected"));
    }

    @Test
    void shouldSetSoVmSocketsBufferSizeForReceiveAndSendBufferSizes() throws Exception {
        UserProcess p = worlds.localNet().process();
        Socket s = worlds.track(VsockNet.of(p).socket());
        int fd = 0;
        s.setReceiveBufferSize(65536);
        assertThat(getsockoptLong(p, fd, VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_BUFFER_SIZE)).isEqualTo(65536);
        assertThat(s.getSendBufferSize()).isEqualTo(65536);
        s.setSendBufferSize(100_000);
        assertThat(s.getReceiveBufferSize()).isEqualTo(100_000);
        s.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
        assertThat(s.getOption(StandardSocketOptions.SO_RCVBUF)).as("clamped to SO_VM_SOCKETS_BUFFER_MAX_SIZE")
                .isEqualTo(256 * 1024);
    }

    @Test
    void shouldSetSoLingerAsAStructLinger() throws Exception {
        UserProcess p = worlds.localNet().process();
        Socket s = worlds.track(VsockNet.of(p).socket());
        assertThat(s.getSoLinger()).isEqualTo(-1);
        s.setSoLinger(true, 5);
        assertThat(s.getSoLinger()).isEqualTo(5);
        ByteBuffer linger = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(p.getsockopt(0, Sock.SOL_SOCKET, Sock.SO_LINGER, linger, 8)).isEqualTo(8);
        assertThat(new int[] {linger.getInt(0), linger.getInt(4)}).containsExactly(1, 5);
        s.setSoLinger(false, 0);
        assertThat(s.getSoLinger()).isEqualTo(-1);
        assertThat(s.getOption(StandardSocketOptions.SO_LINGER)).isEqualTo(-1);
    }

    @Test
    void shouldKeepTheSocketLevelFlagsVsockIgnores() throws Exception {
        Socket s = worlds.track(worlds.localNet().socket());
        s.setKeepAlive(true);
        s.setOOBInline(true);
        s.setReuseAddress(true);
        assertThat(new boolean[] {s.getKeepAlive(), s.getOOBInline(), s.getReuseAddress()}).containsExactly(true, true, true);
        s.setKeepAlive(false);
        assertThat(s.getKeepAlive()).isFalse();
    }

    @Test
    void shouldIgnoreTcpNoDelayAndTheTrafficClass() throws Exception {
        Socket s = worlds.track(worlds.localNet().socket());
        s.setTcpNoDelay(false);
        assertThat(s.getTcpNoDelay()).as("vsock has no Nagle: always no delay").isTrue();
        s.setTrafficClass(0x10);
        assertThat(s.getTrafficClass()).isZero();
        assertThat(s.supportedOptions()).doesNotContain(StandardSocketOptions.IP_TOS);
        assertThat(Outcome.of(() -> s.setOption(StandardSocketOptions.IP_TOS, 0x10)))
                .isEqualTo(thrown(UnsupportedOperationException.class, "'IP_TOS' not supported"));
    }

    @Test
    void shouldNotOfferSoReusePortWhichTheKernelRefusesOnANonInetSocket() throws Exception {
        Socket s = worlds.track(worlds.localNet().socket());
        ServerSocket l = worlds.track(worlds.localNet().serverSocket());
        assertThat(s.supportedOptions()).doesNotContain(StandardSocketOptions.SO_REUSEPORT);
        assertThat(l.supportedOptions()).doesNotContain(StandardSocketOptions.SO_REUSEPORT);
        assertThat(Outcome.of(() -> s.setOption(StandardSocketOptions.SO_REUSEPORT, true)))
                .isEqualTo(thrown(UnsupportedOperationException.class, "'SO_REUSEPORT' not supported"));
    }

    @Test
    void shouldRefuseUrgentDataAsNotSupported() throws Exception {
        Socket[] p = NetWorlds.connect(worlds, worlds.loopback());
        assertThat(Outcome.of(() -> p[0].sendUrgentData(1))).isEqualTo(thrown(SocketException.class, "Urgent data not supported"));
    }

    @Test
    void shouldLetAcceptedSocketsInheritTheListenersBufferSize() throws Exception {
        ServerSocket l = worlds.track(worlds.localNet().serverSocket());
        l.setReceiveBufferSize(32768);
        l.bind(VsockAddress.ofAnyPort());
        Socket c = worlds.track(worlds.localNet().socket(VsockAddress.ofLocalPort(l.getLocalPort())));
        Socket a = worlds.track(l.accept());
        assertThat(a.getReceiveBufferSize()).isEqualTo(32768);
        assertThat(c.getReceiveBufferSize()).as("the default, 256 KiB").isEqualTo(256 * 1024);
    }
}
