package io.vsocksim.tools;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.bridge.HybridVsock;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code vsocksim serve}: a simulated host and guest whose vsock is exposed through a Unix socket as
 * Firecracker exposes a microVM's ({@link HybridVsock}), so that programs outside the JVM (socat, an agent
 * in any language) talk to the guest. The guest runs a workload:
 * <ul>
 *   <li>{@code echo} (default): a listener on port {@value GuestEcho#PORT} that sends back what each
 *       connection sends, then half-closes when the peer has;</li>
 *   <li>{@code vsock-test-server}: the server role of the vsock_test port, its control channel a TCP
 *       listener on {@code --control-port} as the kernel's {@code vsock_test --mode=server}
 *       ({@link io.vsocksim.testsuite.VsockTestServerRole}).</li>
 * </ul>
 * It prints the socket's path and runs until interrupted; a shutdown hook closes the bridge, the guest
 * and the host. {@link #start} holds the logic, for tests.
 */
@Command(name = "serve",
        description = {"Starts a simulated host and guest and exposes the guest's vsock at the Unix socket PATH, as"
            + " Firecracker does: connect to PATH and write \"CONNECT <port>\\n\" to reach a guest listener (the"
            + " answer is \"OK <host port>\\n\"); a guest connect to CID 2 port P reaches a program listening on"
            + " PATH_P. Runs until interrupted."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:stopped by an interrupt", "1:could not start (the socket path exists, ...)", "2:bad usage"})
public final class ServeCommand implements Callable<Integer> {
    /** The workloads a guest can run. */
    public enum Workload { ECHO, VSOCK_TEST_SERVER }

    /**
     * A parsed command line.
     *
     * @param uds the Unix socket's path
     * @param guestCid the guest's CID
     * @param workload what runs in the guest
     * @param controlPort vsock-test-server's TCP control port
     * @param pcap where to record the host's vsock packets (pcapng or pcap), or null
     */
    public record Options(Path uds, int guestCid, Workload workload, int controlPort, Path pcap) {
    }

    private final PrintStream out;
    private final PrintStream err;

    @Option(names = "--uds", paramLabel = "PATH", required = true, description = "The Unix socket to create (it must not exist)")
    private Path uds;

    @Option(names = "--guest-cid", paramLabel = "N", description = "The guest's CID, 3 .. 4294967294 [default: 3]")
    private long guestCid = 3;

    @Option(names = "--workload", paramLabel = "echo|vsock-test-server",
            description = "echo: a listener on port " + GuestEcho.PORT + " that echoes every connection [default];"
                    + " vsock-test-server: the server role of the vsock_test port")
    private String workload = "echo";

    @Option(names = "--control-port", paramLabel = "N",
            description = "vsock-test-server's TCP control port on 127.0.0.1 [default: ${DEFAULT-VALUE}]")
    private int controlPort = 1235;

    @Option(names = "--pcap", paramLabel = "FILE", description = "Record the host's vsock packets into FILE (pcapng,"
            + " or pcap for another name than *.pcapng) for Wireshark or tshark")
    private Path pcap;

    @Spec
    private CommandSpec spec;

    private ServeCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Starts, then waits for an interrupt; 0 after one, 1 if it cannot start. */
    @Override
    public Integer call() {
        Serving s;
        try {
            s = start(options(), out);
        } catch (IOException e) {
            err.println("vsocksim serve: " + e.getMessage());
            return 1;
        }
        Thread hook = new Thread(s::close, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            s.awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The checked options; a bad value is a usage error naming its option. */
    Options options() {
        if (guestCid < 3 || guestCid > 0xFFFF_FFFEL) {
            throw invalid("--guest-cid", Long.toString(guestCid), "is not a guest CID (3 .. 4294967294)");
        }
        if (controlPort < 0 || controlPort > 65535) {
            throw invalid("--control-port", Integer.toString(controlPort), "is not a TCP port");
        }
        Workload w;
        if ("echo".equals(workload)) {
            w = Workload.ECHO;
        } else if ("vsock-test-server".equals(workload)) {
            w = Workload.VSOCK_TEST_SERVER;
        } else {
            throw invalid("--workload", workload, "is not echo or vsock-test-server");
        }
        return new Options(uds, (int) guestCid, w, controlPort, pcap);
    }

    private ParameterException invalid(String option, String value, String why) {
        return new ParameterException(spec.commandLine(),
                "Invalid value for option '" + option + "': '" + value + "' " + why);
    }

    /** A running host, guest, workload and bridge; closed together. */
    public static final class Serving implements AutoCloseable {
        private final Host host;
        private final Guest guest;
        private final AutoCloseable workload;
        private final HybridVsock bridge;
        private final AutoCloseable capture;
        private final CountDownLatch closed = new CountDownLatch(1);

        private Serving(Host host, Guest guest, AutoCloseable workload, HybridVsock bridge, AutoCloseable capture) {
            this.host = host;
            this.guest = guest;
            this.workload = workload;
            this.bridge = bridge;
            this.capture = capture;
        }

        /** The guest. */
        public Guest guest() {
            return guest;
        }

        /** Waits until {@link #close()} has run. */
        public void awaitClosed() throws InterruptedException {
            closed.await();
        }

        /** Closes the bridge, the workload, the capture, the guest and the host; idempotent. */
        @Override
        public synchronized void close() {
            if (closed.getCount() == 0) {
                return;
            }
            closeQuietly(bridge);
            closeQuietly(workload);
            closeQuietly(capture);
            host.close();
            closed.countDown();
        }
    }

    /**
     * Starts a host on real threads, guest {@code o.guestCid()}, the workload in it and the bridge at
     * {@code o.uds()}; prints where it listens.
     */
    public static Serving start(Options o, PrintStream out) throws IOException {
        Host host = Host.virtualTime("host");
        AutoCloseable workload = null;
        AutoCloseable capture = null;
        try {
            capture = o.pcap() == null ? null : host.capture(o.pcap());
            Guest guest = host.startGuest(o.guestCid());
            workload = o.workload() == Workload.ECHO ? new GuestEcho(guest, GuestEcho.PORT)
                    : io.vsocksim.testsuite.VsockTestServerRole.start(guest, 2, o.controlPort(), out);
            HybridVsock bridge = HybridVsock.expose(guest, o.uds());
            out.println("vsocksim serve: guest CID " + o.guestCid() + " exposed at " + o.uds());
            if (o.workload() == Workload.ECHO) {
                out.println("  echo on guest port " + GuestEcho.PORT + ": socat - UNIX-CONNECT:" + o.uds()
                        + ", then type CONNECT " + GuestEcho.PORT);
            }
            if (o.pcap() != null) {
                out.println("  host vsock packets recorded in " + o.pcap());
            }
            out.println("  guest connects to CID 2 port P reach " + o.uds() + "_P; Ctrl-C stops");
            out.flush();
            return new Serving(host, guest, workload, bridge, capture);
        } catch (IOException | RuntimeException e) {
            closeQuietly(workload);
            closeQuietly(capture);
            host.close();
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // shutting down: the host's close frees what is left
        }
    }
}
