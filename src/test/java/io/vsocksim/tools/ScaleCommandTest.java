package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code vsocksim scale}: a row per guest count, each guest connected and answering round trips. */
class ScaleCommandTest {
    @Test
    void shouldPrintARowPerGuestCountAndTheRatioOfTheLastToTheFirst() {
        CliRun r = CliRun.of("scale", "--guests", "1,3", "--round-trips", "30");
        assertThat(r.status()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).startsWith("scale: guests on one host, one connection each; 30 round trips per row;");
        assertThat(lines.get(1)).contains("start/guest", "connect p50", "1-B RTT p50", "RSS/guest", "JVM threads");
        assertThat(lines.get(2)).matches(" +1 \\|.* ms \\|.* µs \\|.* µs \\|.* KiB \\|.* KiB \\|.* KiB \\| \\d+");
        assertThat(lines.get(3)).matches(" +3 \\|.*");
        assertThat(lines.get(4)).matches("  1 guests closed, after a full GC: heap -?\\d+ KiB, RSS -?\\d+ KiB per guest");
        assertThat(lines.get(5)).startsWith("  3 guests closed, after a full GC: heap ");
        assertThat(lines.get(6)).startsWith("  RTT at 3 guests / RTT at 1: ");
    }

    @Test
    void shouldRejectAGuestCountThatIsNotPositive() {
        CliRun r = CliRun.of("scale", "--guests", "1,0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.errFirstLine()).contains("'0' is not positive");
    }
}
