package io.vsocksim.kernel;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A set of event counters indexed by an enum: what a device or subsystem paid for, counted where it
 * happens (SIM: the kernel has tracepoints and {@code vq_err} logs instead). Lock-free and
 * allocation-free to update; safe to read from any thread.
 *
 * @param <E> the enum naming the counters
 */
public class EnumCounters<E extends Enum<E>> {
    private final E[] names;
    private final AtomicLongArray values;

    /** @param type the counters' enum class */
    protected EnumCounters(Class<E> type) {
        this.names = type.getEnumConstants();
        this.values = new AtomicLongArray(names.length);
    }

    /** Adds {@code n} to {@code c}. */
    public final void add(E c, long n) {
        values.addAndGet(c.ordinal(), n);
    }

    /** Adds one to {@code c}. */
    public final void inc(E c) {
        values.incrementAndGet(c.ordinal());
    }

    /** The current value of {@code c}. */
    public final long get(E c) {
        return values.get(c.ordinal());
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
