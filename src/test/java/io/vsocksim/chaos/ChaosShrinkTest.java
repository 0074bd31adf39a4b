package io.vsocksim.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Shrinking a failing chaos schedule: ddmin itself, the step-set notation and what counts as the same failure. */
class ChaosShrinkTest {
    @Test
    void shouldFindTheTwoStepsAFailureNeedsAmongAHundred() {
        List<Integer> steps = IntStream.range(0, 100).boxed().toList();
        List<Integer> tried = new ArrayList<>();
        List<Integer> min = ChaosShrink.ddmin(steps, 400, s -> {
            tried.add(s.size());
            return s.contains(3) && s.contains(71);
        });
        assertThat(min).containsExactly(3, 71);
        assertThat(tried.size()).as("candidates tried").isLessThanOrEqualTo(400);
    }

    @Test
    void shouldStopAtItsBudget() {
        List<Integer> steps = IntStream.range(0, 100).boxed().toList();
        int[] tests = {0};
        List<Integer> min = ChaosShrink.ddmin(steps, 5, s -> {
            tests[0]++;
            return s.contains(3) && s.contains(71);
        });
        assertThat(tests[0]).isEqualTo(5);
        assertThat(min).contains(3, 71);
    }

    @Test
    void shouldWriteAndReadStepSetsWithRangesJoined() {
        BitSet b = ChaosShrink.parse("3,17,40-42");
        assertThat(b.stream().boxed().toList()).containsExactly(3, 17, 40, 41, 42);
        assertThat(ChaosShrink.format(b)).isEqualTo("3,17,40-42");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "5-3", "1-2-3", "-1", "", "4,"})
    void shouldRejectWhatIsNotAStepOrARange(String text) {
        assertThatThrownBy(() -> ChaosShrink.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("not a step or a range of steps");
    }

    @Test
    void shouldCountTheSameViolationAtOtherStepsAndBytesAsTheSameFailure() {
        assertThat(ChaosShrink.kind("step 12: received 5 bytes, only 3 were sent"))
                .isEqualTo(ChaosShrink.kind("step 40: received 9 bytes, only 1 were sent"))
                .isNotEqualTo(ChaosShrink.kind("at the end: 1 socket(s) left on host"));
    }

    @Test
    void shouldLeaveAPassingRunAsItIs() {
        ChaosRun.Result ok = ChaosRun.run(7, 50);
        assertThat(ok.ok()).isTrue();
        assertThat(ChaosShrink.shrink(ok)).isSameAs(ok);
    }
}
