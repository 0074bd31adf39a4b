package io.vsocksim.sim;

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
        int faults = 0;
        int removed = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            ChaosRun.Result r = ChaosRun.run(seed, STEPS);
            delivered += r.delivered();
            faults += r.faults();
            removed += r.guestsRemoved();
            if (!r.ok()) {
                failures.add(r.failure() + "\n  reproduce: " + r.reproduction() + "\n  last steps: "
                        + String.join("\n    ", r.tail()));
            }
        }
        System.out.printf("chaos: %d seeds x %d steps, %d bytes delivered and checked, %d faults injected,"
                + " %d guests removed%n", SEEDS, STEPS, delivered, faults, removed);
        assertThat(failures).isEmpty();
        assertThat(delivered).as("the schedules move data").isPositive();
        assertThat(removed).as("some schedules remove a guest with connections open").isPositive();
    }

    @Test
    @Timeout(120)
    void theSameSeedGivesTheSameSchedule() {
        ChaosRun.Result a = ChaosRun.run(7, 300);
        ChaosRun.Result b = ChaosRun.run(7, 300);
        assertThat(a.ok()).as(String.valueOf(a.failure())).isTrue();
        assertThat(b.tail()).isEqualTo(a.tail());
        assertThat(a.tail()).hasSize(25);
    }
}
