package io.vsocksim.user.junit;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link VsockSim}: before each test it boots a host (CID 2) and the
 * guests, it hands them to the test's parameters, and after the test (and its {@code @AfterEach}
 * methods) it shuts them down. A test that passed then fails with an {@link AssertionError} naming
 * each of these it finds:
 * <ul>
 *   <li>a descriptor still open in a machine's embedder process, where {@code machine.socket(type)}
 *       makes its sockets;</li>
 *   <li>a socket still alive on a machine (made by any process) once those the test closed had time
 *       to go: a close that waits for its peer ends within the 8-s close timeout, in machine time;</li>
 *   <li>a kernel WARN fired on a machine ({@code WARN_ONCE}: the model met a state it should never
 *       reach);</li>
 *   <li>pages not given back: on a machine whose sockets are all gone, pages in use must be what they
 *       were when the test started, the RX buffers the guest driver keeps posted aside; and once the
 *       machines are shut down, every page they ever allocated must be free.</li>
 * </ul>
 * A test that failed by itself is reported with its own failure; the machines are shut down all the
 * same.
 *
 * <p>Two ways to use it: the annotation, whose settings come from the test method or class (or an
 * enclosing class), or a field, whose settings are its own and which also answers for the running test:
 * <pre>{@code
 * @RegisterExtension
 * final VsockSimExtension sim = VsockSimExtension.withGuests(3, 4);
 *
 * @Test
 * void pair() throws Exception {
 *     try (SocketPair p = sim.simulation().connectedPair(sim.guest(3), sim.host(), SOCK_STREAM)) { ... }
 * }
 * }</pre>
 * The field's accessors answer for the test running now; with JUnit's parallel execution, take the
 * machines as parameters instead.
 */
public final class VsockSimExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final String KEY = "simulation";

    /** The settings given in code, or null to read them from {@link VsockSim}. */
    private final long[] guests;
    private final VsockSim.Time time;
    /** The running test's machines, for the accessors of a registered field. */
    private volatile Simulation current;
    /**
     * Where this instance keeps a test's machines: its own, as an outer class's field and a nested
     * class's field both start machines for the nested class's tests.
     */
    private final ExtensionContext.Namespace namespace = ExtensionContext.Namespace.create(VsockSimExtension.class, this);

    /** The extension as {@link VsockSim} registers it: its settings come from the annotation. */
    public VsockSimExtension() {
        this(null, null);
    }

    private VsockSimExtension(long[] guests, VsockSim.Time time) {
        this.guests = guests;
        this.time = time;
    }

    /**
     * An extension for a {@code @RegisterExtension} field.
     *
     * @param cids the guests to start, in order; none for a host alone
     * @return an extension that starts a host and those guests for each test, in virtual time
     */
    public static VsockSimExtension withGuests(long... cids) {
        return new VsockSimExtension(cids.clone(), VsockSim.Time.VIRTUAL);
    }

    /**
     * This extension's machines on real time.
     *
     * @return an extension like this one whose machines run on real time ({@link VsockSim.Time#REAL})
     */
    public VsockSimExtension inRealTime() {
        return new VsockSimExtension(guests == null ? new long[] {3} : guests, VsockSim.Time.REAL);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        long[] cids = guests;
        VsockSim.Time t = time;
        if (cids == null) {
            VsockSim a = settings(context);
            cids = a == null ? new long[] {3} : a.guests();
            t = a == null ? VsockSim.Time.VIRTUAL : a.time();
        }
        Simulation sim = Simulation.start(cids, t);
        context.getStore(namespace).put(KEY, sim);
        current = sim;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Simulation sim = context.getStore(namespace).remove(KEY, Simulation.class);
        current = null;
        if (sim != null) {
            sim.finish(context.getExecutionException().isEmpty());
        }
    }

    /** The nearest {@link VsockSim}: on the test method, else its class or an enclosing class. */
    private static VsockSim settings(ExtensionContext context) {
        Optional<VsockSim> onMethod = context.getTestMethod().map(m -> m.getAnnotation(VsockSim.class));
        if (onMethod.isPresent()) {
            return onMethod.get();
        }
        for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
            VsockSim a = c.getAnnotation(VsockSim.class);
            if (a != null) {
                return a;
            }
        }
        return null;
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext context) {
        Class<?> type = p.getParameter().getType();
        return type == Host.class || type == Guest.class || type == Simulation.class || isListOfGuests(p);
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext context) {
        Simulation sim = context.getStore(namespace).get(KEY, Simulation.class);
        if (sim == null) {
            AnnotatedElement where = p.getDeclaringExecutable();
            throw new ParameterResolutionException("vsocksim machines exist only while a test runs: "
                    + (where instanceof Constructor ? "a constructor" : "@BeforeAll and @AfterAll methods")
                    + " cannot take them (" + p.getDeclaringExecutable() + ")");
        }
        Class<?> type = p.getParameter().getType();
        if (type == Host.class) {
            return sim.host();
        }
        if (type == Simulation.class) {
            return sim;
        }
        if (type != Guest.class) {
            return sim.guests();
        }
        Optional<Cid> cid = p.findAnnotation(Cid.class);
        if (cid.isPresent()) {
            try {
                return sim.guest(cid.get().value());
            } catch (IllegalArgumentException e) {
                throw new ParameterResolutionException(e.getMessage(), e);
            }
        }
        if (sim.guests().size() != 1) {
            throw new ParameterResolutionException("guests " + sim.cids() + " run: mark Guest parameter "
                    + p.getIndex() + " of " + p.getDeclaringExecutable().getName() + " with @Cid(cid)");
        }
        return sim.guests().get(0);
    }

    private static boolean isListOfGuests(ParameterContext p) {
        Type t = p.getParameter().getParameterizedType();
        return t instanceof ParameterizedType pt && pt.getRawType() == List.class
                && pt.getActualTypeArguments()[0] == Guest.class;
    }

    /**
     * The running test's machines.
     *
     * @return the simulation this extension started for the test running now
     * @throws IllegalStateException outside a test of this extension
     */
    public Simulation simulation() {
        Simulation sim = current;
        if (sim == null) {
            throw new IllegalStateException("no vsocksim test is running");
        }
        return sim;
    }

    /**
     * The running test's host.
     *
     * @return {@link Simulation#host()} of {@link #simulation()}
     */
    public Host host() {
        return simulation().host();
    }

    /**
     * A guest of the running test.
     *
     * @param cid one of the guests' CIDs
     * @return {@link Simulation#guest(long)} of {@link #simulation()}
     */
    public Guest guest(long cid) {
        return simulation().guest(cid);
    }
}
