package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A machine's record of {@code WARN_ONCE} hits. The kernel keeps a "once" flag per call site; here the
 * message is the key. Each warning is logged once through SLF4J and kept in {@link #fired()}, so a
 * test extension can fail any test during which one fired. One instance per simulated kernel.
 */
public final class KernelWarnings {
    private static final Logger log = LoggerFactory.getLogger(KernelWarnings.class);

    private final String machine;
    private final Set<String> once = ConcurrentHashMap.newKeySet();
    private final List<String> fired = new CopyOnWriteArrayList<>();

    /** A registry for the machine called {@code machine} (used as the log prefix). */
    public KernelWarnings(String machine) {
        this.machine = Objects.requireNonNull(machine, "machine");
    }

    /**
     * Warns if {@code condition} holds, at most once per {@code message}.
     *
     * @return {@code condition}, so it can guard a recovery branch as {@code if (WARN_ONCE(...))} does
     */
    @Linux(file = "include/asm-generic/bug.h", fn = "WARN_ONCE")
    public boolean warnOnce(boolean condition, String message) {
        if (condition && once.add(message)) {
            fired.add(message);
            log.warn("{}: WARNING: {}", machine, message, new Throwable("WARN_ONCE call site"));
        }
        return condition;
    }

    /** The warnings fired so far, oldest first. */
    public List<String> fired() {
        return List.copyOf(fired);
    }

    /** Forgets fired warnings and re-arms every "once" ({@code clear_warn_once} in debugfs). */
    @Linux(file = "kernel/panic.c", fn = "clear_warn_once_set")
    public void clear() {
        once.clear();
        fired.clear();
    }

    /**
     * Mirrors {@code BUG()}: an impossible state.
     *
     * @throws AssertionError always
     */
    @Linux(file = "include/asm-generic/bug.h", fn = "BUG")
    public static void bug(String message) {
        throw new AssertionError("BUG: " + message);
    }

    /** Mirrors {@code BUG_ON()}: throws {@link AssertionError} if {@code condition} holds. */
    @Linux(file = "include/asm-generic/bug.h", fn = "BUG_ON")
    public static void bugOn(boolean condition, String message) {
        if (condition) {
            bug(message);
        }
    }
}
