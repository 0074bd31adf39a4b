package io.vsocksim.testsuite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server role alone (serve --workload vsock-test-server): it speaks the kernel's control protocol on
 * its TCP port, so a client role elsewhere can drive it; here the client answers SKIP to every test.
 */
class VsockTestServerRoleTest {
    @Test
    @Timeout(60)
    void shouldFollowTheClientsBarrierOverTcpAndReportTheTotals() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int tests = VsockTests.all(ps).size();
        try (Host host = Host.virtualTime("host")) {
            Guest guest = host.startGuest(3);
            VsockTestServerRole role = VsockTestServerRole.start(guest, 2, 0, ps);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), role.controlPort())) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream o = s.getOutputStream();
                int next = 0;
                for (int i = 0; i < tests; i++) {
                    o.write("SKIP\n".getBytes(StandardCharsets.US_ASCII));
                    String line = in.readLine();
                    assertThat(line).isIn("NEXT", "SKIP");
                    next += "NEXT".equals(line) ? 1 : 0;
                }
                o.write("COMPLETED\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("COMPLETED");
                assertThat(next).isPositive();
                role.awaitEnd(); // it reads the client's COMPLETED before anything is closed
            }
            role.close();
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("0 - SOCK_STREAM connection reset...skipped");
        assertThat(text).endsWith("0 passed, 0 failed, " + tests + " skipped" + System.lineSeparator());
    }
}
