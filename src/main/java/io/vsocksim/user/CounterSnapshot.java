package io.vsocksim.user;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One group of counters read at one instant: names to values, immutable, in the order the model
 * declares them. Take one before and one after what you measure, and {@link #minus} gives what that
 * cost ({@link VsockStats} reads a machine's groups at once).
 *
 * <p>The names are those of the model's counter enums (for example {@code BYTES_COPIED_TO_USER} of
 * the af_vsock group), so a value can be looked up by the name printed in {@link #toString()}.
 *
 * @param values counter name to value, in declaration order (copied: later changes to the argument do
 *     not show)
 */
public record CounterSnapshot(Map<String, Long> values) {
    private static final CounterSnapshot EMPTY = new CounterSnapshot(Map.of());

    /**
     * Copies {@code values}, keeping their order.
     *
     * @param values counter name to value
     * @throws NullPointerException for a null name or value
     */
    public CounterSnapshot {
        Map<String, Long> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : values.entrySet()) {
            copy.put(Objects.requireNonNull(e.getKey(), "counter name"),
                    Objects.requireNonNull(e.getValue(), () -> "value of " + e.getKey()));
        }
        values = Collections.unmodifiableMap(copy);
    }

    /**
     * A group with no counters.
     *
     * @return the empty group (a machine that has no such device)
     */
    public static CounterSnapshot empty() {
        return EMPTY;
    }

    /**
     * The value of a counter.
     *
     * @param name the counter's name, as {@link #toString()} shows it
     * @return its value
     * @throws IllegalArgumentException if this group has no counter of that name (the message lists
     *     the names it has)
     */
    public long get(String name) {
        Long v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no counter " + name + "; this group has " + values.keySet());
        }
        return v;
    }

    /**
     * Whether this group has counters.
     *
     * @return true if it has none
     */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /**
     * What changed since {@code earlier}.
     *
     * @param earlier the same group read before
     * @return each counter's value here less its value there
     * @throws IllegalArgumentException if the two do not hold the same counters
     */
    public CounterSnapshot minus(CounterSnapshot earlier) {
        if (!values.keySet().equals(earlier.values.keySet())) {
            throw new IllegalArgumentException("not the same counters: " + values.keySet() + " and "
                    + earlier.values.keySet());
        }
        Map<String, Long> d = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : values.entrySet()) {
            d.put(e.getKey(), e.getValue() - earlier.values.get(e.getKey()));
        }
        return new CounterSnapshot(d);
    }

    /** {@code {NAME=value, ...}} in declaration order. */
    @Override
    public String toString() {
        return values.toString();
    }
}
