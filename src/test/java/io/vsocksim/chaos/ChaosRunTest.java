package io.vsocksim.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Deterministic simulation: a fixed set of seeds, each a host and two guests driven by a seeded
 * schedule of calls, work, time and faults ({@link ChaosRun}); every one must keep its invariants, and a
 * seed must give the same run twice.
 */
class ChaosRunTest {
    private static final int SEEDS = 40;
    private static final int STEPS = 400;

    @Test
    @Timeout(300)
    void everySeedKeepsItsStreamsAndLeavesNothing() {
        List<String> failures = new ArrayList<>();
        long delivered = 0;
        java.util.Map<String, Integer> faults = new java.util.TreeMap<>();
        for (long seed = 1; seed <= SEEDS; seed++) {
            ChaosRun.Result r = ChaosRun.run(seed, STEPS);
            delivered += r.delivered();
            r.faults().forEach((k, v) -> faults.merge(k, v, Integer::sum));
            if (!r.ok()) {
                failures.add(r.failure() + "\n  reproduce: " + r.reproduction() + "\n  last steps: "
                        + String.join("\n    ", r.schedule()));
            }
        }
        System.out.printf("chaos: %d seeds x %d steps, %d bytes delivered and checked, faults injected: %s%n", SEEDS,
                STEPS, delivered, faults);
        assertThat(failures).isEmpty();
        assertThat(delivered).as("the schedules move data").isPositive();
        assertThat(faults).as("every kind of fault happens in these seeds").containsOnlyKeys("transport reset",
                "memory taken", "pause", "device replug", "guest removed", "signal to a blocked call",
                "packet past credit");
    }

    @Test
    @Timeout(120)
    void theSameSeedGivesTheSameSchedule() {
        ChaosRun.Result a = ChaosRun.run(7, 300);
        ChaosRun.Result b = ChaosRun.run(7, 300);
        assertThat(a.ok()).as(String.valueOf(a.failure())).isTrue();
        assertThat(b.schedule()).isEqualTo(a.schedule());
        assertThat(a.schedule()).hasSize(25);
    }

    @Test
    @Timeout(120)
    void aRunOfEveryStepChosenIsTheFullRun() {
        java.util.BitSet all = new java.util.BitSet();
        all.set(0, 300);
        ChaosRun.Result full = ChaosRun.run(7, 300);
        ChaosRun.Result chosen = ChaosRun.run(7, 300, all);
        assertThat(chosen.delivered()).isEqualTo(full.delivered());
        assertThat(chosen.faults()).isEqualTo(full.faults());
        assertThat(chosen.schedule()).as("all steps recorded").hasSizeGreaterThan(25).endsWith(full.schedule().toArray(new String[0]));
        assertThat(chosen.reproduction()).isEqualTo("./vsocksim chaos --from 7 --seeds 1 --steps 300 --only 0-299");
    }

    @Test
    void eachStepDrawsFromItsOwnStream() {
        assertThat(ChaosRun.stepSeed(7, 3)).isEqualTo(ChaosRun.stepSeed(7, 3)).isNotEqualTo(ChaosRun.stepSeed(7, 4))
                .isNotEqualTo(ChaosRun.stepSeed(8, 3));
    }
}
