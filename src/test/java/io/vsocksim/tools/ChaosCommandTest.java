package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code vsocksim chaos}: its summary, a chosen set of steps, and bad step sets. */
class ChaosCommandTest {
    @Test
    void shouldRunTheSeedsAndSummariseTheFaultsByKind() {
        CliRun r = CliRun.of("chaos", "--seeds", "2", "--from", "7", "--steps", "120");
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith("chaos: seeds 7..8, 120 steps each: 2 passed, 0 failed; ")
                .contains(" bytes delivered and checked, ");
    }

    @Test
    void shouldRunOnlyTheChosenSteps() {
        CliRun r = CliRun.of("chaos", "--seeds", "1", "--from", "7", "--steps", "120", "--only", "0-9,50");
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith("chaos: seeds 7..7, 120 steps each: 1 passed, 0 failed;");
    }

    @Test
    void shouldRejectAStepSetThatIsNotOne() {
        CliRun r = CliRun.of("chaos", "--only", "5-3");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim chaos: Invalid value for option '--only': not a step or a range of steps: \"5-3\"");
    }
}
