package io.vsocksim.testsuite;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.Linux;
import io.vsocksim.sim.Machine;
import java.io.PrintStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code vsocksim vsock-test}: the vsock_test command line with the kernel's 6.12 options and output.
 *
 * <p>Both roles run in this process: by default the
 * client in a guest and the server on the host over the virtio path; {@code --transport loopback} puts
 * both on CID 1 of one machine. The control channel is an in-process line pipe, or with
 * {@code --control-port} a real TCP connection on {@code --control-host} (default 127.0.0.1) between the
 * two roles, as the kernel's. {@code --mode} is accepted and validated as the kernel does, but both
 * roles always run. The server role alone, in a guest exposed through a Unix socket, is
 * {@code vsocksim serve --workload vsock-test-server} ({@link VsockTestServerRole}).
 */
@Linux(file = "tools/testing/vsock/vsock_test.c", fn = "main")
public final class VsockTestCommand {
    /** DEFAULT_PEER_PORT of util.h. */
    public static final int DEFAULT_PEER_PORT = 1234;
    /** The guest CID used for the client role over virtio unless --peer-cid says otherwise. */
    public static final int DEFAULT_GUEST_CID = 3;

    private VsockTestCommand() {
    }

    /** Runs the command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Set<Integer> skip = new LinkedHashSet<>();
        Set<Integer> pick = new LinkedHashSet<>();
        int peerPort = DEFAULT_PEER_PORT;
        long peerCid = -1;
        String transport = "virtio";
        long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        String controlHost = "127.0.0.1";
        int controlPort = -1;
        List<VsockTestCase> tests = VsockTests.all(err);
        for (String arg : args) {
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help":
                case "-h":
                    usage(err);
                    return 1;
                case "--list":
                    out.println("ID\tTest name");
                    for (int i = 0; i < tests.size(); i++) {
                        out.println(i + "\t" + tests.get(i).name());
                    }
                    // The kernel's vsock_test exits with status 1 after --list.
                    return 1;
                case "--skip":
                case "--pick": {
                    Integer id = parseTestId(value, tests.size(), err);
                    if (id == null) {
                        return 1;
                    }
                    ("--skip".equals(name) ? skip : pick).add(id);
                    break;
                }
                case "--mode":
                    if (!"client".equals(value) && !"server".equals(value)) {
                        err.println("--mode must be \"client\" or \"server\"");
                        return 1;
                    }
                    break;
                case "--peer-cid":
                    peerCid = parseUint(value, "malformed CID", err);
                    if (peerCid < 0) {
                        return 1;
                    }
                    break;
                case "--peer-port":
                    long p = parseUint(value, "malformed port", err);
                    if (p < 0) {
                        return 1;
                    }
                    peerPort = (int) p;
                    break;
                case "--control-host":
                    controlHost = value;
                    break;
                case "--control-port": {
                    long cp = parseUint(value, "malformed port", err);
                    if (cp < 0 || cp > 65535) {
                        if (cp > 65535) {
                            err.println("malformed port \"" + value + "\"");
                        }
                        return 1;
                    }
                    controlPort = (int) cp;
                    break;
                }
                case "--transport":
                    if (!"virtio".equals(value) && !"loopback".equals(value)) {
                        err.println("--transport must be \"virtio\" or \"loopback\"");
                        return 1;
                    }
                    transport = value;
                    break;
                case "--seed":
                    seed = Long.parseLong(value);
                    break;
                default:
                    usage(err);
                    return 1;
            }
        }
        String host = controlHost;
        int port = controlPort;
        java.util.function.Supplier<Control[]> controls = port < 0 ? PipeControl::pair : () -> TcpControl.pair(host, port, out);
        try (Machines m = Machines.create(transport, peerCid < 0 ? DEFAULT_GUEST_CID : (int) peerCid);
             VsockTestRunner runner = new VsockTestRunner(m.client, m.server, peerPort, skip, pick, seed, controls)) {
            out.println("vsock_test over " + m.description);
            VsockTestRunner.Result r = runner.run(tests, out, err);
            return r.failed() == 0 ? 0 : 1;
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
                Machine m = Machine.threaded("local", 256L << 20);
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

    private static Integer parseTestId(String value, int count, PrintStream err) {
        long id;
        try {
            id = Long.parseUnsignedLong(value == null ? "" : value);
        } catch (NumberFormatException e) {
            err.println("malformed test ID \"" + value + "\"");
            return null;
        }
        if (id >= count) {
            err.println("test ID (" + id + ") larger than the max allowed (" + (count - 1) + ")");
            return null;
        }
        return (int) id;
    }

    private static long parseUint(String value, String what, PrintStream err) {
        try {
            long v = Long.parseUnsignedLong(value == null ? "" : value);
            if (v > 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            err.println(what + " \"" + value + "\"");
            return -1;
        }
    }

    static void usage(PrintStream err) {
        err.println("Usage: vsocksim vsock-test [--help] [--transport=virtio|loopback] [--control-host=<host>]"
                + " [--control-port=<port>] [--mode=client|server] [--peer-cid=<cid>] [--peer-port=<port>]"
                + " [--list] [--skip=<test_id>] [--pick=<test_id>] [--seed=<n>]");
        err.println();
        err.println("Run the port of Linux 6.12.117's vsock_test on the simulator. Both roles run in this");
        err.println("process: the client in a guest and the server on the host (virtio, the default), or both");
        err.println("on CID 1 of one machine (--transport=loopback).");
        err.println();
        err.println("Options:");
        err.println("  --help                 This help message");
        err.println("  --transport <t>        virtio (guest client, host server) or loopback");
        err.println("  --control-host <host>  Host of the TCP control connection [default: 127.0.0.1]");
        err.println("  --control-port <port>  Run the control protocol over TCP on this port (default: in-process pipes)");
        err.println("  --mode client|server   Accepted for compatibility (both roles always run)");
        err.println("  --peer-cid <cid>       CID of the guest that runs the client role [default: " + DEFAULT_GUEST_CID + "]");
        err.println("  --peer-port <port>     AF_VSOCK port used for the test [default: " + DEFAULT_PEER_PORT + "]");
        err.println("  --list                 List of tests that will be executed");
        err.println("  --skip <test_id>       Test ID to skip; use multiple --skip options to skip more tests");
        err.println("  --pick <test_id>       Test ID to run; use multiple --pick options to run more tests");
        err.println("  --seed <n>             Seed of the tests' random data");
    }
}
