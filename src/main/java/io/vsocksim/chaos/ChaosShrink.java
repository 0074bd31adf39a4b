package io.vsocksim.chaos;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.StringJoiner;

/**
 * Cuts a failing {@link ChaosRun} down to the steps that matter, by delta debugging (Zeller's ddmin):
 * it reruns the seed with parts of the schedule left out and keeps any smaller set of steps that still
 * fails the same way (the same message once numbers are masked). Each step draws from its own stream,
 * so a step that stays does what it did, given the state it finds.
 */
public final class ChaosShrink {
    /** Reruns one shrink may spend; a few hundred runs of a few hundred steps take seconds. */
    static final int MAX_RUNS = 400;

    private ChaosShrink() {
    }

    /**
     * The smallest failing run found from {@code failed}, or {@code failed} itself if it passed, failed
     * at set-up, or no smaller schedule fails the same way.
     */
    public static ChaosRun.Result shrink(ChaosRun.Result failed) {
        if (failed.ok() || failed.failedAt() < 0 || failed.steps() == 0) {
            return failed;
        }
        int last = Math.min(failed.failedAt(), failed.steps() - 1);
        List<Integer> steps = new ArrayList<>();
        for (int i = 0; i <= last; i++) {
            if (failed.only() == null || failed.only().get(i)) {
                steps.add(i);
            }
        }
        String kind = kind(failed.failure());
        ChaosRun.Result[] best = {failed};
        ddmin(steps, MAX_RUNS, keep -> {
            ChaosRun.Result r = ChaosRun.run(failed.seed(), failed.steps(), bits(keep));
            if (!r.ok() && kind(r.failure()).equals(kind)) {
                best[0] = r;
                return true;
            }
            return false;
        });
        return best[0];
    }

    /**
     * Zeller's ddmin, complement-first: the smallest sublist of {@code items} (in order) found for which
     * {@code fails} holds, trying at most {@code maxTests} candidates. {@code fails} is assumed to hold
     * for {@code items} itself.
     */
    static <T> List<T> ddmin(List<T> items, int maxTests, java.util.function.Predicate<List<T>> fails) {
        List<T> current = items;
        int tests = 0;
        int n = 2;
        while (current.size() >= 2 && tests < maxTests) {
            boolean reduced = false;
            int chunk = (current.size() + n - 1) / n;
            for (int start = 0; start < current.size() && tests < maxTests; start += chunk) {
                List<T> rest = new ArrayList<>(current.subList(0, start));
                rest.addAll(current.subList(Math.min(current.size(), start + chunk), current.size()));
                if (rest.isEmpty()) {
                    continue;
                }
                tests++;
                if (fails.test(rest)) {
                    current = rest;
                    n = Math.max(n - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced) {
                if (n >= current.size()) {
                    break;
                }
                n = Math.min(n * 2, current.size());
            }
        }
        return current;
    }

    /** A failure with its numbers masked, so the same fault at another byte or step counts as the same. */
    static String kind(String failure) {
        return failure == null ? "" : failure.replaceFirst("^(step \\d+|at the end): ", "").replaceAll("-?\\d+", "N");
    }

    static BitSet bits(List<Integer> steps) {
        BitSet b = new BitSet();
        for (int i : steps) {
            b.set(i);
        }
        return b;
    }

    /** {@code 3,17,40-42}: the steps in a set, with runs joined. */
    public static String format(BitSet only) {
        StringJoiner j = new StringJoiner(",");
        for (int i = only.nextSetBit(0); i >= 0; ) {
            int end = only.nextClearBit(i) - 1;
            j.add(end == i ? Integer.toString(i) : i + "-" + end);
            i = only.nextSetBit(end + 1);
        }
        return j.toString();
    }

    /**
     * Parses {@link #format}'s form back.
     *
     * @throws IllegalArgumentException naming the part that is not a step or a range of steps
     */
    public static BitSet parse(String text) {
        BitSet b = new BitSet();
        for (String part : text.split(",", -1)) {
            String[] ends = part.trim().split("-", -1);
            try {
                int from = Integer.parseInt(ends[0]);
                int to = ends.length == 2 ? Integer.parseInt(ends[1]) : from;
                if (ends.length > 2 || from < 0 || to < from) {
                    throw new NumberFormatException();
                }
                b.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a step or a range of steps: \"" + part + "\"");
            }
        }
        return b;
    }
}
