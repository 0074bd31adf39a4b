package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.TestMachine;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Sock;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SocketChannel and ServerSocketChannel of the NIO face over loopback (CID 1): data, modes, addresses, options. */
@Timeout(60)
class VsockChannelTest extends NioTestBase {
    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String ascii(ByteBuffer b) {
        b.flip();
        return StandardCharsets.US_ASCII.decode(b).toString();
    }

    /** Reads exactly {@code n} bytes in blocking mode. */
    private static String readFully(SocketChannel ch, int n, boolean direct) throws IOException {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            assertThat(ch.read(b)).isPositive();
        }
        return ascii(b);
    }

    @Test
    void shouldMoveBytesBothWaysInBlockingModeWithHeapAndDirectBuffers() throws IOException {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            assertThat(c.isBlocking()).isTrue();
            assertThat(a.isBlocking()).as("accepted channels are blocking, as the JDK's").isTrue();
            assertThat(c.write(ascii("hello"))).isEqualTo(5);
            assertThat(readFully(a, 5, false)).isEqualTo("hello");
            ByteBuffer direct = ByteBuffer.allocateDirect(6).put("world!".getBytes(StandardCharsets.US_ASCII)).flip();
            assertThat(a.write(direct)).isEqualTo(6);
            assertThat(direct.hasRemaining()).isFalse();
            assertThat(readFully(c, 6, true)).isEqualTo("world!");
            assertThat(c.read(ByteBuffer.allocate(0))).as("no room: 0, not end of stream").isZero();
            assertThat(c.write(ByteBuffer.allocate(0))).isZero();
        }
    }

    @Test
    void shouldReturnZeroInsteadOfBlockingInNonBlockingMode() throws IOException {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            a.configureBlocking(false);
            assertThat(a.read(ByteBuffer.allocate(8))).isZero();
            assertThat(c.write(ascii("x"))).isEqualTo(1);
            a.configureBlocking(true); // wait for it without polling in a loop
            assertThat(readFully(a, 1, false)).isEqualTo("x");
            c.close();
            assertThat(a.read(ByteBuffer.allocate(8))).as("end of stream").isEqualTo(-1);
        }
    }

    @Test
    void shouldConnectNonBlockingAndFinishTheConnection() throws IOException {
        try (ServerSocketChannel l = t.listen(5000); SocketChannel c = t.client.openSocketChannel()) {
            c.configureBlocking(false);
            boolean now = c.connect(VsockAddress.ofLocalPort(5000));
            assertThat(now).as("the handshake needs the loopback work: EINPROGRESS").isFalse();
            assertThat(c.isConnectionPending()).isTrue();
            assertThat(c.getRemoteAddress()).isEqualTo(VsockAddress.ofLocalPort(5000));
            c.configureBlocking(true);
            assertThat(c.finishConnect()).isTrue();
            assertThat(c.isConnected()).isTrue();
            assertThat(c.isConnectionPending()).isFalse();
            assertThat(c.finishConnect()).as("no-op once connected").isTrue();
            try (SocketChannel a = l.accept()) {
                VsockAddress local = (VsockAddress) c.getLocalAddress();
                // vsock's auto-bind keeps VMADDR_CID_ANY as the client's own CID (getsockname says so);
                // the accepting side sees the CID the packets came from
                assertThat(local.cid()).isEqualTo(VsockAddress.CID_ANY);
                assertThat(a.getRemoteAddress()).isEqualTo(VsockAddress.ofLocalPort(local.port()));
                assertThat(a.getLocalAddress()).isEqualTo(VsockAddress.ofLocalPort(5000));
            }
        }
    }

    @Test
    void shouldReportOpConnectThenFinishTheConnectionThroughASelector() throws IOException {
        try (ServerSocketChannel l = t.listen(5000); SocketChannel c = t.client.openSocketChannel();
                Selector sel = t.client.openSelector()) {
            c.configureBlocking(false);
            assertThat(c.connect(VsockAddress.ofLocalPort(5000))).isFalse();
            SelectionKey k = c.register(sel, SelectionKey.OP_CONNECT);
            assertThat(sel.select()).isEqualTo(1);
            assertThat(k.readyOps()).isEqualTo(SelectionKey.OP_CONNECT);
            assertThat(c.finishConnect()).isTrue();
            k.interestOps(SelectionKey.OP_WRITE);
            assertThat(sel.selectNow()).as("the key is still selected; OP_WRITE is new").isEqualTo(1);
            assertThat(k.readyOps()).isEqualTo(SelectionKey.OP_CONNECT | SelectionKey.OP_WRITE);
            l.accept().close();
        }
    }

    /** Gathering writes and scattering reads on a connected pair {client, accepted}, as outcomes. */
    private static List<String> gatherScatter(SocketChannel[] p) throws IOException {
        List<String> out = new ArrayList<>();
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            ByteBuffer[] src = {ascii("ab"), ByteBuffer.allocate(0), ByteBuffer.allocateDirect(3).put((byte) 'c')
                    .put((byte) 'd').put((byte) 'e').flip(), ascii("fghij")};
            out.add("from the 2nd buffer on " + c.write(src, 1, 3));
            out.add("then the rest " + c.write(src));
            ByteBuffer[] in = {ByteBuffer.allocate(4), ByteBuffer.allocateDirect(3), ByteBuffer.allocate(3)};
            long got = 0;
            while (got < 10) {
                got += a.read(in);
            }
            out.add("read " + got + ": " + ascii(in[0]) + " " + ascii(in[1]) + " " + ascii(in[2]));
            out.add("bad range " + Outcome.of(() -> a.read(in, 2, 2)));
            out.add("read-only " + Outcome.of(() -> a.read(new ByteBuffer[] {ByteBuffer.allocate(1).asReadOnlyBuffer()})));
            out.add("nothing to write " + c.write(new ByteBuffer[] {ByteBuffer.allocate(0)}));
            ByteBuffer[] many = new ByteBuffer[1100];
            for (int i = 0; i < many.length; i++) {
                many[i] = ByteBuffer.allocate(1);
            }
            out.add("at most IOV_MAX buffers a call " + c.write(many));
        }
        return out;
    }

    @Test
    void shouldGatherAndScatterAcrossSeveralBuffersAsJdkTcpChannelsDo() throws IOException {
        List<String> tcp = gatherScatter(NioTestContext.tcpPair());
        assertThat(gatherScatter(t.pair(5000))).containsExactlyElementsOf(tcp);
        assertThat(tcp).containsExactly("from the 2nd buffer on 8", "then the rest 2", "read 10: cdef ghi jab",
                "bad range " + Outcome.thrown(IndexOutOfBoundsException.class, "Range [2, 2 + 2) out of bounds for length 3"),
                "read-only " + Outcome.thrown(IllegalArgumentException.class, "Read-only buffer"), "nothing to write 0",
                "at most IOV_MAX buffers a call 1024");
    }

    @Test
    void shouldEndTheStreamForShutdownInputAndRefuseWritesAfterShutdownOutput() throws IOException {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            c.shutdownOutput();
            assertThat(a.read(ByteBuffer.allocate(4))).as("the peer sees the end of the stream").isEqualTo(-1);
            assertThatThrownBy(() -> c.write(ascii("x"))).isInstanceOf(java.nio.channels.AsynchronousCloseException.class);
            a.shutdownInput();
            assertThat(a.read(ByteBuffer.allocate(4))).isEqualTo(-1);
            assertThat(a.write(ascii("still"))).as("the other direction is open").isEqualTo(5);
            assertThat(readFully(c, 5, false)).isEqualTo("still");
        }
    }

    @Test
    void shouldMapSocketOptionsToVsockOptions() throws IOException {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]; ServerSocketChannel l = t.listen(5001)) {
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).as("vsock's default buffer, 256 KiB")
                    .isEqualTo(262144);
            c.setOption(StandardSocketOptions.SO_SNDBUF, 65536);
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).as("one buffer size for both").isEqualTo(65536);
            c.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 30);
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).as("clamped to the socket's maximum")
                    .isEqualTo(262144);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).isEqualTo(-1);
            c.setOption(StandardSocketOptions.SO_LINGER, 5);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).isEqualTo(5);
            c.setOption(StandardSocketOptions.SO_LINGER, -7);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).isEqualTo(-1);
            c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            assertThat(c.getOption(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
            assertThat(l.getOption(StandardSocketOptions.SO_REUSEADDR)).isFalse();
            l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            assertThat(l.getOption(StandardSocketOptions.SO_REUSEADDR)).isTrue();
            assertThat(c.supportedOptions()).containsExactlyInAnyOrder(StandardSocketOptions.SO_SNDBUF,
                    StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_LINGER,
                    StandardSocketOptions.SO_KEEPALIVE, StandardSocketOptions.SO_REUSEADDR,
                    StandardSocketOptions.TCP_NODELAY);
            assertThat(l.supportedOptions()).containsExactlyInAnyOrder(StandardSocketOptions.SO_RCVBUF,
                    StandardSocketOptions.SO_REUSEADDR);
        }
    }

    /** What the java.net face's {@code VsockNetSocket} accepts, the channel accepts the same way. */
    @Test
    void shouldAcceptTcpNoDelayAsANoOpAndRefuseIpTosAndReusePortAsTheJavaNetFaceDoes() throws IOException {
        try (SocketChannel c = t.client.openSocketChannel()) {
            assertThat(c.setOption(StandardSocketOptions.TCP_NODELAY, false)).isSameAs(c);
            assertThat(c.getOption(StandardSocketOptions.TCP_NODELAY)).as("vsock has no Nagle: always no delay").isTrue();
            assertThat(Outcome.of(() -> c.setOption(StandardSocketOptions.SO_REUSEPORT, true)))
                    .as("6.12.117 refuses SO_REUSEPORT on a socket that is not inet; not offered")
                    .isEqualTo(Outcome.thrown(UnsupportedOperationException.class, "'SO_REUSEPORT' not supported"));
            assertThat(Outcome.of(() -> c.setOption(StandardSocketOptions.IP_TOS, 0x10)))
                    .isEqualTo(Outcome.thrown(UnsupportedOperationException.class, "'IP_TOS' not supported"));
            assertThat(Outcome.of(() -> c.setOption(StandardSocketOptions.TCP_NODELAY, null)))
                    .isEqualTo(Outcome.thrown(IllegalArgumentException.class, "Invalid value 'null'"));
        }
    }

    /** Code that sets only what {@code supportedOptions()} lists (a pattern of TCP code and Netty) runs unchanged. */
    @Test
    void shouldSetEverySupportedOptionBackToItsOwnValue() throws IOException {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]; ServerSocketChannel l = t.listen(5001)) {
            for (java.net.SocketOption<?> o : c.supportedOptions()) {
                setToItself(c, o);
            }
            for (java.net.SocketOption<?> o : l.supportedOptions()) {
                setToItself(l, o);
            }
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).isEqualTo(262144);
        }
    }

    private static <T> void setToItself(java.nio.channels.NetworkChannel ch, java.net.SocketOption<T> o) throws IOException {
        ch.setOption(o, ch.getOption(o));
    }

    @Test
    void shouldThrowConnectExceptionLikeTcpsRefusalForTheResetVsockSendsWhenNobodyListens() throws IOException {
        SocketChannel c = t.client.openSocketChannel();
        assertThatThrownBy(() -> c.connect(VsockAddress.ofLocalPort(5999))).isExactlyInstanceOf(java.net.ConnectException.class)
                .hasMessage("Connection reset by peer");
        assertThat(c.isOpen()).as("a failed connect closes the channel").isFalse();
        SocketChannel n = t.client.openSocketChannel();
        n.configureBlocking(false);
        assertThat(n.connect(VsockAddress.ofLocalPort(5999))).isFalse();
        n.configureBlocking(true);
        assertThatThrownBy(n::finishConnect).isExactlyInstanceOf(java.net.ConnectException.class)
                .hasMessage("Connection reset by peer");
        assertThat(n.isOpen()).isFalse();
    }

    @Test
    void shouldCloseEveryDescriptorItUsed() throws IOException {
        int before = t.clientProc.files().openDescriptors().length;
        SocketChannel[] p = t.pair(5000);
        p[0].close();
        p[1].close();
        assertThat(t.clientProc.files().openDescriptors()).hasSize(before);
        assertThat(t.serverProc.files().openDescriptors()).isEmpty();
    }

    /** The one socket descriptor of {@code p} (others, such as a channel's wake-up eventfd, are not sockets). */
    private static int socketFd(io.vsocksim.user.UserProcess p) {
        int found = -1;
        for (int fd : p.files().openDescriptors()) {
            if (p.getsockopt(fd, Sock.SOL_SOCKET, Sock.SO_TYPE, ByteBuffer.allocate(4), 4) >= 0) {
                assertThat(found).as("one socket").isEqualTo(-1);
                found = fd;
            }
        }
        return found;
    }

    /** As the JDK's {@code timedRead}: O_NONBLOCK only while the timed read waits, blocking again after it. */
    @Test
    void shouldLeaveTheDescriptorBlockingAfterTheSocketAdaptorsTimedRead() throws Exception {
        SocketChannel[] p = t.pair(5000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            Socket s = a.socket();
            s.setSoTimeout(500);
            Future<Integer> timedOut = t.blocked(() -> s.getInputStream().read()).future();
            TestMachine.clock(t.m).advance(TimeUnit.MILLISECONDS.toNanos(500));
            assertThatThrownBy(() -> timedOut.get(10, TimeUnit.SECONDS)).hasCauseExactlyInstanceOf(SocketTimeoutException.class)
                    .cause().hasMessage("Read timed out");
            int fd = socketFd(t.serverProc);
            assertThat(t.serverProc.fcntl(fd, Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK).isZero();
            Future<Integer> read = t.blocked(() -> s.getInputStream().read()).future();
            assertThat(c.write(ascii("x"))).isEqualTo(1);
            assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo('x');
            assertThat(t.serverProc.fcntl(fd, Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK).isZero();
        }
    }

    @Test
    void shouldRefuseDatagramsAndPipes() {
        assertThatThrownBy(t.client::openDatagramChannel).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(t.client::openPipe).isInstanceOf(UnsupportedOperationException.class);
    }
}
