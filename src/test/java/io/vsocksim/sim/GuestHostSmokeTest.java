package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(30)
class GuestHostSmokeTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    @Test
    void shouldExchangeBytesWhenGuestConnectsToHost() throws Exception {
        Guest g = c.guest(3);
        VsockSocket l = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 1234);
        l.listen(4);
        VsockSocket cl = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        cl.connect(VmSockets.VMADDR_CID_HOST, 1234);
        VsockSocket sv = c.track(l.accept());
        assertThat(sv.getpeername().cid()).isEqualTo(3);
        cl.send(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)), 0);
        ByteBuffer b = ByteBuffer.allocate(16);
        assertThat(sv.recv(b, 0)).isEqualTo(4);
        sv.send(ByteBuffer.wrap("pong!".getBytes(StandardCharsets.US_ASCII)), 0);
        ByteBuffer r = ByteBuffer.allocate(16);
        assertThat(cl.recv(r, 0)).isEqualTo(5);
        assertThat(new String(r.array(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("pong!");
    }
}
