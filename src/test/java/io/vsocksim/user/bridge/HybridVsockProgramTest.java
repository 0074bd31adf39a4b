package io.vsocksim.user.bridge;

import static io.vsocksim.user.bridge.BridgeTestContext.FIRST_HOST_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a program outside the JVM sees of the bridge, each exchange run with a JDK Unix channel and with
 * socat ({@link ExternalProgram}): the README's echo as Firecracker docs/vsock.md drives it, a guest's
 * connect reaching a program listening on {@code <path>_<port>}, and the error cases: a port nobody
 * listens on, malformed and oversized command lines, a program that vanishes mid-stream. The bridge's
 * context checks after each that nothing stayed behind (connections, buffered bytes, host ports,
 * threads, guest sockets and pages).
 */
class HybridVsockProgramTest extends BridgeTestBase {
    private static final String REQUEST = "CONNECT 1234\nhello through the bridge\n";
    private static final String ANSWER = "OK " + FIRST_HOST_PORT + "\nhello through the bridge\n";

    /** One guest connection on 1234 answered with what it received, then closed. */
    private Future<String> echoOnce() throws ErrnoException {
        VsockSocket l = t.guestListen(1234);
        return t.async(() -> {
            VsockSocket g = t.machines.track(l.accept());
            String got = BridgeTestContext.recvAll(g);
            g.send(ByteBuffer.wrap(got.getBytes(StandardCharsets.US_ASCII)), 0);
            g.close();
            return got;
        });
    }

    /**
     * Connects {@code program}, writes {@code line} (the program goes on listening), and returns all the
     * bridge sent before closing; then ends what the program sends so that it can exit.
     */
    private String answerTo(ExternalProgram program, byte[] line) throws Exception {
        ExternalProgram.Peer c = t.connect(program);
        c.write(ByteBuffer.wrap(line));
        String answer = BridgeTestContext.readAll(c);
        c.shutdownOutput();
        BridgeTestContext.assertExitedCleanly(c);
        return answer;
    }

    private String answerTo(ExternalProgram program, String line) throws Exception {
        return answerTo(program, line.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(60)
    void shouldEchoWhenTheHostConnectsAsFirecrackerDocumentsIt(ExternalProgram program) throws Exception {
        Future<String> echo = echoOnce();
        ExternalProgram.Peer c = t.connect(program);
        BridgeTestContext.write(c, REQUEST);
        c.shutdownOutput();
        assertThat(BridgeTestContext.readAll(c)).isEqualTo(ANSWER);
        assertThat(echo.get()).isEqualTo("hello through the bridge\n");
        BridgeTestContext.assertExitedCleanly(c);
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(60)
    void shouldReachTheProgramListeningOnThePortsSocketWhenTheGuestConnects(ExternalProgram program) throws Exception {
        BridgeTestContext.Connected conn = t.connectFromGuest(program, 5000);
        ExternalProgram.Peer c = conn.unix();
        VsockSocket g = conn.guest();

        g.send(ByteBuffer.wrap("hello from the guest\n".getBytes(StandardCharsets.US_ASCII)), 0);
        g.shutdown(Sock.SHUT_WR);
        assertThat(BridgeTestContext.readAll(c)).isEqualTo("hello from the guest\n");
        BridgeTestContext.write(c, "hello from the program\n");
        c.shutdownOutput();
        assertThat(BridgeTestContext.recvAll(g)).isEqualTo("hello from the program\n");

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_FORWARDED)).isEqualTo(1);
        BridgeTestContext.assertExitedCleanly(c);
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(30)
    void shouldCloseWithoutAnswerWhenNoGuestListenerIsThere(ExternalProgram program) throws Exception {
        assertThat(answerTo(program, "CONNECT 4321\n")).isEmpty();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_REFUSED)).isEqualTo(1);
        assertThat(t.bridge.hostPortsInUse()).isZero();
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(60)
    void shouldCloseWithoutAnswerWhenTheCommandIsMalformed(ExternalProgram program) throws Exception {
        t.guestListen(1234);
        List<String> lines = List.of("HELLO 1234\n", "CONNECT\n", "\n", "CONNECT -1\n", "CONNECT 4294967296\n",
                "CONNECT 12a\n", "CONNECT1234\n", "CONNECT \u00e9\n");
        for (String line : lines) {
            assertThat(answerTo(program, line)).as(line).isEmpty();
        }
        byte[] notUtf8 = {'C', 'O', 'N', 'N', 'E', 'C', 'T', ' ', (byte) 0xff, '\n'};
        assertThat(answerTo(program, notUtf8)).isEmpty();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_MALFORMED)).isEqualTo(lines.size() + 1);
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_CONNECTED)).isZero();
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(30)
    void shouldCloseWithoutAnswerWhenThirtyTwoBytesComeWithoutANewline(ExternalProgram program) throws Exception {
        assertThat(answerTo(program, "CONNECT 1234" + " ".repeat(20))).isEmpty();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_OVERSIZED)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(60)
    void shouldEndTheGuestsConnectionWhenTheProgramVanishesMidStream(ExternalProgram program) throws Exception {
        BridgeTestContext.Connected conn = t.connectFromHost(program, t.guestListen(1234));
        ExternalProgram.Peer c = conn.unix();
        VsockSocket g = conn.guest();
        Future<Integer> sender = t.async(() -> {
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            try {
                for (;;) {
                    g.send(b.clear(), Sock.MSG_NOSIGNAL);
                }
            } catch (ErrnoException e) {
                return e.errno();
            }
        });
        assertThat(c.read(ByteBuffer.allocate(4096))).isPositive();
        c.vanish(); // unread bytes in its queue: the bridge's next write fails

        assertThat(sender.get()).isEqualTo(Errno.EPIPE);
        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isEqualTo(1);
        assertThat(t.bridge.hostPortsInUse()).isZero();
    }
}
