package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line's shared conventions, and the smoke command. */
class MainTest {
    @Test
    void shouldPassSmokeJobAndReportEveryPacket() {
        CliRun r = CliRun.of("smoke", "--packets", "1000");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("1000 packets").contains("added=1000 used=1000").contains("vq_errors=0")
                .endsWith("1 passed, 0 failed" + System.lineSeparator());
    }

    @Test
    void shouldTakeAnOptionValueAfterAnEqualsSign() {
        CliRun r = CliRun.of("smoke", "--packets=10");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("ring smoke: 10 packets");
    }

    @Test
    void shouldRejectANonNumericPacketCountWithOneLineAndTheUsage() {
        CliRun r = CliRun.of("smoke", "--packets", "abc");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim smoke: Invalid value for option '--packets': 'abc' is not a whole number");
        assertThat(r.err()).contains("Usage: vsocksim smoke [-hV] [--packets=N]").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void shouldRejectAZeroPacketCount() {
        CliRun r = CliRun.of("smoke", "--packets=0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.errFirstLine()).isEqualTo("vsocksim smoke: Invalid value for option '--packets': '0' is not positive");
    }

    @Test
    void shouldRejectUnknownCommand() {
        CliRun r = CliRun.of("frobnicate");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim: Unmatched argument at index 0: 'frobnicate'");
        assertThat(r.err()).contains("Usage: vsocksim [-hV] COMMAND");
    }

    @Test
    void shouldRejectAMissingCommand() {
        CliRun r = CliRun.of();
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim: Missing command");
    }

    @Test
    void shouldListEveryCommandInTheTopHelp() {
        CliRun r = CliRun.of("--help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("vsock-test").contains("rx-zerocopy").contains("smoke");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "vsock-test", "rx-zerocopy", "smoke"})
    void shouldPrintHelpOnStandardOutputAndExitZeroForEveryCommand(String command) {
        for (String option : new String[] {"--help", "-h"}) {
            CliRun r = CliRun.of(args(command, option));
            assertThat(r.status()).as(option).isZero();
            assertThat(r.err()).as(option).isEmpty();
            assertThat(r.out()).as(option).startsWith(("Usage: vsocksim " + command).trim() + " [-hV]")
                    .contains("-V, --version");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "vsock-test", "rx-zerocopy", "smoke"})
    void shouldPrintTheProjectVersionAndTheModelledKernelForEveryCommand(String command) {
        for (String option : new String[] {"--version", "-V"}) {
            CliRun r = CliRun.of(args(command, option));
            assertThat(r.status()).as(option).isZero();
            assertThat(r.err()).as(option).isEmpty();
            assertThat(r.out().lines()).as(option).containsExactly("vsocksim " + Version.project(),
                    "models the AF_VSOCK sockets of Linux 6.12.117");
        }
        // Filled in from pom.xml by the build, also in target/classes (what ./vsocksim runs).
        assertThat(Version.project()).isEqualTo(System.getProperty("vsocksim.pomVersion", "(run by Maven)"));
    }

    private static String[] args(String command, String option) {
        return command.isEmpty() ? new String[] {option} : new String[] {command, option};
    }
}
