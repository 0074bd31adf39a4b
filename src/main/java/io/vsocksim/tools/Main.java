package io.vsocksim.tools;

import java.io.PrintStream;

/**
 * The {@code vsocksim} command line. Subcommands: {@code smoke} (the foundation smoke job); the
 * {@code vsock-test} suite and the {@code rx-zerocopy} benchmark arrive with their issues.
 */
public final class Main {
    private Main() {
    }

    /** Entry point; exits with the subcommand's status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line and returns its exit status (testable without exiting the JVM). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || "--help".equals(args[0]) || "-h".equals(args[0])) {
            usage(out);
            return args.length == 0 ? 2 : 0;
        }
        switch (args[0]) {
            case "smoke":
                if (args.length > 1 && "--help".equals(args[1])) {
                    out.println("usage: vsocksim smoke [--packets N]");
                    out.println("  Guest driver -> split virtqueue in guest memory -> vhost device, N packets (default 100000).");
                    return 0;
                }
                int packets = 100_000;
                if (args.length == 3 && "--packets".equals(args[1])) {
                    packets = Integer.parseInt(args[2]);
                } else if (args.length != 1) {
                    err.println("vsocksim smoke: unknown arguments");
                    return 2;
                }
                return RingSmoke.run(packets, out);
            case "rx-zerocopy":
                return RxZerocopyCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
            case "vsock-test":
                return io.vsocksim.testsuite.VsockTestCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
            default:
                err.println("vsocksim: unknown command '" + args[0] + "'");
                usage(err);
                return 2;
        }
    }

    private static void usage(PrintStream out) {
        out.println("usage: vsocksim <command> [options]");
        out.println("commands:");
        out.println("  vsock-test  port of Linux 6.12.117's vsock_test suite (the main job)");
        out.println("  rx-zerocopy the RFC's rx_zerocopy benchmark (copy/zerocopy receive, --sweep) vs JDK TCP/UDS");
        out.println("  smoke       foundation smoke job: virtio_vsock_hdr packets through a split virtqueue");
        out.println("Run 'vsocksim <command> --help' for a command's options.");
    }
}
