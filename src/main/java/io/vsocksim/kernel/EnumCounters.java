package io.vsocksim.kernel;

import java.util.concurrent.atomic.LongAdder;

/**
 * A set of event counters indexed by an enum: what a device or subsystem paid for, counted where it
 * happens (SIM: the kernel has tracepoints and {@code vq_err} logs instead). Lock-free and, once
 * warm, allocation-free to update; safe to read from any thread.
 *
 * <p>Each counter is striped like the kernel's per-CPU counters ({@code percpu_counter}): threads
 * that count at once (a sender and a reader on one machine) update their own padded cell instead of
 * bouncing one cache line, and a read sums the cells. A read that races with updates sees some of
 * them, as {@code percpu_counter_sum()} does.
 *
 * @param <E> the enum naming the counters
 */
public class EnumCounters<E extends Enum<E>> {
    private final E[] names;
    private final LongAdder[] values;

    /** @param type the counters' enum class */
    protected EnumCounters(Class<E> type) {
        this.names = type.getEnumConstants();
        this.values = new LongAdder[names.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = new LongAdder();
        }
    }

    /** Adds {@code n} to {@code c}. */
    public final void add(E c, long n) {
        values[c.ordinal()].add(n);
    }

    /** Adds one to {@code c}. */
    public final void inc(E c) {
        values[c.ordinal()].increment();
    }

    /** The current value of {@code c}. */
    public final long get(E c) {
        return values[c.ordinal()].sum();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(getClass().getSimpleName()).append('{');
        for (E c : names) {
            if (b.charAt(b.length() - 1) != '{') {
                b.append(", ");
            }
            b.append(c.name()).append('=').append(get(c));
        }
        return b.append('}').toString();
    }
}
