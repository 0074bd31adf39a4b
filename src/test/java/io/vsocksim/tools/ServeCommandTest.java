package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.ExternalTool;
import io.vsocksim.testsuite.VsockTestCase;
import io.vsocksim.testsuite.VsockTestCommand;
import io.vsocksim.testsuite.VsockTests;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vsocksim serve}: its options, the echo workload reached through the bridge, and the vsock_test
 * server role driven by a client outside the JVM ({@link ExternalVsockTestClient}).
 */
class ServeCommandTest {
    @TempDir
    Path dir;

    private static String text(ByteArrayOutputStream b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** The options picocli parsed from {@code args} (after {@code serve}), checked. */
    private static ServeCommand.Options parse(String... args) {
        ServeCommand[] cmd = new ServeCommand[1];
        picocli.CommandLine cl = new picocli.CommandLine(ServeCommand.class, new picocli.CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                java.lang.reflect.Constructor<K> c = cls.getDeclaredConstructor(PrintStream.class, PrintStream.class);
                c.setAccessible(true);
                K k = c.newInstance(System.out, System.err);
                cmd[0] = (ServeCommand) k;
                return k;
            }
        });
        cl.parseArgs(args);
        return cmd[0].options();
    }

    @Test
    void shouldParseTheOptionsWithTheirDefaults() {
        assertThat(parse("--uds", "/tmp/vm.sock"))
                .isEqualTo(new ServeCommand.Options(Path.of("/tmp/vm.sock"), 3, ServeCommand.Workload.ECHO, 1235, null));
        assertThat(parse("--uds=/tmp/x", "--guest-cid", "42", "--workload", "vsock-test-server", "--control-port",
                "9999", "--pcap", "/tmp/x.pcapng"))
                .isEqualTo(new ServeCommand.Options(Path.of("/tmp/x"), 42, ServeCommand.Workload.VSOCK_TEST_SERVER, 9999,
                        Path.of("/tmp/x.pcapng")));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "                                   | Missing required option: '--uds=PATH'",
        "--uds                              | Missing required parameter for option '--uds' (PATH)",
        "--uds /tmp/x --workload ftp        | Invalid value for option '--workload': 'ftp' is not echo or vsock-test-server",
        "--uds /tmp/x --guest-cid 2         | Invalid value for option '--guest-cid': '2' is not a guest CID (3 .. 4294967294)",
        "--uds /tmp/x --control-port 70000  | Invalid value for option '--control-port': '70000' is not a TCP port",
        "--uds /tmp/x --bogus 1             | Unknown options: '--bogus', '1'"})
    void shouldRejectBadOptionsWithOneLineAndTheUsage(String args, String message) {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("serve"));
        if (args != null) {
            argv.addAll(java.util.List.of(args.trim().split(" +")));
        }
        CliRun r = CliRun.of(argv.toArray(String[]::new));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.errFirstLine()).isEqualTo("vsocksim serve: " + message);
        assertThat(r.err()).contains("Usage: vsocksim serve");
    }

    @Test
    void shouldPrintItsUsage() {
        CliRun r = CliRun.of("serve", "--help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith("Usage: vsocksim serve").contains("--uds=PATH").contains("CONNECT <port>");
    }

    /** Runs {@code serve} with the echo workload and a pcapng capture, sends one echo through it, stops it. */
    private String serveOneEcho(Path sock, Path pcap) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ServeCommand.Serving s = ServeCommand.start(new ServeCommand.Options(sock, 3, ServeCommand.Workload.ECHO, 0, pcap),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock));
            c.write(ByteBuffer.wrap("CONNECT 1234\nping\n".getBytes(StandardCharsets.US_ASCII)));
            c.shutdownOutput();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(256);
            while (c.read(b.clear()) >= 0) {
                got.write(b.array(), 0, b.position());
            }
            assertThat(got.toString(StandardCharsets.US_ASCII)).isEqualTo("OK 1073741824\nping\n");
        } finally {
            s.close();
        }
        s.awaitClosed();
        return text(out);
    }

    @Test
    @Timeout(60)
    void shouldEchoThroughTheBridgeAndLeaveNothingBehind() throws Exception {
        Path sock = dir.resolve("vm.sock");
        Path pcap = dir.resolve("vm.pcapng");
        assertThat(serveOneEcho(sock, pcap)).startsWith("vsocksim serve: guest CID 3 exposed at " + sock);
        assertThat(sock).doesNotExist();
        byte[] file = Files.readAllBytes(pcap);
        assertThat(Arrays.copyOf(file, 4)).as("pcapng section header block").isEqualTo(new byte[] {0x0a, 0x0d, 0x0d, 0x0a});
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.isAlive()
                && (t.getName().startsWith("hybrid-vsock") || t.getName().equals("guest-echo")));
    }

    @Test
    @Timeout(60)
    void shouldRecordAPcapngTsharkDecodes() throws Exception {
        String tshark = ExternalTool.require("tshark", "the capture's packets are not decoded; its header is checked above");
        Path pcap = dir.resolve("vm.pcapng");
        serveOneEcho(dir.resolve("vm.sock"), pcap);
        Process p = new ProcessBuilder(tshark, "-r", pcap.toString()).redirectErrorStream(true).start();
        String decoded = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        // tshark's vsock dissector names each packet's op: the handshake and the data each way at least
        assertThat(decoded).contains("Op: Request", "Op: Response", "Op: RW");
    }

    @Test
    @Timeout(120)
    void shouldPassTheStreamTestsWhoseClientRunsOutsideTheJvmThroughTheBridge() throws Exception {
        Path sock = dir.resolve("vm.sock");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<VsockTestCase> suite = VsockTests.all(new PrintStream(OutputStream.nullOutputStream()));
        ServeCommand.Serving s = ServeCommand.start(
                new ServeCommand.Options(sock, 3, ServeCommand.Workload.VSOCK_TEST_SERVER, 0, null),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Matcher port = Pattern.compile("Control socket listening on 127\\.0\\.0\\.1:([0-9]+)").matcher(text(out));
            assertThat(port.find()).as("the control port it printed: %s", text(out)).isTrue();
            try (ExternalVsockTestClient client = new ExternalVsockTestClient(Integer.parseInt(port.group(1)), sock,
                    VsockTestCommand.DEFAULT_PEER_PORT)) {
                client.runAll(suite.size());
            }
            // The role prints its totals once it has read the client's COMPLETED.
            while (!text(out).contains(" passed, ")) {
                Thread.yield();
            }
        } finally {
            s.close();
        }
        s.awaitClosed();
        String report = text(out);
        ExternalVsockTestClient.TESTS.forEach((id, name) -> {
            assertThat(suite.get(id).name()).as("the kernel's name of test %d", id).isEqualTo(name);
            assertThat(report).contains(id + " - " + name + "...ok");
        });
        int ours = ExternalVsockTestClient.TESTS.size();
        assertThat(report).contains(ours + " passed, 0 failed, " + (suite.size() - ours) + " skipped");
        assertThat(sock).doesNotExist();
    }
}
