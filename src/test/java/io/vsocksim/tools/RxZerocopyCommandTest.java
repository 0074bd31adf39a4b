package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark command works end to end on small transfers (speed itself is not asserted). */
class RxZerocopyCommandTest {
    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
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
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"rx-zerocopy", "--sweep", "--mb=8"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(rc).isZero();
        assertThat(text).contains("8 MB per cell").contains("RFC s");
        for (int pages : RxZerocopyCommand.SWEEP_PAGES) {
            assertThat(text).containsPattern("(?m)^ +" + pages + "  \\|");
            assertThat(text).containsPattern("(?m)^  zerocopy +" + pages + ": copied")
                    .containsPattern("(?m)^  copy +" + pages + ": copied");
        }
        // the RFC's seconds, scaled to 8 MB: 24 s * 8/4000 = 0.048 s, 13 s -> 0.026 s
        assertThat(text).contains("  0.05 ").contains("  0.03 ");
        assertThat(text).contains("JDK TCP loopback SocketChannel").contains("JDK Unix-domain SocketChannel").contains("total: 10 vsock cells");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("[").contains("100%");
    }

    @Test
    @Timeout(120)
    void shouldCompareCopyZerocopyAndBaselinesInOneRun() {
        String text = run("rx-zerocopy", "--compare", "--mb=2", "--rx=16", "--tx=16", "--rounds=2", "--warmup=0");
        assertThat(text).contains("2 MB x 2 rounds").contains("round 1").contains("round 2").contains("median")
                .containsPattern("(?m)^  copy receive( +[0-9.]+){3}$").containsPattern("(?m)^  zerocopy receive( +[0-9.]+){3}$")
                .containsPattern("(?m)^  JDK TCP loopback SocketChannel( +[0-9.]+){3}$")
                .containsPattern("(?m)^  JDK Unix-domain SocketChannel( +[0-9.]+){3}$")
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
    void shouldRejectBadOptions() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertThat(Main.run(new String[] {"rx-zerocopy", "--zerocopy", "--rx=1"}, p, p)).isEqualTo(2);
        assertThat(Main.run(new String[] {"rx-zerocopy", "--transport=tcp"}, p, p)).isEqualTo(2);
        assertThat(Main.run(new String[] {"rx-zerocopy", "--bogus"}, p, p)).isEqualTo(2);
        assertThat(Main.run(new String[] {"rx-zerocopy", "--compare", "--rounds=0"}, p, p)).isEqualTo(2);
    }
}
