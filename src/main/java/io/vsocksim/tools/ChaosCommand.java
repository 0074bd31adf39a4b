package io.vsocksim.tools;

import io.vsocksim.sim.ChaosRun;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vsocksim chaos}: seeded deterministic simulation runs ({@link ChaosRun}), one line per failing seed. */
@Command(name = "chaos",
        description = {"Deterministic simulation: for each seed, a host and two guests on manual work queues and"
            + " virtual clocks driven by a seeded schedule of socket calls, queued work, time and faults"
            + " (TRANSPORT_RESET, guest memory taken and given back, a guest removed with connections open). Checks that every connection receives a"
            + " prefix of what was sent, in order, and that nothing is left at the end. A failing seed prints"
            + " its reproduction and the last steps of its schedule."},
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

    private ChaosCommand(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        int failed = 0;
        long delivered = 0;
        long faults = 0;
        long removed = 0;
        for (long seed = from; seed < from + seeds; seed++) {
            ChaosRun.Result r = ChaosRun.run(seed, steps);
            delivered += r.delivered();
            faults += r.faults();
            removed += r.guestsRemoved();
            if (!r.ok()) {
                failed++;
                out.println("seed " + seed + " FAILED at step " + r.steps() + ": " + r.failure());
                out.println("  reproduce: " + r.reproduction());
                for (String s : r.tail()) {
                    out.println("    " + s);
                }
            }
        }
        out.printf("chaos: seeds %d..%d, %d steps each: %d passed, %d failed; %d bytes delivered and checked, %d faults"
                + " (%d guests removed)%n", from, from + seeds - 1, steps, seeds - failed, failed, delivered, faults, removed);
        return failed == 0 ? 0 : 1;
    }
}
