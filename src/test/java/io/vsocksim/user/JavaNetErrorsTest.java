package io.vsocksim.user;

import static io.vsocksim.user.Outcome.thrown;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.NetWorlds.World;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The exceptions of java.net, side by side: each scenario runs on a JDK TCP socket over 127.0.0.1 and
 * on the vsock face (guest→host and loopback), and the class and message are asserted to be the
 * JDK's, or the difference vsock makes is pinned.
 */
class JavaNetErrorsTest extends NetTestBase {

    private List<World> vsockWorlds() throws Exception {
        return List.of(worlds.guestToHost(), worlds.loopback());
    }

    /** Connects a new client of {@code w} to where nobody listens. */
    private static Outcome connectToNobody(World w) throws Exception {
        Socket s = w.socket();
        return Outcome.of(() -> s.connect(w.nobodyListens()));
    }

    @Test
    void shouldThrowConnectExceptionWhenNobodyListens() throws Exception {
        assertThat(connectToNobody(worlds.tcp())).isEqualTo(thrown(ConnectException.class, "Connection refused"));
        for (World w : vsockWorlds()) {
            // vsock answers a connect to a port without listener with RST: ECONNRESET, not ECONNREFUSED
            assertThat(connectToNobody(w)).isEqualTo(thrown(ConnectException.class, "Connection reset by peer"));
        }
    }

    @Test
    void shouldThrowSocketClosedWhenConnectingAgainAfterAFailedConnect() throws Exception {
        for (World w : List.of(worlds.tcp(), worlds.guestToHost(), worlds.loopback())) {
            Socket s = w.socket();
            assertThat(Outcome.of(() -> s.connect(w.nobodyListens())).returned()).isFalse();
            assertThat(s.isClosed()).as("the impl is closed, the Socket does not know").isFalse();
            assertThat(Outcome.of(() -> s.connect(w.nobodyListens()))).isEqualTo(thrown(SocketException.class, "Socket closed"));
        }
    }

    @Test
    void shouldThrowBindExceptionWhenTheAddressIsInUse() throws Exception {
        ServerSocket tcp = worlds.track(new ServerSocket(0));
        Outcome tcpOutcome = Outcome.of(() -> worlds.track(new ServerSocket(tcp.getLocalPort())));
        ServerSocket vsock = worlds.track(worlds.hostNet().serverSocket(VsockAddress.ofAnyPort(), 1));
        Outcome vsockOutcome = Outcome.of(() -> worlds.track(worlds.hostNet().serverSocket(vsock.getLocalPort())));
        assertThat(tcpOutcome).isEqualTo(thrown(BindException.class, "Address already in use"));
        assertThat(vsockOutcome).isEqualTo(tcpOutcome);
    }

    @Test
    void shouldThrowSocketIsClosedForCallsOnAClosedSocket() throws Exception {
        for (World w : List.of(worlds.tcp(), worlds.guestToHost(), worlds.loopback())) {
            Socket[] p = NetWorlds.connect(worlds, w);
            p[0].close();
            assertThat(Outcome.of(p[0]::getInputStream)).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            assertThat(Outcome.of(p[0]::getOutputStream)).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            assertThat(Outcome.of(() -> p[0].setSoTimeout(1))).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            assertThat(Outcome.of(p[0]::shutdownOutput)).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            assertThat(Outcome.of(() -> p[0].connect(w.nobodyListens()))).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            ServerSocket l = w.listen();
            l.close();
            assertThat(Outcome.of(l::accept)).isEqualTo(thrown(SocketException.class, "Socket is closed"));
            assertThat(p[0].isClosed()).isTrue();
            assertThat(p[0].isConnected()).as("a closed socket stays connected, as in the JDK").isTrue();
        }
    }

    @Test
    void shouldThrowSocketClosedWhenAStreamIsUsedAfterClose() throws Exception {
        for (World w : List.of(worlds.tcp(), worlds.guestToHost(), worlds.loopback())) {
            Socket[] p = NetWorlds.connect(worlds, w);
            InputStream in = p[0].getInputStream();
            OutputStream out = p[0].getOutputStream();
            p[0].close();
            assertThat(Outcome.of(in::read)).isEqualTo(thrown(SocketException.class, "Socket closed"));
            assertThat(Outcome.of(() -> out.write(1))).isEqualTo(thrown(SocketException.class, "Socket closed"));
        }
    }

    @Test
    void shouldThrowBrokenPipeWhenWritingAfterShutdownOutput() throws Exception {
        for (World w : List.of(worlds.tcp(), worlds.guestToHost(), worlds.loopback())) {
            Socket[] p = NetWorlds.connect(worlds, w);
            OutputStream out = p[0].getOutputStream();
            p[0].shutdownOutput();
            assertThat(p[0].isOutputShutdown()).isTrue();
            assertThat(Outcome.of(() -> out.write(1))).isEqualTo(thrown(SocketException.class, "Broken pipe"));
            assertThat(Outcome.of(p[0]::getOutputStream)).isEqualTo(thrown(SocketException.class, "Socket output is shutdown"));
        }
    }

    /** The first failure of writes to a socket whose peer closed and whose end of stream was read. */
    private static Outcome firstWriteFailureAfterPeerClose(NetWorlds worlds, World w) throws Exception {
        Socket[] p = NetWorlds.connect(worlds, w);
        p[1].close();
        assertThat(p[0].getInputStream().read()).as("the peer's close arrived").isEqualTo(-1);
        // The JDK's close is shutdown(SHUT_WR), then close(2). On vsock the first sends SHUTDOWN(SEND),
        // which is the end of stream just read; the second sends SHUTDOWN(RCV|SEND), which is what makes
        // a send EPIPE. Until it lands a send succeeds, on Linux too: let it land before writing.
        worlds.settle();
        OutputStream out = p[0].getOutputStream();
        for (int i = 0; i < 100; i++) {
            Outcome o = Outcome.of(() -> out.write(new byte[100]));
            if (!o.returned()) {
                return o;
            }
        }
        return Outcome.RETURNED;
    }

    @Test
    void shouldThrowBrokenPipeWhenWritingAfterThePeerClosed() throws Exception {
        // TCP: the first write still leaves, the peer answers it with RST, and the next write fails with
        // ECONNRESET ("Connection reset by peer") or, once that error was reported, EPIPE.
        assertThat(firstWriteFailureAfterPeerClose(worlds, worlds.tcp()).message())
                .isIn("Connection reset by peer", "Broken pipe");
        for (World w : vsockWorlds()) {
            // vsock: the peer's SHUTDOWN(RCV|SEND) already makes the first send EPIPE; there is no RST
            assertThat(firstWriteFailureAfterPeerClose(worlds, w)).isEqualTo(thrown(SocketException.class, "Broken pipe"));
        }
    }

    /** Reads after the peer closed with SO_LINGER 0 while data it had not read was waiting. */
    private static Outcome readAfterAbortiveClose(NetWorlds worlds, World w) throws Exception {
        Socket[] p = NetWorlds.connect(worlds, w);
        p[0].getOutputStream().write(new byte[] {1, 2, 3}); // unread by the peer
        p[1].setSoLinger(true, 0);
        p[1].close();
        InputStream in = p[0].getInputStream();
        return Outcome.of(() -> assertThat(in.read()).isEqualTo(-1));
    }

    @Test
    void shouldReadConnectionResetOnTcpButEndOfStreamOnVsockWhenThePeerClosesWithLingerZero() throws Exception {
        assertThat(readAfterAbortiveClose(worlds, worlds.tcp())).isEqualTo(thrown(SocketException.class, "Connection reset"));
        for (World w : vsockWorlds()) {
            // vsock's close sends SHUTDOWN whatever SO_LINGER says, and a RST after it is an orderly end
            assertThat(readAfterAbortiveClose(worlds, w)).isEqualTo(Outcome.RETURNED);
        }
    }

    @Test
    void shouldThrowConnectionResetInAReadWhenTheHostResetsTheGuestsTransport() throws Exception {
        worlds.guestNet(); // boots the guest
        ServerSocket l = worlds.track(worlds.hostNet().serverSocket(VsockAddress.ofAnyPort(), 1));
        UserProcess reader = UserProcess.spawn(worlds.guest(), "reader");
        worlds.track(reader::close);
        Socket c = worlds.track(VsockNet.of(reader).socket()); // descriptor 0 of the reader
        c.connect(VsockAddress.ofHostPort(l.getLocalPort()));
        worlds.track(l.accept());
        InputStream in = c.getInputStream();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Outcome> read = pool.submit(() -> Outcome.of(in::read));
            VsockSocket s = reader.fdopen(0);
            while (s.sock().sleep.waiters() == 0) {
                Thread.onSpinWait(); // until the read sleeps in vsock_connectible_wait_data
            }
            // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: the guest resets its connections with ECONNRESET,
            // which a sleeping reader gets (a later recv() would be ENOTCONN: the socket is TCP_CLOSE)
            assertThat(worlds.host().sendTransportReset(worlds.guest())).isZero();
            assertThat(read.get()).isEqualTo(thrown(SocketException.class, "Connection reset"));
            assertThat(Outcome.of(in::read)).as("sticky, as NioSocketImpl's connectionReset")
                    .isEqualTo(thrown(SocketException.class, "Connection reset"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldRejectTheOtherFamilysAddressWithUnsupportedAddressType() throws Exception {
        Socket tcp = worlds.tcp().socket();
        Socket vsock = worlds.loopback().socket();
        Outcome tcpOutcome = Outcome.of(() -> tcp.connect(VsockAddress.ofLocalPort(1)));
        assertThat(tcpOutcome).isEqualTo(thrown(IllegalArgumentException.class, "Unsupported address type"));
        assertThat(Outcome.of(() -> vsock.connect(new InetSocketAddress(1)))).isEqualTo(tcpOutcome);
        assertThat(Outcome.of(() -> vsock.bind(new InetSocketAddress(1)))).isEqualTo(tcpOutcome);
    }
}
