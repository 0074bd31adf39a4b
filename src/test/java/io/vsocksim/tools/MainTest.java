package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldPassSmokeJobAndReportEveryPacket() {
        assertThat(run("smoke", "--packets", "1000")).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("1000 packets").contains("added=1000 used=1000").contains("vq_errors=0")
                .endsWith("1 passed, 0 failed" + System.lineSeparator());
    }

    @Test
    void shouldRejectUnknownCommand() {
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command 'frobnicate'");
    }

    @Test
    void shouldPrintHelp() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("smoke");
    }
}
