package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The benchmark command works end to end on small transfers (speed itself is not asserted). */
class RxZerocopyCommandTest {
    private static String run(String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.status()).as(r.err()).isZero();
        return r.out();
    }

    @Test
    @Timeout(120)
    void shouldTransferExactlyTheRequestedMegabytesAndReportTheCounters() {
        String text = run("rx-zerocopy", "--mb=4", "--rx=8", "--tx=8", "--no-baselines");
        assertThat(text).contains("vsock host -> guest (virtio)").contains("copied: user->kernel 4000000, kernel->user 4000000")
                .contains("getsockopt 0, madvise 0, pages mapped 0");
    }

    @Test
    @Timeout(120)
    void shouldTakeOptionValuesAfterASpace() {
        CliRun r = CliRun.of("rx-zerocopy", "--mb", "5", "--rx", "8", "--tx", "8", "--warmup", "0", "--no-baselines",
                "--no-progress");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out().lines().findFirst()).hasValue("rx-zerocopy: 5 MB, rx 8 pages, tx 8 pages, copy receive");
        assertThat(r.out()).contains("copied: user->kernel 5000000, kernel->user 5000000");
    }

    @Test
    @Timeout(120)
    void shouldRunOverLoopbackAndGuestToHost() {
        assertThat(run("rx-zerocopy", "--mb=2", "--transport=loopback", "--no-baselines")).contains("vsock loopback (CID 1)");
        assertThat(run("rx-zerocopy", "--mb=2", "--direction=g2h", "--no-baselines")).contains("vsock guest -> host (virtio)");
    }

    @Test
    @Timeout(120)
    void shouldReceiveThroughTheMappingWithoutCopyingToUser() {
        for (String[] placement : new String[][] {{}, {"--transport=loopback"}, {"--direction=g2h"}}) {
            RxZerocopyCommand.Options o = new RxZerocopyCommand.Options(3, 16, 16, true,
                    placement.length > 0 && placement[0].contains("loopback") ? "loopback" : "virtio",
                    placement.length > 0 && placement[0].contains("g2h") ? "g2h" : "h2g", false, false, false);
            RxZerocopyCommand.Run r = RxZerocopyCommand.vsock(o, new AtomicLong());
            assertThat(r.bytes()).as(o.placement()).isEqualTo(3_000_000L);
            assertThat(r.counters().copiedToUser()).as(o.placement()).isZero();
            assertThat(r.counters().copiedFromUser()).as(o.placement()).isEqualTo(3_000_000L);
            assertThat(r.counters().pagesMapped()).as(o.placement()).isGreaterThanOrEqualTo(3_000_000L / 4096);
            assertThat(r.counters().getsockopts()).as(o.placement()).isPositive()
                    .isEqualTo(r.counters().madvises()).isEqualTo(r.counters().headerPages());
        }
        String text = run("rx-zerocopy", "--mb=2", "--rx=8", "--tx=8", "--zerocopy", "--no-baselines");
        assertThat(text).contains("zerocopy receive").contains("kernel->user 0,");
    }

    @Test
    @Timeout(180)
    void shouldPrintTheRfcTableWithAllTenCellsAndBaselines() {
        CliRun r = CliRun.of("rx-zerocopy", "--sweep", "--mb=8");
        String text = r.out();
        assertThat(r.status()).isZero();
        assertThat(text).contains("8 MB per cell").contains("RFC s");
        for (int pages : RxZerocopyCommand.SWEEP_PAGES) {
            assertThat(text).containsPattern("(?m)^ +" + pages + "  \\|");
            assertThat(text).containsPattern("(?m)^  zerocopy +" + pages + ": copied")
                    .containsPattern("(?m)^  copy +" + pages + ": copied");
        }
        // the RFC's seconds, scaled to 8 MB: 24 s * 8/4000 = 0.048 s, 13 s -> 0.026 s
        assertThat(text).contains("  0.05 ").contains("  0.03 ");
        assertThat(text).contains("JDK TCP loopback SocketChannel").contains("JDK Unix-domain SocketChannel").contains("total: 10 vsock cells");
        assertThat(r.err()).contains("[").contains("100%");
    }

    @Test
    @Timeout(120)
    void shouldCompareCopyZerocopyAndBaselinesInOneRun() {
        String text = run("rx-zerocopy", "--compare", "--mb=2", "--rx=16", "--tx=16", "--rounds=2", "--warmup=0");
        assertThat(text).contains("2 MB x 2 rounds").contains("round 1").contains("round 2").contains("median")
                .containsPattern("(?m)^  copy receive( +[0-9.]+){3}$").containsPattern("(?m)^  zerocopy receive( +[0-9.]+){3}$")
                .containsPattern("(?m)^  JDK TCP loopback SocketChannel( +[0-9.]+){3}$")
                .containsPattern("(?m)^  JDK Unix-domain SocketChannel( +[0-9.]+){3}$")
                .containsPattern("(?m)^  in-JVM ceiling \\(page ring, 1 copy\\)( +[0-9.]+){3}$")
                .containsPattern("of the in-JVM ceiling \\(medians\\): copy [0-9.]+, zerocopy [0-9.]+, JDK TCP [0-9.]+, JDK Unix-domain [0-9.]+")
                .contains("copy receive, round with the median rate:").contains("kernel->user 2000000,")
                .contains("zerocopy receive, round with the median rate:").contains("kernel->user 0,")
                .contains("medians: copy/TCP").contains("zerocopy/UDS").contains("zerocopy/copy").contains("per round:");
    }

    @Test
    void shouldTakeTheMiddleValueAsMedian() {
        assertThat(RxZerocopyCommand.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(RxZerocopyCommand.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        assertThat(RxZerocopyCommand.median(new double[] {7})).isEqualTo(7);
    }

    @Test
    @Timeout(120)
    void shouldRecordTheMeasuredTransferIntoThePcapFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rx.pcapng");
        CliRun r = CliRun.of("rx-zerocopy", "--mb=1", "--warmup=0", "--no-baselines", "--pcap=" + file);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("capture: " + file);
        byte[] b = Files.readAllBytes(file);
        assertThat(b.length).as("1 MB of payload and the headers of every packet").isGreaterThan(1_000_000);
        assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).as("pcapng").isEqualTo(0x0A0D0D0A);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--zerocopy --rx=1    | Invalid value for option '--rx': '1' is too small for --zerocopy (a header page and a data page: 2)",
        "--transport=tcp      | Invalid value for option '--transport': 'tcp' is not virtio or loopback",
        "--direction up       | Invalid value for option '--direction': 'up' is not h2g or g2h",
        "--bogus              | Unknown option: '--bogus'",
        "--compare --rounds=0 | Invalid value for option '--rounds': '0' is not positive",
        "--mb x               | Invalid value for option '--mb': 'x' is not a whole number",
        "--mb                 | Missing required parameter for option '--mb' (N)",
        "--sweep --pcap=x.pcap | Invalid value for option '--pcap': 'x.pcap' records one transfer: not with --compare or --sweep"})
    void shouldRejectBadOptionsWithOneLineAndTheUsage(String args, String message) {
        List<String> argv = new ArrayList<>(List.of("rx-zerocopy"));
        argv.addAll(List.of(args.split(" ")));
        CliRun r = CliRun.of(argv.toArray(String[]::new));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim rx-zerocopy: " + message);
        assertThat(r.err()).contains("Usage: vsocksim rx-zerocopy [-hV]").doesNotContain("\tat ");
    }
}
