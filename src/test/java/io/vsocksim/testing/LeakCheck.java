package io.vsocksim.testing;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.Footprint;
import io.vsocksim.mm.PageAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test whose page allocators did not return to the count they had when the test started
 * tracking them: a leaked page is a failed test.
 *
 * <p>Register it as a field and track every allocator the test creates or uses:
 * <pre>
 *   &#64;RegisterExtension final LeakCheck leaks = new LeakCheck();
 *   PageAllocator alloc = leaks.track(new PageAllocator(memory));
 * </pre>
 * The check runs after the test's own {@code @AfterEach} methods, so fixtures may release their pages
 * there. Other things that must come back (sockets, skbs, warnings) register a {@link Probe}.
 */
public final class LeakCheck implements AfterEachCallback {
    /** Something that must be back at its baseline when the test ends. */
    public interface Probe {
        /** Describes what is still outstanding, or returns null when everything is back. */
        String outstanding();
    }

    private final List<PageAllocator> allocators = new ArrayList<>();
    private final List<Footprint> baselines = new ArrayList<>();
    private final List<Probe> probes = new ArrayList<>();
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    /**
     * Tracks {@code a} from now on: at the end of the test it must hold as many pages outside its slab
     * caches, and as many slab objects, as now ({@link Footprint}).
     */
    public PageAllocator track(PageAllocator a) {
        allocators.add(a);
        baselines.add(Footprint.of(a));
        return a;
    }

    /**
     * Tracks a whole machine: its page allocator must come back to its current count and no
     * WARN_ONCE may fire on it during the test.
     */
    public KernelContext track(KernelContext k) {
        track(k.pages());
        probe(() -> k.warnings().fired().isEmpty() ? null : "WARN_ONCE fired on " + k.name() + ": " + k.warnings().fired());
        return k;
    }

    /**
     * Closes {@code c} once the check has run (whatever its outcome): a machine whose threads must
     * end with the test, but only after the probes let its pending work finish.
     */
    public <T extends AutoCloseable> T closeAfter(T c) {
        closeAfter.add(c);
        return c;
    }

    /** Adds a probe checked at the end of the test. */
    public void probe(Probe p) {
        probes.add(p);
    }

    /** Runs the check now (also called automatically after each test); throws on a leak. */
    public void verify() {
        StringBuilder leaks = new StringBuilder();
        // Probes first: a machine's probe lets its close timeouts run out, which frees the last packets.
        for (Probe p : probes) {
            String s = p.outstanding();
            if (s != null) {
                leaks.append("\n  ").append(s);
            }
        }
        for (int i = 0; i < allocators.size(); i++) {
            PageAllocator a = allocators.get(i);
            Footprint base = baselines.get(i);
            Footprint now = Footprint.of(a);
            if (!now.equals(base)) {
                leaks.append("\n  memory leaked: allocator over ").append(a.memory().name())
                        .append(" holds ").append(now.beyond(base)).append(" more than at the start (")
                        .append(a).append(')');
            }
        }
        if (leaks.length() > 0) {
            throw new AssertionError("leak check failed:" + leaks);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            if (context.getExecutionException().isEmpty()) {
                verify();
            }
        } finally {
            allocators.clear();
            baselines.clear();
            probes.clear();
            for (AutoCloseable c : closeAfter) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + c + " after the test", e);
                }
            }
            closeAfter.clear();
        }
    }
}
