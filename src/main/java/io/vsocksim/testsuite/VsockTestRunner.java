package io.vsocksim.testsuite;

import io.vsocksim.Linux;
import io.vsocksim.mm.Footprint;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import java.io.PrintStream;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs the vsock_test suite with both roles in one process: the client on one machine, the server on
 * another (or both on one machine over loopback), each role in its own thread, synchronised only
 * through the control channel and its NEXT/SKIP barrier, exactly as util.c:run_tests does.
 *
 * <p>Differences from the C runner: a failing test does not end the program; it is reported with its
 * diagnostic, the other role is aborted, and the suite goes on with fresh control pipes. After every
 * test both machines must come back to their socket and page counts (a leak fails that test).
 */
public final class VsockTestRunner implements AutoCloseable {
    /** How long a machine may take to settle after a test before the leftovers count as a leak. */
    static final long SETTLE_NANOS = 10_000_000_000L;

    /** Where one role runs and whom it talks to. */
    public record Side(Machine machine, int peerCid) {
    }

    /** A test's outcome. */
    public enum Status { OK, SKIPPED, FAILED }

    /**
     * @param status what happened
     * @param detail the failure's diagnostic or the skip reason (may be null)
     */
    public record Outcome(Status status, String detail) {
    }

    /** Totals of a run. */
    public record Result(int passed, int failed, int skipped) {
        /** The closing line: {@code N passed, N failed, N skipped}. */
        public String summary() {
            return passed + " passed, " + failed + " failed, " + skipped + " skipped";
        }
    }

    private final Side client;
    private final Side server;
    private final int peerPort;
    private final Set<Integer> skip;
    private final Set<Integer> pick;
    private final Random rand;
    private final java.util.function.Supplier<Control[]> controls;
    private final ExecutorService roles = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "vsock_test-role");
        t.setDaemon(true);
        return t;
    });
    private Control[] control;

    /**
     * @param skip test IDs to skip ({@code --skip})
     * @param pick if not empty, only these IDs run ({@code --pick})
     * @param seed seed of the tests' rand()
     */
    public VsockTestRunner(Side client, Side server, int peerPort, Set<Integer> skip, Set<Integer> pick, long seed) {
        this(client, server, peerPort, skip, pick, seed, PipeControl::pair);
    }

    /**
     * @param controls makes a connected pair of control ends {@code [client, server]} (in-process pipes
     *     or a TCP connection); called again after a failed test
     */
    public VsockTestRunner(Side client, Side server, int peerPort, Set<Integer> skip, Set<Integer> pick, long seed,
            java.util.function.Supplier<Control[]> controls) {
        this.controls = controls;
        this.client = client;
        this.server = server;
        this.peerPort = peerPort;
        this.skip = skip;
        this.pick = pick;
        this.rand = new Random(seed);
        this.control = newControl();
    }

    /** A fresh pair of control ends, each settling both machines before it writes. */
    private Control[] newControl() {
        if (control != null) {
            control[0].close();
            control[1].close();
        }
        Control[] p = controls.get();
        return new Control[] {new SettlingControl(p[0], client.machine(), server.machine()),
            new SettlingControl(p[1], client.machine(), server.machine())};
    }

    /**
     * Runs every test, printing the kernel's output to {@code out}; returns the totals. Both roles at
     * once: {@link VsockTestServerRole#runAll} is the same loop for one role.
     */
    @Linux(file = "tools/testing/vsock/util.c", fn = "run_tests")
    public Result run(List<VsockTestCase> tests, PrintStream out, PrintStream err) {
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (int i = 0; i < tests.size(); i++) {
            out.print(i + " - " + tests.get(i).name() + "...");
            out.flush();
            Outcome o = runOne(tests, i);
            switch (o.status()) {
                case OK:
                    out.println("ok");
                    passed++;
                    break;
                case SKIPPED:
                    out.println(o.detail() == null ? "skipped" : "skipped (" + o.detail() + ")");
                    skipped++;
                    break;
                default:
                    out.println("failed");
                    err.println(o.detail());
                    failed++;
                    break;
            }
        }
        out.print("All tests have been executed. Waiting other peer...");
        out.flush();
        Future<?> c = roles.submit(() -> {
            control[0].writeln("COMPLETED");
            control[0].expectln("COMPLETED");
        });
        Future<?> s = roles.submit(() -> {
            control[1].writeln("COMPLETED");
            control[1].expectln("COMPLETED");
        });
        String fail = join(c, s)[0];
        out.println(fail == null ? "ok" : "failed");
        Result r = new Result(passed, fail == null ? failed : failed + 1, skipped);
        out.println(r.summary());
        return r;
    }

    /** Runs test {@code id} of {@code tests} (barrier, both roles, leak check). */
    public Outcome runOne(List<VsockTestCase> tests, int id) {
        VsockTestCase tc = tests.get(id);
        boolean localSkip = skip.contains(id) || (!pick.isEmpty() && !pick.contains(id));
        if (!localSkip && tc.unsupported() != null) {
            barrierOnly();
            return new Outcome(Status.SKIPPED, tc.unsupported());
        }
        quiesceBoth();
        int clientBase = client.machine().liveSockets();
        int serverBase = server.machine().liveSockets();
        Footprint clientPages = SimInternals.footprint(client.machine());
        Footprint serverPages = SimInternals.footprint(server.machine());
        long seed = rand.nextLong();
        TestContext ct = new TestContext(client.machine(), control[0], client.peerCid(), peerPort, new Random(seed));
        TestContext st = new TestContext(server.machine(), control[1], server.peerCid(), peerPort, new Random(seed ^ 0x5DEECE66DL));
        Future<Boolean> c = roles.submit(() -> role(ct.control, ct, localSkip, tc.client()));
        Future<Boolean> s = roles.submit(() -> role(st.control, st, localSkip, tc.server()));
        String[] failure = join(c, s);
        ct.exit();
        st.exit();
        if (failure[0] != null) {
            control = newControl();
            settle(client.machine(), clientBase);
            settle(server.machine(), serverBase);
            return new Outcome(Status.FAILED, failure[0]);
        }
        if (failure[1] != null) {
            return new Outcome(Status.SKIPPED, null);
        }
        // Work on one machine queues work on the other (a kick, an interrupt): count once both are idle.
        quiesceBoth();
        String leak = leaks(client.machine(), clientBase, clientPages);
        if (leak == null && server.machine() != client.machine()) {
            leak = leaks(server.machine(), serverBase, serverPages);
        }
        return leak == null ? new Outcome(Status.OK, null) : new Outcome(Status.FAILED, leak);
    }

    /** A locally unsupported test still goes through the barrier, with SKIP on both sides. */
    private void barrierOnly() {
        Control cc = control[0];
        Control sc = control[1];
        Future<Boolean> c = roles.submit(() -> role(cc, null, true, null));
        Future<Boolean> s = roles.submit(() -> role(sc, null, true, null));
        join(c, s);
    }

    /**
     * One role of one test: the NEXT/SKIP barrier, then the role's function (a missing one does
     * nothing, as in C). Returns false if the test was skipped by either side.
     */
    static Boolean role(Control ctl, TestContext t, boolean localSkip, Consumer<TestContext> fn) {
        ctl.writeln(localSkip ? "SKIP" : "NEXT");
        String line = ctl.readln();
        if ("SKIP".equals(line) || localSkip) {
            return false;
        }
        if (!"NEXT".equals(line)) {
            throw new TestFailure("expected \"NEXT\" on control socket, got \"" + line + "\"");
        }
        if (fn != null) {
            fn.accept(t);
        }
        return true;
    }

    /**
     * Waits for both roles; returns {failure diagnostic or null, non-null if skipped}. When one role
     * fails the other is interrupted so that it does not wait for lines that will never come.
     */
    private static String[] join(Future<?> a, Future<?> b) {
        String failure = null;
        boolean skipped = false;
        Future<?>[] both = {a, b};
        for (int i = 0; i < 2; i++) {
            try {
                Object r = both[i].get(60, TimeUnit.SECONDS);
                if (Boolean.FALSE.equals(r)) {
                    skipped = true;
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                String msg = cause instanceof TestFailure ? cause.getMessage() : String.valueOf(cause);
                if (failure == null || "aborted".equals(failure)) {
                    failure = msg;
                }
                both[1 - i].cancel(true);
            } catch (TimeoutException e) {
                both[0].cancel(true);
                both[1].cancel(true);
                failure = failure == null ? "test timed out" : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = "interrupted";
            } catch (java.util.concurrent.CancellationException e) {
                failure = failure == null ? "aborted" : failure;
            }
        }
        return new String[] {failure, skipped ? "skipped" : null};
    }

    private static void settle(Machine m, int base) {
        SimInternals.core(m).awaitLiveSockets(base, SETTLE_NANOS);
    }

    /** Runs both machines' work until a round finds both idle (bounded: traffic may still be settling). */
    private void quiesceBoth() {
        for (int round = 0; round < 64; round++) {
            boolean idle = client.machine().quiesce();
            if (server.machine().quiesce() && idle) {
                return;
            }
        }
    }

    /** Null if {@code m} came back to its counts, else the leak. */
    private static String leaks(Machine m, int baseSockets, Footprint basePages) {
        m.quiesce();
        if (!SimInternals.core(m).awaitLiveSockets(baseSockets, SETTLE_NANOS)) {
            return "leak on " + SimInternals.kernel(m).name() + ": " + (m.liveSockets() - baseSockets) + " socket(s) not released";
        }
        m.quiesce();
        Footprint now = SimInternals.footprint(m);
        if (!now.equals(basePages)) {
            return "leak on " + SimInternals.kernel(m).name() + ": " + now.beyond(basePages) + " not freed";
        }
        return null;
    }

    @Override
    public void close() {
        roles.shutdownNow();
    }
}
