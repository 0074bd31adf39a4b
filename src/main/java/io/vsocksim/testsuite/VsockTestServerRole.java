package io.vsocksim.testsuite;

import io.vsocksim.sim.Machine;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Random;

/**
 * The server role of the vsock_test port alone, on one machine, as the kernel's
 * {@code vsock_test --mode=server --control-port=N --peer-cid=C} runs it: a TCP control listener on
 * 127.0.0.1, then every test's server function in turn behind the NEXT/SKIP barrier, with the kernel's
 * output. The client role runs elsewhere and reaches this machine's vsock some other way (for a guest
 * exposed by {@code HybridVsock}: through its Unix socket, {@code CONNECT <port>}).
 *
 * <p>Differences from the C program: it waits for the control connection without a timeout (stopped by
 * {@link #close()}); a failed test is reported and the suite goes on, as {@link VsockTestRunner} does.
 */
public final class VsockTestServerRole implements AutoCloseable {
    private final Machine machine;
    private final int peerCid;
    private final ServerSocket control;
    private final PrintStream out;
    private final Thread thread;
    private volatile TcpControl connected;

    private VsockTestServerRole(Machine machine, int peerCid, ServerSocket control, PrintStream out) {
        this.machine = machine;
        this.peerCid = peerCid;
        this.control = control;
        this.out = out;
        this.thread = new Thread(this::serve, "vsock_test-server");
        thread.setDaemon(true);
    }

    /**
     * Listens for the control connection on 127.0.0.1:{@code controlPort} (0: any free port) and runs the
     * suite's server role on {@code machine} once the client connects.
     *
     * @param peerCid the CID the client role's connections come from (2 for the host)
     */
    public static VsockTestServerRole start(Machine machine, int peerCid, int controlPort, PrintStream out)
            throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), controlPort), 1);
        out.println("Control socket listening on 127.0.0.1:" + ss.getLocalPort());
        VsockTestServerRole r = new VsockTestServerRole(machine, peerCid, ss, out);
        r.thread.start();
        return r;
    }

    /** The TCP port of the control listener. */
    public int controlPort() {
        return control.getLocalPort();
    }

    private void serve() {
        try (TcpControl ctl = TcpControl.of(control.accept())) {
            connected = ctl;
            out.println("Control socket connection accepted...");
            control.close();
            runAll(ctl);
        } catch (IOException | TestFailure e) {
            out.println("vsock_test server: " + e.getMessage());
        }
    }

    /**
     * {@link VsockTestRunner#run run_tests} with one role; returns the totals (the closing COMPLETED
     * exchange counts as a test).
     */
    VsockTestRunner.Result runAll(Control ctl) {
        List<VsockTestCase> tests = VsockTests.all(out);
        Random rand = new Random();
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (int i = 0; i < tests.size(); i++) {
            VsockTestCase tc = tests.get(i);
            out.print(i + " - " + tc.name() + "...");
            out.flush();
            boolean unsupported = tc.unsupported() != null;
            TestContext t = unsupported ? null
                    : new TestContext(machine, ctl, peerCid, VsockTestCommand.DEFAULT_PEER_PORT, new Random(rand.nextLong()));
            try {
                if (VsockTestRunner.role(ctl, t, unsupported, unsupported ? null : tc.server())) {
                    out.println("ok");
                    passed++;
                } else {
                    out.println("skipped");
                    skipped++;
                }
            } catch (TestFailure e) {
                out.println("failed");
                out.println(e.getMessage());
                failed++;
            } finally {
                if (t != null) {
                    t.exit();
                }
            }
        }
        out.print("All tests have been executed. Waiting other peer...");
        ctl.writeln("COMPLETED");
        ctl.expectln("COMPLETED");
        out.println("ok");
        VsockTestRunner.Result r = new VsockTestRunner.Result(passed, failed, skipped);
        out.println(r.summary());
        return r;
    }

    /** Waits until the suite has run to its end (the client's COMPLETED read) without closing anything. */
    public void awaitEnd() throws InterruptedException {
        thread.join();
    }

    /** Closes the control listener and connection (a suite under way fails at its next control call) and waits for the role's thread. */
    @Override
    public void close() throws InterruptedException {
        try {
            control.close();
        } catch (IOException ignored) {
            // closed already
        }
        TcpControl c = connected;
        if (c != null) {
            c.close();
        }
        thread.join();
    }
}
