import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.junit.VsockSim;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

@VsockSim(guests = 3)                                   // a host (CID 2) and guest 3, fresh for each test
class HelloVsockTest {
    @Test
    void guestSaysHelloToHost(Host host, Guest guest) throws Exception {
        try (VsockSocket server = VsockSocket.open(host, SOCK_STREAM);
             VsockSocket client = VsockSocket.open(guest, SOCK_STREAM)) {
            server.bind(VMADDR_CID_ANY, 1234);
            server.listen(1);
            client.connect(VMADDR_CID_HOST, 1234);      // REQUEST through the guest's TX ring and vhost
            try (VsockSocket conn = server.accept()) {
                client.send(ByteBuffer.wrap("hello".getBytes(US_ASCII)), 0);
                ByteBuffer got = ByteBuffer.allocate(16);
                assertEquals(5, conn.recv(got, 0));     // a failed call throws ErrnoException(errno)
                assertEquals("hello", new String(got.array(), 0, 5, US_ASCII));
            }
        }
    }   // then the machines shut down: a socket left open, a kernel WARN or a page not given back fails the test
}
