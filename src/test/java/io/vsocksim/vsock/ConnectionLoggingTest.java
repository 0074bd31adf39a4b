package io.vsocksim.vsock;

import static ch.qos.logback.classic.Level.DEBUG;
import static ch.qos.logback.classic.Level.TRACE;
import static io.vsocksim.kernel.LoggerNames.AF_VSOCK;
import static io.vsocksim.kernel.LoggerNames.VIRTIO_TRANSPORT_COMMON;
import static io.vsocksim.uapi.Errno.EINPROGRESS;
import static io.vsocksim.uapi.Errno.ETIMEDOUT;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static io.vsocksim.vsock.LoopbackTestContext.errnoOf;
import static io.vsocksim.testing.LogCapture.line;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.testing.LogCapture;
import io.vsocksim.testing.LogCapture.Line;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What af_vsock and the common virtio transport log about one connection over loopback (machine "lo",
 * CID 1, every step run by the test): each {@code sk_state} change with both addresses, the RSTs of a
 * close, a connect that times out on the virtual clock, and the TRACE line of every packet. Every
 * expected line is written out in full.
 */
@Timeout(30)
class ConnectionLoggingTest {
    /** A socket bound by connect() keeps VMADDR_CID_ANY as its local CID, as in the kernel. */
    private static final String ANY = "4294967295";

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @RegisterExtension
    final LogCapture log = new LogCapture();
    private LoopbackTestContext c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
    }

    private static Line af(String message) {
        return line(DEBUG, AF_VSOCK, "lo: " + message);
    }

    private static Line common(String message) {
        return line(DEBUG, VIRTIO_TRANSPORT_COMMON, "lo: " + message);
    }

    private static Line trace(String message) {
        return line(TRACE, VIRTIO_TRANSPORT_COMMON, "lo: " + message);
    }

    @Test
    void shouldLogEveryStateChangeWithBothAddressesWhenConnectAcceptAndClose() throws Exception {
        c = LoopbackTestContext.manual("lo", leaks);
        log.capture(DEBUG, "vsocksim.net.vmw_vsock");
        VsockSocket l = c.listener(SOCK_STREAM, 1234);
        VsockSocket[] p = c.pair(SOCK_STREAM, l);
        String client = ANY + ":" + p[0].getsockname().port();
        String clientPeer = "1:" + p[0].getsockname().port();

        p[0].close();
        c.drain();
        p[1].close();
        c.drain();

        assertThat(log.lines()).containsExactly(
                af("state TCP_CLOSE -> TCP_LISTEN, local " + ANY + ":1234, remote " + ANY + ":" + ANY),
                af("state TCP_CLOSE -> TCP_SYN_SENT, local " + client + ", remote 1:1234"),
                common("state TCP_CLOSE -> TCP_ESTABLISHED, local 1:1234, remote " + clientPeer),
                common("state TCP_SYN_SENT -> TCP_ESTABLISHED, local " + client + ", remote 1:1234"),
                // close() of the client: SHUTDOWN(both) goes out; the server answers with RST and closes.
                common("RST sent, local 1:1234, remote " + clientPeer + ": the peer shut down both directions"),
                common("state TCP_ESTABLISHED -> TCP_CLOSING, local 1:1234, remote " + clientPeer),
                common("RST received, local " + client + ", remote 1:1234: the peer closed or reset the connection"),
                common("state TCP_ESTABLISHED -> TCP_CLOSING, local " + client + ", remote 1:1234"),
                // close() of the server: its RST finds the client gone.
                common("RST sent, local 1:1234, remote " + clientPeer + ": closed after the peer shut down both directions"),
                common("drop DROP_NO_SOCK (no socket): VirtioVsockHdr{1:1234 -> " + clientPeer
                        + ", op=VIRTIO_VSOCK_OP_RST, type=VIRTIO_VSOCK_TYPE_STREAM, len=0, flags=0x0, buf_alloc=262144,"
                        + " fwd_cnt=0}"));
    }

    /** What af_vsock logs for a connect from {@code local} to 1:1234 that gets no answer in time. */
    private static List<Line> timedOut(String local) {
        return List.of(
                af("state TCP_CLOSE -> TCP_SYN_SENT, local " + local + ", remote 1:1234"),
                af("connect timed out, local " + local + ", remote 1:1234: no answer within 2000 ms"),
                af("state TCP_SYN_SENT -> TCP_CLOSE, local " + local + ", remote 1:1234"));
    }

    /** A fresh socket on "lo", a listener at port 1234, af_vsock captured from now on. */
    private VsockSocket socketWithAListenerAt1234() throws Exception {
        c = LoopbackTestContext.manual("lo", leaks);
        c.listener(SOCK_STREAM, 1234);
        VsockSocket s = c.sock(SOCK_STREAM);
        log.capture(DEBUG, AF_VSOCK);
        return s;
    }

    @Test
    void shouldLogTheTimeoutAndTheCloseWhenNonBlockingConnectTimerFires() throws Exception {
        VsockSocket s = socketWithAListenerAt1234();
        s.setNonBlocking(true);
        assertErrno(() -> s.connect(VMADDR_CID_LOCAL, 1234), EINPROGRESS);
        String local = ANY + ":" + s.getsockname().port();

        c.clock().advanceJiffies(2L * Clock.HZ);
        c.drain();

        assertThat(LoopbackTestContext.soError(s)).isEqualTo(ETIMEDOUT);
        assertThat(log.lines()).containsExactlyElementsOf(timedOut(local));
    }

    @Test
    void shouldLogTheTimeoutAndTheCloseWhenBlockingConnectGetsNoAnswer() throws Exception {
        VsockSocket s = socketWithAListenerAt1234();
        Future<Object> f = c.spawn("connector", () -> {
            s.connect(VMADDR_CID_LOCAL, 1234);
            return "connected";
        });
        c.clock().awaitSleepers(1);
        c.clock().advanceJiffies(2L * Clock.HZ);
        assertThat(errnoOf(f)).isEqualTo(ETIMEDOUT);
        String local = ANY + ":" + s.getsockname().port();

        assertThat(log.lines()).containsExactlyElementsOf(timedOut(local));
    }

    @Test
    void shouldLogEveryPacketHeaderAtTraceAndNoneAtDebug() throws Exception {
        c = LoopbackTestContext.manual("lo", leaks);
        VsockSocket[] p = c.pair(SOCK_STREAM);
        int server = p[1].getsockname().port();
        int client = p[0].getsockname().port();

        log.capture(DEBUG, VIRTIO_TRANSPORT_COMMON);
        p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        c.drain();
        assertThat(log.lines()).as("TRACE off: no packet lines").isEmpty();

        log.capture(TRACE, VIRTIO_TRANSPORT_COMMON); // the same logger, one level finer
        p[0].send(ByteBuffer.wrap(new byte[] {4, 5, 6, 7}), 0);
        c.drain();
        assertThat(p[1].recv(ByteBuffer.allocate(16), 0)).isEqualTo(7);
        c.drain();

        String rw = "VirtioVsockHdr{1:" + client + " -> 1:" + server
                + ", op=VIRTIO_VSOCK_OP_RW, type=VIRTIO_VSOCK_TYPE_STREAM, len=4, flags=0x0, buf_alloc=262144, fwd_cnt=0}";
        // The reader emptied its queue (rx_bytes below SO_RCVLOWAT): stream_do_dequeue sends a credit update.
        String credit = "VirtioVsockHdr{1:" + server + " -> 1:" + client
                + ", op=VIRTIO_VSOCK_OP_CREDIT_UPDATE, type=VIRTIO_VSOCK_TYPE_STREAM, len=0, flags=0x0,"
                + " buf_alloc=262144, fwd_cnt=7}";
        assertThat(log.lines()).containsExactly(
                trace("tx " + rw),
                trace("rx " + rw),
                trace("tx " + credit),
                trace("rx " + credit));
    }

    /** Every state change is logged only if every one goes through {@link VsockSock#setState}. */
    @Test
    void shouldChangeSkStateOnlyThroughSetStateWhenScanningMainSources() throws IOException {
        Pattern assignment = Pattern.compile("\\bskState\\s*=[^=]");
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                if (f.endsWith(Path.of("io/vsocksim/vsock/VsockSock.java"))) {
                    continue; // the field and setState itself
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (assignment.matcher(lines.get(i)).find()) {
                        offenders.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertThat(offenders).isEmpty();
    }
}
