package io.vsocksim.tools;

import io.vsocksim.chaos.ChaosRun;
import io.vsocksim.chaos.ChaosShrink;
import java.io.PrintStream;
import java.util.BitSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vsocksim chaos}: seeded deterministic simulation runs ({@link ChaosRun}), one line per failing seed. */
@Command(name = "chaos",
        description = {"Deterministic simulation: for each seed, a host and two guests on manual work queues and"
            + " virtual clocks driven by a seeded schedule of socket calls, queued work, time and faults"
            + " (TRANSPORT_RESET, guest memory taken and given back, a guest paused and resumed, its device"
            + " replugged, a guest removed with connections open, a signal to a blocked call, a packet past the"
            + " peer's credit). Checks that every connection receives a prefix of what was sent, in order, that"
            + " a connection breaks only for a reason Linux has, and that nothing is left at the end. A failing"
            + " seed is shrunk to the steps that matter; it prints its reproduction and that schedule."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every seed kept its invariants", "1:a seed failed", "2:bad usage"})
final class ChaosCommand implements Callable<Integer> {
    private final PrintStream out;

    @Option(names = "--seeds", paramLabel = "N", converter = Positive.class, description = "Seeds to run (default: ${DEFAULT-VALUE})")
    private int seeds = 100;

    @Option(names = "--from", paramLabel = "S", description = "The first seed (default: ${DEFAULT-VALUE})")
    private long from = 1;

    @Option(names = "--steps", paramLabel = "K", converter = Positive.class,
            description = "Steps per seed (default: ${DEFAULT-VALUE})")
    private int steps = 400;

    @Option(names = "--only", paramLabel = "STEPS",
            converter = StepSet.class,
            description = "Run only these steps of each seed's schedule, e.g. 3,17,40-42 (what a shrunk failure prints)")
    private BitSet only;

    @Option(names = "--no-shrink", description = "Print a failing seed's last steps instead of shrinking its schedule")
    private boolean noShrink;

    private ChaosCommand(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        BitSet chosen = only;
        int failed = 0;
        long delivered = 0;
        java.util.Map<String, Long> faults = new java.util.TreeMap<>();
        for (long seed = from; seed < from + seeds; seed++) {
            ChaosRun.Result r = ChaosRun.run(seed, steps, chosen);
            delivered += r.delivered();
            r.faults().forEach((k, v) -> faults.merge(k, (long) v, Long::sum));
            if (!r.ok()) {
                failed++;
                out.println("seed " + seed + " FAILED, " + r.failure());
                ChaosRun.Result shown = noShrink || chosen != null ? r : ChaosShrink.shrink(r);
                if (shown != r) {
                    out.println("  shrunk to " + shown.only().cardinality() + " of " + (r.failedAt() + 1) + " steps: "
                            + shown.failure());
                }
                out.println("  reproduce: " + shown.reproduction());
                for (String s : shown.schedule()) {
                    out.println("    " + s);
                }
            }
        }
        long all = faults.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder kinds = new StringBuilder();
        faults.forEach((k, v) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        out.printf("chaos: seeds %d..%d, %d steps each: %d passed, %d failed; %d bytes delivered and checked, %d faults"
                + " (%s)%n", from, from + seeds - 1, steps, seeds - failed, failed, delivered, all, kinds);
        return failed == 0 ? 0 : 1;
    }

    /** {@code --only}'s value: steps and ranges of steps ({@link ChaosShrink#parse}). */
    static final class StepSet implements picocli.CommandLine.ITypeConverter<BitSet> {
        @Override
        public BitSet convert(String value) {
            try {
                return ChaosShrink.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
