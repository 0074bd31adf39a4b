package io.vsocksim.user;

import static io.vsocksim.user.Outcome.describe;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.internal.JdkErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code SocketChannel.socket()} and {@code ServerSocketChannel.socket()} side by side on JDK TCP loopback
 * channels and on the NIO face (guest→host and loopback): the same calls give the same results and throw the
 * same exception classes and messages as JDK 17's {@code SocketAdaptor} and {@code ServerSocketAdaptor}.
 * Netty's NIO transport goes through these adaptors for addresses, options and half-closes.
 */
class NioSocketAdaptorTest extends NetTestBase {
    /** SO_TIMEOUT and connect timeouts the tests set (never compared with elapsed time). */
    private static final int TIMEOUT_MS = 200;

    /** Where a scenario runs: the providers of the two sides, where servers bind, how clients reach them. */
    private record Net(String name, SelectorProvider servers, SelectorProvider clients, SocketAddress bindAddress,
            int serverCid) {
        SocketAddress reach(ServerSocket l) {
            return serverCid < 0 ? new InetSocketAddress(InetAddress.getLoopbackAddress(), l.getLocalPort())
                    : VsockAddress.of(serverCid, l.getLocalPort());
        }
    }

    private List<Net> nets() throws IOException {
        return List.of(new Net("tcp", SelectorProvider.provider(), SelectorProvider.provider(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), -1),
                new Net("guest to host", worlds.hostNet().selectorProvider(), worlds.guestNet().selectorProvider(),
                        VsockAddress.ofAnyPort(), VsockAddress.CID_HOST),
                new Net("loopback", worlds.localNet().selectorProvider(), worlds.localNet().selectorProvider(),
                        VsockAddress.ofAnyPort(), VsockAddress.CID_LOCAL));
    }


    private static String readExactly(InputStream in, int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.US_ASCII);
    }

    /** The server adaptor from unbound to closed, and accept with and without SO_TIMEOUT. */
    private List<String> serverScenario(Net n) throws Exception {
        List<String> out = new ArrayList<>();
        ServerSocketChannel lch = worlds.track(n.servers().openServerSocketChannel());
        ServerSocket ss = lch.socket();
        out.add("one adaptor per channel " + (lch.socket() == ss) + ", its channel " + (ss.getChannel() == lch));
        out.add("unbound " + ss + " " + ss.isBound() + " " + ss.getLocalPort() + " " + ss.getLocalSocketAddress());
        out.add("accept unbound " + describe(ss::accept));
        ss.bind(n.bindAddress());
        out.add("bind twice " + describe(() -> {
            ss.bind(n.bindAddress());
            return null;
        }));
        out.add("bound " + ss.isBound() + " " + (ss.getLocalPort() != -1) + " " // vsock ports may read negative
                + (ss.getLocalSocketAddress() != null)
                + " " + ss.toString().startsWith("ServerSocket[addr="));
        out.add("receive buffer 0 " + describe(() -> {
            ss.setReceiveBufferSize(0);
            return null;
        }));
        ss.setReuseAddress(true);
        out.add("reuse address " + ss.getReuseAddress());
        ss.setSoTimeout(TIMEOUT_MS);
        out.add("accept timed out " + describe(ss::accept) + ", open " + !ss.isClosed() + ", so timeout " + ss.getSoTimeout());
        lch.configureBlocking(false);
        out.add("timed accept non-blocking " + describe(ss::accept));
        ss.setSoTimeout(0);
        out.add("accept non-blocking, nothing waiting " + describe(ss::accept));
        SocketChannel c = worlds.track(n.clients().openSocketChannel());
        c.connect(n.reach(ss));
        lch.configureBlocking(true); // a blocking accept waits for the connection to arrive
        Socket a = worlds.track(ss.accept());
        out.add("accepted " + a.isConnected() + ", the channel's adaptor " + (a.getChannel().socket() == a)
                + ", ports " + (a.getLocalPort() == ss.getLocalPort()) + " " + (a.getPort() == c.socket().getLocalPort()));
        ss.close();
        out.add("closed " + ss.isClosed() + " " + lch.isOpen() + ", still bound " + ss.isBound());
        out.add("accept closed " + describe(ss::accept));
        out.add("so timeout closed " + describe(ss::getSoTimeout));
        return out;
    }

    /** A scenario's lines on one net. */
    @FunctionalInterface
    private interface Scenario {
        List<String> run(Net n) throws Exception;
    }

    /** Runs {@code s} on every net, asserts that vsock's lines are TCP's, and returns TCP's. */
    private List<String> sameOnEveryNet(Scenario s) throws Exception {
        List<Net> nets = nets();
        List<String> tcp = s.run(nets.get(0));
        for (Net n : nets.subList(1, nets.size())) {
            assertThat(s.run(n)).as(n.name()).containsExactlyElementsOf(tcp);
        }
        return tcp;
    }

    @Test
    void shouldAcceptBindAndTimeOutAsTheJdkServerSocketAdaptor() throws Exception {
        assertThat(sameOnEveryNet(this::serverScenario)).contains(
                "accept unbound java.net.SocketException: Socket is not bound yet",
                "bind twice java.net.SocketException: Already bound",
                "receive buffer 0 java.lang.IllegalArgumentException: size cannot be 0 or negative",
                "accept timed out java.net.SocketTimeoutException: Accept timed out, open true, so timeout 200",
                "timed accept non-blocking java.nio.channels.IllegalBlockingModeException: null",
                "accept non-blocking, nothing waiting java.nio.channels.IllegalBlockingModeException: null",
                "accept closed java.nio.channels.AsynchronousCloseException: null",
                "so timeout closed java.net.SocketException: Socket is closed");
    }

    /** The socket adaptor from unconnected to closed: connect, streams, SO_TIMEOUT, options, half-closes. */
    private List<String> socketScenario(Net n) throws Exception {
        List<String> out = new ArrayList<>();
        ServerSocket ss = worlds.track(n.servers().openServerSocketChannel()).socket();
        ss.bind(n.bindAddress());
        SocketAddress there = n.reach(ss);
        SocketChannel cch = worlds.track(n.clients().openSocketChannel());
        Socket s = cch.socket();
        out.add("one adaptor per channel " + (cch.socket() == s) + ", its channel " + (s.getChannel() == cch));
        out.add("unconnected " + s + " " + s.isConnected() + " " + s.isBound() + " " + s.getPort() + " " + s.getLocalPort()
                + " " + s.getRemoteSocketAddress() + " " + s.getLocalSocketAddress() + " " + s.getInetAddress());
        out.add("input unconnected " + describe(s::getInputStream));
        out.add("output unconnected " + describe(s::getOutputStream));
        out.add("shutdownInput unconnected " + describe(() -> {
            s.shutdownInput();
            return null;
        }));
        out.add("connect null " + describe(() -> {
            s.connect(null);
            return null;
        }));
        out.add("connect negative timeout " + describe(() -> {
            s.connect(there, -1);
            return null;
        }));
        out.add("connect foreign address " + describe(() -> {
            s.connect(new SocketAddress() { });
            return null;
        }));
        cch.configureBlocking(false);
        out.add("connect non-blocking " + describe(() -> {
            s.connect(there);
            return null;
        }) + ", open " + cch.isOpen());
        cch.configureBlocking(true);
        s.connect(there, 10 * TIMEOUT_MS);
        out.add("connected " + s.isConnected() + " " + s.isBound() + " " + (s.getPort() == ss.getLocalPort())
                + " " + (s.getLocalPort() != -1) + " " + s.toString().startsWith("Socket[addr=")
                + " " + s.getRemoteSocketAddress().equals(there));
        out.add("connect again " + describe(() -> {
            s.connect(there);
            return null;
        }));
        Socket a = worlds.track(ss.accept());
        OutputStream os = s.getOutputStream();
        InputStream in = a.getInputStream();
        os.write("hello".getBytes(StandardCharsets.US_ASCII));
        out.add("read " + readExactly(in, 5));
        os.write("xyz".getBytes(StandardCharsets.US_ASCII));
        out.add("read one byte " + (char) in.read() + ", available " + in.available());
        a.setSoTimeout(TIMEOUT_MS);
        out.add("read rest " + readExactly(in, 2) + ", then " + describe(in::read));
        os.write(42);
        out.add("usable after the timeout " + in.read() + ", so timeout " + a.getSoTimeout());
        a.getChannel().configureBlocking(false);
        InputStream nonBlocking = a.getInputStream();
        out.add("stream of a non-blocking channel " + describe(nonBlocking::read));
        out.add("write to a non-blocking channel " + describe(() -> {
            a.getOutputStream().write(1);
            return null;
        }));
        a.getChannel().configureBlocking(true);
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.setSoLinger(true, 5);
        s.setReuseAddress(true);
        out.add("options " + s.getTcpNoDelay() + " " + s.getKeepAlive() + " " + s.getSoLinger() + " " + s.getReuseAddress());
        s.setSoLinger(false, 0);
        out.add("linger off " + s.getSoLinger());
        out.add("send buffer 0 " + describe(() -> {
            s.setSendBufferSize(0);
            return null;
        }));
        out.add("receive buffer -1 " + describe(() -> {
            s.setReceiveBufferSize(-1);
            return null;
        }));
        out.add("so timeout -1 " + describe(() -> {
            s.setSoTimeout(-1);
            return null;
        }));
        s.shutdownOutput();
        out.add("shutdownOutput " + s.isOutputShutdown() + ", the peer reads " + in.read());
        out.add("output after shutdownOutput " + describe(s::getOutputStream));
        out.add("old stream after shutdownOutput " + describe(() -> {
            os.write(1);
            return null;
        }));
        a.shutdownInput();
        out.add("shutdownInput " + a.isInputShutdown() + ", reads " + in.read());
        out.add("input after shutdownInput " + describe(a::getInputStream));
        a.getOutputStream().write(7);
        out.add("the other direction " + s.getInputStream().read());
        s.close();
        out.add("closed " + s.isClosed() + " " + cch.isOpen() + " " + s.isConnected() + " " + s + " "
                + (s.getLocalSocketAddress() != null));
        out.add("input closed " + describe(s::getInputStream));
        out.add("so timeout closed " + describe(() -> {
            s.setSoTimeout(1);
            return null;
        }));
        out.add("shutdownInput closed " + describe(() -> {
            s.shutdownInput();
            return null;
        }));
        out.add("option closed " + describe(s::getKeepAlive));
        return out;
    }

    @Test
    void shouldConnectStreamAndHalfCloseAsTheJdkSocketAdaptor() throws Exception {
        assertThat(sameOnEveryNet(this::socketScenario)).contains(
                "unconnected Socket[unconnected] false false 0 -1 null null null",
                "input unconnected java.net.SocketException: Socket is not connected",
                "shutdownInput unconnected java.net.SocketException: Socket is not connected",
                "connect null java.lang.IllegalArgumentException: connect: The address can't be null",
                "connect foreign address java.net.SocketException: Unsupported address type",
                "connect non-blocking java.nio.channels.IllegalBlockingModeException: null, open true",
                "connect again java.nio.channels.AlreadyConnectedException: null",
                "read one byte x, available 2",
                "read rest yz, then java.net.SocketTimeoutException: Read timed out",
                "stream of a non-blocking channel java.nio.channels.IllegalBlockingModeException: null",
                "options true true 5 true",
                "linger off -1",
                "output after shutdownOutput java.net.SocketException: Socket output is shutdown",
                "old stream after shutdownOutput java.nio.channels.ClosedChannelException: null",
                "input after shutdownInput java.net.SocketException: Socket input is shutdown",
                "closed true false false Socket[unconnected] true",
                "shutdownInput closed java.nio.channels.ClosedChannelException: null",
                "option closed java.net.SocketException: Socket is closed");
    }

    @Test
    void shouldNameVsockEndsWithVsockAddressesAndNoInetAddress() throws Exception {
        ServerSocket ss = worlds.track(worlds.hostNet().selectorProvider().openServerSocketChannel()).socket();
        ss.bind(VsockAddress.ofAnyCIDPort(4321));
        Socket c = worlds.track(worlds.guestNet().selectorProvider().openSocketChannel()).socket();
        c.connect(VsockAddress.ofHostPort(4321));
        Socket a = worlds.track(ss.accept());
        assertThat(ss.getLocalSocketAddress()).isEqualTo(VsockAddress.ofAnyCIDPort(4321));
        assertThat(ss.getInetAddress()).isNull();
        assertThat(ss).hasToString("ServerSocket[addr=vsock://any:4321,localport=4321]");
        assertThat(c.getRemoteSocketAddress()).isEqualTo(VsockAddress.ofHostPort(4321));
        assertThat(c.getLocalSocketAddress()).isEqualTo(VsockAddress.of(VsockAddress.CID_ANY, c.getLocalPort()));
        assertThat(a.getRemoteSocketAddress()).isEqualTo(VsockAddress.of(3, c.getLocalPort()));
        assertThat(a.getLocalSocketAddress()).isEqualTo(VsockAddress.ofHostPort(4321));
        assertThat(new Object[] {c.getInetAddress(), c.getLocalAddress(), a.getInetAddress()}).containsOnlyNulls();
        assertThat(c).hasToString("Socket[addr=vsock://2:4321,port=4321,localport="
                + c.getLocalPort() + "]");
    }

    /**
     * Guest 3 connects to the hypervisor's CID (0), which never answers (see {@code JavaNetBlockingTest}); TCP
     * is not run: an address that never answers is not reliable on a CI machine.
     */
    @Test
    void shouldThrowConnectTimedOutAndCloseTheChannelWhenTheTimeoutPasses() throws Exception {
        SocketChannel ch = worlds.track(worlds.guestNet().selectorProvider().openSocketChannel());
        Socket s = ch.socket();
        assertThat(Outcome.of(() -> s.connect(VsockAddress.ofHypervisorPort(1234), TIMEOUT_MS)))
                .isEqualTo(Outcome.thrown(java.net.SocketTimeoutException.class, JdkErrors.CONNECT_TIMED_OUT));
        assertThat(s.isClosed()).as("a failed connect closes the channel, as the JDK's blockingConnect").isTrue();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void shouldIgnoreTheTrafficClassAndRefuseUrgentDataAsAfVsockDoes() throws Exception {
        ServerSocket ss = worlds.track(worlds.localNet().selectorProvider().openServerSocketChannel()).socket();
        ss.bind(VsockAddress.ofAnyPort());
        Socket c = worlds.track(worlds.localNet().selectorProvider().openSocketChannel()).socket();
        c.connect(VsockAddress.ofLocalPort(ss.getLocalPort()));
        worlds.track(ss.accept());
        c.setTrafficClass(0x10);
        assertThat(c.getTrafficClass()).as("no IP header to mark").isZero();
        assertThat(Outcome.of(() -> c.setTrafficClass(256)))
                .isEqualTo(Outcome.thrown(IllegalArgumentException.class, "Invalid IP_TOS value"));
        c.setOOBInline(true);
        assertThat(c.getOOBInline()).isTrue();
        c.setSendBufferSize(65536);
        assertThat(c.getReceiveBufferSize()).as("one buffer size for both").isEqualTo(65536);
        assertThat(Outcome.of(() -> c.sendUrgentData(1)))
                .as("af_vsock refuses MSG_OOB: EOPNOTSUPP, as the JDK's Net.sendOOB reports it")
                .isEqualTo(Outcome.thrown(IOException.class, "Operation not supported"));
    }
}
