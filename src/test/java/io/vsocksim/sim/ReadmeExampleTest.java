package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOCK_CLOEXEC;
import static io.vsocksim.uapi.Sock.SOCK_NONBLOCK;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's embedding example, in substance, so the README stays true. */
class ReadmeExampleTest {
    @Test
    @Timeout(30)
    void shouldRunTheReadmeExample() throws Exception {
        int n;
        ByteBuffer buf = ByteBuffer.allocate(16);
        try (Host host = Host.virtualTime("host")) {
            Guest guest = host.startGuest(3);
            try (VsockSocket server = VsockSocket.open(host, SOCK_STREAM);
                 VsockSocket client = VsockSocket.open(guest, SOCK_STREAM)) {
                server.bind(VMADDR_CID_ANY, 1234);
                server.listen(1);
                client.connect(VMADDR_CID_HOST, 1234);
                try (VsockSocket conn = server.accept()) {
                    client.send(ByteBuffer.wrap("hello".getBytes(US_ASCII)), 0);
                    n = conn.recv(buf, 0);
                }
            }
        }
        assertThat(n).isEqualTo(5);
        assertThat(new String(buf.array(), 0, n, US_ASCII)).isEqualTo("hello");
    }

    @Test
    @Timeout(30)
    void shouldRunTheReadmeDescriptorExample() throws Exception {
        try (Host host = Host.virtualTime("host")) {
            Guest guest = host.startGuest(3);
            UserProcess srv = UserProcess.spawn(host, "server");
            UserProcess cli = UserProcess.spawn(guest, "client");
            try {
                int l = srv.socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assertThat(l).isZero();
                assertThat(srv.bind(l, VMADDR_CID_ANY, 1234)).isZero();
                assertThat(srv.listen(l, 1)).isZero();
                int c = cli.socket(AF_VSOCK, SOCK_STREAM, 0);
                assertThat(cli.connect(c, VMADDR_CID_HOST, 1234)).isZero();
                int a = srv.accept4(l, SOCK_NONBLOCK);
                assertThat(a).isEqualTo(1);
                assertThat(srv.recv(a, ByteBuffer.allocate(16), 0)).isEqualTo(-io.vsocksim.uapi.Errno.EAGAIN);
                assertThat(srv.epollCreate1(0)).isEqualTo(2);
            } finally {
                srv.close();
                cli.close();
            }
        }
    }
}
