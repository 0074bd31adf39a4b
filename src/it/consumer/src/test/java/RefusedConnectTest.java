import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.VsockStats;
import io.vsocksim.user.junit.Simulation;
import io.vsocksim.user.junit.SocketPair;
import io.vsocksim.user.junit.VsockSim;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What a user's build sees of vsocksim: the extension, the errors, the counters and the logs. */
@VsockSim
class RefusedConnectTest {
    private static final ListAppender<ILoggingEvent> events = new ListAppender<>();

    @BeforeAll
    static void recordLogs() {
        events.start();
        root().addAppender(events);
    }

    @AfterAll
    static void stopRecording() {
        root().detachAppender(events);
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @Test
    void aConnectNobodyAnswersIsResetAndLogged(Guest guest) throws Exception {
        VsockStats before = VsockStats.of(guest);
        events.list.clear();
        try (VsockSocket s = VsockSocket.open(guest, SOCK_STREAM)) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> s.connect(VMADDR_CID_HOST, 9999));
            assertEquals(Errno.ECONNRESET, e.errno());                 // the host answered with RST
        }
        assertEquals(1, VsockStats.of(guest).minus(before).vsock().get("RECEIVED_RST"));
        // The guest's transport logs the refusal at DEBUG under the kernel file it models.
        List<String> lines = events.list.stream()
                .filter(e -> e.getLoggerName().equals("vsocksim.net.vmw_vsock.virtio_transport_common"))
                .filter(e -> e.getLevel() == Level.DEBUG)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("guest3: RST received") && l.contains("remote 2:9999")
                && l.endsWith("connect refused (ECONNRESET)")), "no refusal line; logged: " + lines);
    }

    @Test
    void theLibraryBringsNeitherPicocliNorMoreThanItNeeds(Simulation sim, Host host, Guest guest) throws Exception {
        try (SocketPair p = sim.connectedPair(guest, host, SOCK_STREAM)) {
            assertEquals(3, p.client().send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0));
            assertEquals(3, p.server().recv(ByteBuffer.allocate(8), 0));
        }
        // picocli is the command line's, optional: it must not reach a user's classpath.
        assertThrows(ClassNotFoundException.class, () -> Class.forName("picocli.CommandLine"));
    }
}
