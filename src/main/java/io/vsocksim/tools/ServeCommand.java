package io.vsocksim.tools;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.bridge.HybridVsock;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

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
 * and the host. Argument parsing is kept minimal: {@link #parse} and {@link #start} hold the logic.
 */
public final class ServeCommand {
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

    /** The usage text. */
    public static final String USAGE = String.join("\n",
            "usage: vsocksim serve --uds PATH [--guest-cid N] [--workload echo|vsock-test-server] [--control-port N]"
                    + " [--pcap FILE]",
            "  Starts a simulated host and guest and exposes the guest's vsock at the Unix socket PATH, as",
            "  Firecracker does: connect to PATH and write \"CONNECT <port>\\n\" to reach a guest listener (the",
            "  answer is \"OK <host port>\\n\"); a guest connect to CID 2 port P reaches a program listening on",
            "  PATH_P. Runs until interrupted.",
            "  --uds PATH          the Unix socket to create (it must not exist)",
            "  --guest-cid N       the guest's CID [default: 3]",
            "  --workload W        echo: a listener on port " + GuestEcho.PORT + " that echoes every connection [default];",
            "                      vsock-test-server: the server role of the vsock_test port",
            "  --control-port N    vsock-test-server's TCP control port on 127.0.0.1 [default: 1235]",
            "  --pcap FILE         record the host's vsock packets into FILE (pcapng, or pcap for another",
            "                      name than *.pcapng) for Wireshark or tshark");

    private ServeCommand() {
    }

    /** Runs the command; returns the exit status (0 after an interrupt, 2 for a usage error, 1 if it cannot start). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && ("--help".equals(args[0]) || "-h".equals(args[0]))) {
            out.println(USAGE);
            return 0;
        }
        Options o = parse(args, err);
        if (o == null) {
            err.println(USAGE);
            return 2;
        }
        Serving s;
        try {
            s = start(o, out);
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

    /** The options of {@code args}, or null after printing what is wrong to {@code err}. */
    public static Options parse(String[] args, PrintStream err) {
        Path uds = null;
        int cid = 3;
        Workload workload = Workload.ECHO;
        int controlPort = 1235;
        Path pcap = null;
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (i + 1 >= args.length) {
                err.println("vsocksim serve: " + name + " needs a value");
                return null;
            }
            String value = args[++i];
            switch (name) {
                case "--uds":
                    uds = Path.of(value);
                    break;
                case "--guest-cid":
                    cid = parseInt(value, 3, -2, err);
                    if (cid == -1) {
                        return null;
                    }
                    break;
                case "--workload":
                    if ("echo".equals(value)) {
                        workload = Workload.ECHO;
                    } else if ("vsock-test-server".equals(value)) {
                        workload = Workload.VSOCK_TEST_SERVER;
                    } else {
                        err.println("vsocksim serve: unknown workload '" + value + "'");
                        return null;
                    }
                    break;
                case "--pcap":
                    pcap = Path.of(value);
                    break;
                case "--control-port":
                    controlPort = parseInt(value, 0, 65535, err);
                    if (controlPort == -1) {
                        return null;
                    }
                    break;
                default:
                    err.println("vsocksim serve: unknown option '" + name + "'");
                    return null;
            }
        }
        if (uds == null) {
            err.println("vsocksim serve: --uds PATH is required");
            return null;
        }
        return new Options(uds, cid, workload, controlPort, pcap);
    }

    /** {@code value} as an int in {@code [min, max]} (max -2: up to U32_MAX - 1 as an unsigned int), or -1. */
    private static int parseInt(String value, long min, long max, PrintStream err) {
        long top = max == -2 ? 0xFFFF_FFFEL : max;
        try {
            long v = Long.parseLong(value);
            if (v >= min && v <= top) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        err.println("vsocksim serve: '" + value + "' is not a number from " + min + " to " + top);
        return -1;
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

        /** The bridge. */
        public HybridVsock bridge() {
            return bridge;
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
        Host host = Host.threaded("host");
        AutoCloseable workload = null;
        AutoCloseable capture = null;
        try {
            capture = o.pcap() == null ? null : io.vsocksim.user.VsockCapture.start(host, o.pcap());
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
