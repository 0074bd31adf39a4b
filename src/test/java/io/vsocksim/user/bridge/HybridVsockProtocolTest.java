package io.vsocksim.user.bridge;

import static io.vsocksim.user.bridge.BridgeTestContext.FIRST_HOST_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import java.net.BindException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The outcomes of the protocol that a JDK client shows best (those an external program sees too, bad
 * command lines, a port nobody listens on, a client that vanishes, are in {@link HybridVsockProgramTest},
 * run with socat as well): a command line Firecracker's parser accepts, a silent client, the connection
 * limit, half-closes from each end, guest connects nobody takes, a connect to the bridge's own listener,
 * and the bridge's life with its guest.
 */
class HybridVsockProtocolTest extends BridgeTestBase {
    @Test
    @Timeout(30)
    void shouldTakeTheCommandAsFirecrackerDoesAndForwardBytesSentWithIt() throws Exception {
        VsockSocket l = t.guestListen(1234);
        SocketChannel c = t.unixConnect();
        // lower case, a '+' and a third word, as Rust's split_whitespace and u32 parsing allow; data in the same write
        BridgeTestContext.write(c, "  connect +1234 please\nearly bytes");
        VsockSocket g = t.machines.track(l.accept());
        assertThat(BridgeTestContext.readLine(c)).isEqualTo("OK " + FIRST_HOST_PORT + "\n");
        c.shutdownOutput();
        assertThat(BridgeTestContext.recvAll(g)).isEqualTo("early bytes");
    }

    @Test
    @Timeout(30)
    void shouldKeepASilentClientOpenWithoutHoldingUpOthers() throws Exception {
        SocketChannel silent = t.unixConnect();
        BridgeTestContext.write(silent, "CONN");
        t.connectFromHost(t.guestListen(1234));
        silent.configureBlocking(false);
        assertThat(silent.read(ByteBuffer.allocate(1))).as("still open, nothing said").isZero();

        t.bridge.close(); // no timeout: the silent client lasts until it or the bridge goes
        silent.configureBlocking(true);
        assertThat(BridgeTestContext.readAll(silent)).isEmpty();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_ACCEPTED)).isEqualTo(2);
    }

    @Test
    @Timeout(120)
    void shouldAcceptAndCloseAClientOverTheConnectionLimit() throws Exception {
        List<SocketChannel> silent = new java.util.ArrayList<>();
        for (int i = 0; i < HybridVsock.MAX_CONNECTIONS; i++) {
            silent.add(t.unixConnect());
        }
        BridgeTestContext.await(() -> t.bridge.count(HybridVsock.Counter.HOST_ACCEPTED) == HybridVsock.MAX_CONNECTIONS);
        assertThat(BridgeTestContext.readAll(t.unixConnect())).isEmpty();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_TOO_MANY)).isEqualTo(1);

        silent.get(0).close(); // gone before its line: its slot is free again
        BridgeTestContext.await(() -> t.bridge.count(HybridVsock.Counter.HOST_GONE_BEFORE_COMMAND) == 1);
        t.connectFromHost(t.guestListen(1234));
        assertThat(t.bridge.connections()).isEqualTo(1);
    }

    @Test
    @Timeout(30)
    void shouldCarryTheGuestsHalfCloseToTheUnixClient() throws Exception {
        VsockSocket l = t.guestListen(1234);
        SocketChannel c = t.unixConnect();
        BridgeTestContext.write(c, "CONNECT 1234\n");
        VsockSocket g = t.machines.track(l.accept());
        g.send(ByteBuffer.wrap("from the guest".getBytes(StandardCharsets.US_ASCII)), 0);
        g.shutdown(Sock.SHUT_WR);
        assertThat(BridgeTestContext.readAll(c)).isEqualTo("OK " + FIRST_HOST_PORT + "\nfrom the guest");

        BridgeTestContext.write(c, "still heard");
        c.shutdownOutput();
        assertThat(BridgeTestContext.recvAll(g)).isEqualTo("still heard");
        BridgeTestContext.await(() -> t.bridge.connections() == 0);
    }

    @Test
    @Timeout(30)
    void shouldCarryTheUnixClientsHalfCloseToTheGuest() throws Exception {
        VsockSocket l = t.guestListen(1234);
        SocketChannel c = t.unixConnect();
        BridgeTestContext.write(c, "CONNECT 1234\nfrom the host");
        c.shutdownOutput();
        VsockSocket g = t.machines.track(l.accept());
        assertThat(BridgeTestContext.recvAll(g)).isEqualTo("from the host");

        g.send(ByteBuffer.wrap("still heard".getBytes(StandardCharsets.US_ASCII)), 0);
        g.close();
        assertThat(BridgeTestContext.readAll(c)).isEqualTo("OK " + FIRST_HOST_PORT + "\nstill heard");
        BridgeTestContext.await(() -> t.bridge.connections() == 0);
    }

    @Test
    @Timeout(30)
    void shouldResetTheGuestsConnectWhenNobodyListensOnThePortsSocket() throws Exception {
        VsockSocket g = t.machines.track(VsockSocket.open(t.guest, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> g.connect(VmSockets.VMADDR_CID_HOST, 5000))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ECONNRESET));

        // A socket file whose listener is gone (the JDK leaves the file): refused the same way.
        ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        gone.bind(UnixDomainSocketAddress.of(HybridVsock.portPath(t.path, 5001)));
        gone.close();
        VsockSocket g2 = t.machines.track(VsockSocket.open(t.guest, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> g2.connect(VmSockets.VMADDR_CID_HOST, 5001))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ECONNRESET));
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_REFUSED)).isEqualTo(2);
        assertThat(t.bridge.pendingGuestRequests()).isZero();
    }

    @Test
    @Timeout(30)
    void shouldResetAGuestSeqpacketConnectEvenWithAListenerOnThePortsSocket() throws Exception {
        t.listen(ExternalProgram.JDK, 5000);
        VsockSocket g = t.machines.track(VsockSocket.open(t.guest, Sock.SOCK_SEQPACKET));
        assertThatThrownBy(() -> g.connect(VmSockets.VMADDR_CID_HOST, 5000))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ECONNRESET));
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_REFUSED)).isEqualTo(1);
        assertThat(t.bridge.pendingGuestRequests()).isZero();
    }

    @Test
    @Timeout(30)
    void shouldCloseAGuestConnectionToTheBridgesOwnListener() throws Exception {
        VsockSocket g = t.machines.track(VsockSocket.open(t.guest, Sock.SOCK_STREAM));
        g.connect(VmSockets.VMADDR_CID_HOST, t.bridge.listenerPort());
        assertThat(g.recv(ByteBuffer.allocate(16), 0)).isZero();
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_STRAY)).isEqualTo(1);
    }

    @Test
    @Timeout(30)
    void shouldRefuseAPathThatExists() {
        long threads = BridgeTestContext.bridgeThreads();
        assertThatThrownBy(() -> HybridVsock.expose(t.guest, t.path)).isInstanceOf(BindException.class);
        assertThat(BridgeTestContext.bridgeThreads()).isEqualTo(threads);
    }

    @Test
    @Timeout(30)
    void shouldCloseWithTheGuest() throws Exception {
        ExternalProgram.Peer c = t.connectFromHost(t.guestListen(1234)).unix();
        t.guest.close();
        assertThat(BridgeTestContext.readAll(c)).isEmpty();
        assertThat(t.path).doesNotExist();
        assertThat(BridgeTestContext.bridgeThreads()).isZero();
    }
}
