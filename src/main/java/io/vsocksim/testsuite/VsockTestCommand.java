package io.vsocksim.testsuite;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.Linux;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.VsockCapture;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code vsocksim vsock-test}: the vsock_test command line with the kernel's 6.12 option names and
 * output.
 *
 * <p>Both roles run in this process: by default the
 * client in a guest and the server on the host over the virtio path; {@code --transport loopback} puts
 * both on CID 1 of one machine. The control channel is an in-process line pipe, or with
 * {@code --control-port} a real TCP connection on {@code --control-host} (default 127.0.0.1) between the
 * two roles, as the kernel's. {@code --mode} is accepted and validated as the kernel does, but both
 * roles always run. Values are parsed as util.c's parse_uint() and skip_test() parse them, with their
 * messages; a bad one exits with status 2 (the kernel's tool exits 1 for every usage error).
 * The server role alone, in a guest exposed through a Unix socket, is
 * {@code vsocksim serve --workload vsock-test-server} ({@link VsockTestServerRole}).
 */
@Linux(file = "tools/testing/vsock/vsock_test.c", fn = "main")
@Command(name = "vsock-test",
        description = {"Port of Linux 6.12.117's vsock_test suite (the main job).",
            "Both roles run in this process: the client in a guest and the server on the host (virtio, the"
            + " default), or both on CID 1 of one machine (--transport=loopback).",
            "Prints the kernel's 'N - <name>...ok' lines and ends with 'N passed, N failed, N skipped'."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every test that ran passed",
            "1:a test failed; also after --list, as the kernel's vsock_test exits after listing",
            "2:bad usage: an unknown option or a malformed value"})
public final class VsockTestCommand implements Callable<Integer> {
    /** DEFAULT_PEER_PORT of util.h. */
    public static final int DEFAULT_PEER_PORT = 1234;
    /** The guest CID used for the client role over virtio unless --peer-cid says otherwise. */
    public static final int DEFAULT_GUEST_CID = 3;

    private final PrintStream out;
    private final PrintStream err;

    @Spec
    private CommandSpec spec;

    @Option(names = "--control-host", paramLabel = "<host>",
            description = "Host of the TCP control connection [default: ${DEFAULT-VALUE}]")
    private String controlHost = "127.0.0.1";

    @Option(names = "--control-port", paramLabel = "<port>",
            description = "Run the control protocol over TCP on this port (default: in-process pipes)")
    private String controlPort;

    @Option(names = "--mode", paramLabel = "client|server",
            description = "Accepted for compatibility (both roles always run)")
    private String mode;

    @Option(names = "--peer-cid", paramLabel = "<cid>",
            description = "CID of the guest that runs the client role [default: " + DEFAULT_GUEST_CID + "]")
    private String peerCid;

    @Option(names = "--peer-port", paramLabel = "<port>",
            description = "AF_VSOCK port used for the test [default: " + DEFAULT_PEER_PORT + "]")
    private String peerPort;

    @Option(names = "--list", description = "List of tests that will be executed, then exit with status 1 as the"
            + " kernel's vsock_test does")
    private boolean list;

    @Option(names = "--skip", paramLabel = "<test_id>",
            description = "Test ID to skip; use multiple --skip options to skip more tests")
    private List<String> skip = new ArrayList<>();

    @Option(names = "--pick", paramLabel = "<test_id>",
            description = "Test ID to run; use multiple --pick options to run more tests (from later kernels'"
                + " vsock_test)")
    private List<String> pick = new ArrayList<>();

    @Option(names = "--transport", paramLabel = "virtio|loopback",
            description = "virtio (guest client, host server) or loopback (both on CID 1) [default: virtio]")
    private String transport = "virtio";

    @Option(names = "--pcap", paramLabel = "<file>",
            description = "Record the run's vsock packets into <file> (pcapng if it ends in .pcapng, else pcap)"
                    + " as a vsockmon device on the server's machine sees them: the host over virtio")
    private java.nio.file.Path pcap;

    @Option(names = "--seed", paramLabel = "<n>", description = "Seed of the tests' random data (default: random)")
    private Long seed;

    private VsockTestCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs the selected tests; returns 0 when every test that ran passed, 1 otherwise. */
    @Override
    public Integer call() {
        List<VsockTestCase> tests = VsockTests.all(err);
        Set<Integer> skipIds = testIds("--skip", skip, tests.size());
        Set<Integer> pickIds = testIds("--pick", pick, tests.size());
        if (mode != null && !"client".equals(mode) && !"server".equals(mode)) {
            throw invalid("--mode", "--mode must be \"client\" or \"server\"");
        }
        if (!"virtio".equals(transport) && !"loopback".equals(transport)) {
            throw invalid("--transport", "--transport must be \"virtio\" or \"loopback\"");
        }
        long cid = peerCid == null ? DEFAULT_GUEST_CID : parseUint("--peer-cid", peerCid, "CID");
        int port = peerPort == null ? DEFAULT_PEER_PORT : (int) parseUint("--peer-port", peerPort, "port");
        int ctlPort = -1;
        if (controlPort != null) {
            long p = parseUint("--control-port", controlPort, "port");
            if (p > 65535) {
                throw invalid("--control-port", "malformed port \"" + controlPort + "\"");
            }
            ctlPort = (int) p;
        }
        if (list) {
            out.println("ID\tTest name");
            for (int i = 0; i < tests.size(); i++) {
                out.println(i + "\t" + tests.get(i).name());
            }
            return 1;
        }
        long s = seed != null ? seed : java.util.concurrent.ThreadLocalRandom.current().nextLong();
        String host = controlHost;
        int ctl = ctlPort;
        Supplier<Control[]> controls = ctl < 0 ? PipeControl::pair : () -> TcpControl.pair(host, ctl, out);
        try (Machines m = Machines.create(transport, (int) cid);
             VsockCapture cap = pcap == null ? null : VsockCapture.start(m.server.machine(), pcap);
             VsockTestRunner runner = new VsockTestRunner(m.client, m.server, port, skipIds, pickIds, s, controls)) {
            out.println("vsock_test over " + m.description);
            VsockTestRunner.Result r = runner.run(tests, out, err);
            if (cap != null) {
                out.println("capture: " + cap.records() + " packets in " + pcap);
            }
            return r.failed() == 0 ? 0 : 1;
        } catch (java.io.IOException e) {
            throw invalid("--pcap", "cannot write \"" + pcap + "\": " + e.getMessage());
        }
    }

    /** The machines a run uses: one for loopback, a host and a guest for virtio. */
    static final class Machines implements AutoCloseable {
        final VsockTestRunner.Side client;
        final VsockTestRunner.Side server;
        final String description;
        private final List<Machine> owned;

        private Machines(VsockTestRunner.Side client, VsockTestRunner.Side server, String description, List<Machine> owned) {
            this.client = client;
            this.server = server;
            this.description = description;
            this.owned = owned;
        }

        static Machines create(String transport, int guestCid) {
            if ("loopback".equals(transport)) {
                Machine m = Machine.virtualTime("local", 256L << 20);
                VsockTestRunner.Side side = new VsockTestRunner.Side(m, VMADDR_CID_LOCAL);
                return new Machines(side, side, "loopback (both roles on CID 1)", List.of(m));
            }
            return VirtioMachines.create(guestCid);
        }

        @Override
        public void close() {
            for (Machine m : owned) {
                m.close();
            }
        }

        static Machines of(VsockTestRunner.Side client, VsockTestRunner.Side server, String description, List<Machine> owned) {
            return new Machines(client, server, description, owned);
        }
    }

    /** Mirrors skip_test() of util.c for each value of {@code option}, with its messages. */
    private Set<Integer> testIds(String option, List<String> values, int count) {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String value : values) {
            long id;
            try {
                id = Long.parseUnsignedLong(value);
            } catch (NumberFormatException e) {
                throw invalid(option, "malformed test ID \"" + value + "\"");
            }
            if (id >= count) {
                throw invalid(option, "test ID (" + id + ") larger than the max allowed (" + (count - 1) + ")");
            }
            ids.add((int) id);
        }
        return ids;
    }

    /** Mirrors parse_uint() of util.c ("malformed CID"/"malformed port"); also rejects values above u32. */
    private long parseUint(String option, String value, String what) {
        try {
            long v = Long.parseUnsignedLong(value);
            if (v <= 0xFFFF_FFFFL) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below, as parse_uint() reports it
        }
        throw invalid(option, "malformed " + what + " \"" + value + "\"");
    }

    private ParameterException invalid(String option, String message) {
        return new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + message);
    }
}
