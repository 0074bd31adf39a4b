package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code vsocksim serve}: its options, and the echo workload reached through the bridge. */
class ServeCommandTest {
    @TempDir
    Path dir;

    private static String which(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            java.io.File f = new java.io.File(d, program);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private static String text(ByteArrayOutputStream b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldParseTheOptionsWithTheirDefaults() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertThat(ServeCommand.parse(new String[] {"--uds", "/tmp/vm.sock"}, e))
                .isEqualTo(new ServeCommand.Options(Path.of("/tmp/vm.sock"), 3, ServeCommand.Workload.ECHO, 1235, null));
        assertThat(ServeCommand.parse(new String[] {"--uds", "/tmp/x", "--guest-cid", "42", "--workload",
            "vsock-test-server", "--control-port", "9999", "--pcap", "/tmp/x.pcapng"}, e))
                .isEqualTo(new ServeCommand.Options(Path.of("/tmp/x"), 42, ServeCommand.Workload.VSOCK_TEST_SERVER, 9999,
                        Path.of("/tmp/x.pcapng")));
        assertThat(err.size()).isZero();

        assertThat(ServeCommand.parse(new String[] {}, e)).isNull();
        assertThat(ServeCommand.parse(new String[] {"--uds"}, e)).isNull();
        assertThat(ServeCommand.parse(new String[] {"--uds", "/tmp/x", "--workload", "ftp"}, e)).isNull();
        assertThat(ServeCommand.parse(new String[] {"--uds", "/tmp/x", "--guest-cid", "2"}, e)).isNull();
        assertThat(ServeCommand.parse(new String[] {"--uds", "/tmp/x", "--bogus", "1"}, e)).isNull();
        assertThat(text(err)).isEqualTo(String.join(System.lineSeparator(),
                "vsocksim serve: --uds PATH is required",
                "vsocksim serve: --uds needs a value",
                "vsocksim serve: unknown workload 'ftp'",
                "vsocksim serve: '2' is not a number from 3 to 4294967294",
                "vsocksim serve: unknown option '--bogus'", ""));
    }

    @Test
    void shouldPrintItsUsage() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ServeCommand.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err))
                .isZero();
        assertThat(text(out)).startsWith("usage: vsocksim serve --uds PATH");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(ServeCommand.run(new String[] {}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8)))
                .isEqualTo(2);
        assertThat(text(err)).contains("--uds PATH is required").contains("usage: vsocksim serve");
    }

    @Test
    @Timeout(60)
    void shouldEchoThroughTheBridgeAndLeaveNothingBehind() throws Exception {
        Path sock = dir.resolve("vm.sock");
        Path pcap = dir.resolve("vm.pcapng");
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
        assertThat(text(out)).startsWith("vsocksim serve: guest CID 3 exposed at " + sock);
        assertThat(sock).doesNotExist();
        byte[] file = java.nio.file.Files.readAllBytes(pcap);
        assertThat(java.util.Arrays.copyOf(file, 4)).as("pcapng section header block")
                .isEqualTo(new byte[] {0x0a, 0x0d, 0x0d, 0x0a});
        String tshark = which("tshark");
        if (tshark == null) {
            System.out.println("ServeCommandTest: tshark is not installed, the capture's packets are not decoded");
            return;
        }
        Process p = new ProcessBuilder(tshark, "-r", pcap.toString()).redirectErrorStream(true).start();
        String decoded = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        // tshark's vsock dissector names each packet's op: the handshake and the data each way at least
        assertThat(decoded).contains("Op: Request", "Op: Response", "Op: RW");
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.isAlive()
                && (t.getName().startsWith("hybrid-vsock") || t.getName().equals("guest-echo")));
    }
}
