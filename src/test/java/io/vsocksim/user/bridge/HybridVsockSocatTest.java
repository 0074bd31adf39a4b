package io.vsocksim.user.bridge;

import static io.vsocksim.user.bridge.BridgeTestContext.FIRST_HOST_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.sim.VsockSocket;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's exchange: a guest echo on port 1234, reached with {@code socat - UNIX-CONNECT:PATH} as
 * Firecracker docs/vsock.md shows, and the same exchange with a JDK Unix channel (so the behaviour is
 * checked where socat is not installed).
 */
class HybridVsockSocatTest extends BridgeTestBase {
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

    static String socat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, "socat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    @Test
    @Timeout(60)
    void shouldAnswerSocatAsFirecrackerDocumentsIt() throws Exception {
        String socat = socat();
        if (socat == null) {
            System.out.println("HybridVsockSocatTest: skipped, socat is not installed (the JDK-client test checks the same exchange)");
        }
        Assumptions.assumeTrue(socat != null, "socat is not installed");
        Future<String> echo = echoOnce();
        // -t 30: after stdin's end, wait for the guest's answer and end of stream instead of socat's 0.5 s.
        Process p = new ProcessBuilder(socat, "-t", "30", "-", "UNIX-CONNECT:" + t.path).redirectErrorStream(true).start();
        p.getOutputStream().write(REQUEST.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo(ANSWER);
        assertThat(p.exitValue()).isZero();
        assertThat(echo.get()).isEqualTo("hello through the bridge\n");
    }

    @Test
    @Timeout(60)
    void shouldAnswerAJdkClientTheSame() throws Exception {
        Future<String> echo = echoOnce();
        SocketChannel c = t.unixConnect();
        BridgeTestContext.write(c, REQUEST);
        c.shutdownOutput();
        assertThat(BridgeTestContext.readAll(c)).isEqualTo(ANSWER);
        assertThat(echo.get()).isEqualTo("hello through the bridge\n");
    }
}
