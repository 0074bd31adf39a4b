package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark command works end to end on a small transfer (speed itself is not asserted). */
class RxZerocopyCommandTest {
    @Test
    @Timeout(120)
    void shouldTransferExactlyTheRequestedMegabytesAndReportTheCounters() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"rx-zerocopy", "--mb=4", "--rx=8", "--tx=8", "--no-baselines"},
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(rc).isZero();
        assertThat(text).contains("vsock host -> guest (virtio)").contains("copied: send 4000000 recv 4000000")
                .contains("vhost copied");
    }

    @Test
    @Timeout(120)
    void shouldRunOverLoopbackAndGuestToHost() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertThat(Main.run(new String[] {"rx-zerocopy", "--mb=2", "--transport=loopback", "--no-baselines"}, p, System.err)).isZero();
        assertThat(Main.run(new String[] {"rx-zerocopy", "--mb=2", "--direction=g2h", "--no-baselines"}, p, System.err)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("vsock loopback (CID 1)").contains("vsock guest -> host (virtio)");
    }
}
