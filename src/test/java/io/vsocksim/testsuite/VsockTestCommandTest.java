package io.vsocksim.testsuite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.tools.CliRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code vsocksim vsock-test}'s command line: the kernel's option names, values and messages. */
class VsockTestCommandTest {
    @Test
    void shouldPrintTheListInTheKernelFormatAndExitOneAsTheKernel() {
        CliRun r = CliRun.of("vsock-test", "--list");
        String[] lines = r.out().split("\n");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
        assertThat(lines[0]).isEqualTo("ID\tTest name");
        assertThat(lines[1]).isEqualTo("0\tSOCK_STREAM connection reset");
        assertThat(lines[26]).isEqualTo("25\tSOCK_SEQPACKET ioctl(SIOCOUTQ) 0 unsent bytes");
        assertThat(lines).hasSize(29);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--pick 0", "--pick=0"})
    @Timeout(60)
    void shouldRunOnlyThePickedTestWithTheValueAfterASpaceOrAnEqualsSign(String pick) {
        CliRun r = CliRun.of(("vsock-test --transport loopback --seed 7 " + pick).split(" "));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("vsock_test over loopback").contains("0 - SOCK_STREAM connection reset...ok")
                .contains("1 - SOCK_STREAM bind only...skipped")
                .endsWith("1 passed, 0 failed, 27 skipped" + System.lineSeparator());
    }

    @Test
    @Timeout(60)
    void shouldRecordTheRunsPacketsIntoThePcapFileItIsGiven(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run.pcap");
        CliRun r = CliRun.of("vsock-test", "--transport=loopback", "--seed=7", "--pick=2", "--pcap", file.toString());
        assertThat(r.status()).as(r.err()).isZero();
        Matcher m = Pattern.compile("capture: (\\d+) packets in " + Pattern.quote(file.toString())).matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).as("pcap, nanosecond timestamps").isEqualTo(0xa1b23c4d);
        assertThat(b.getInt(20)).as("LINKTYPE_VSOCK").isEqualTo(271);
        int records = 0;
        for (int at = 24; at < b.limit(); at += 16 + b.getInt(at + 8)) {
            records++;
        }
        assertThat(records).isEqualTo(Integer.parseInt(m.group(1))).isGreaterThan(4);
    }

    @Test
    void shouldRejectAPcapFileThatCannotBeWritten(@TempDir Path dir) {
        CliRun r = CliRun.of("vsock-test", "--transport=loopback", "--pick=0", "--pcap",
                dir.resolve("no-such-dir").resolve("x.pcap").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.errFirstLine()).startsWith("vsocksim vsock-test: Invalid value for option '--pcap': cannot write");
    }

    @Test
    @Timeout(60)
    void shouldSkipEveryTestGivenToRepeatedSkipOptions() {
        String[] args = new String[2 + 2 * 27];
        args[0] = "vsock-test";
        args[1] = "--transport=loopback";
        for (int id = 1; id < 28; id++) {
            args[2 * id] = "--skip";
            args[2 * id + 1] = Integer.toString(id);
        }
        CliRun r = CliRun.of(args);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).endsWith("1 passed, 0 failed, 27 skipped" + System.lineSeparator());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--skip=x            | Invalid value for option '--skip': malformed test ID \"x\"",
        "--pick 99           | Invalid value for option '--pick': test ID (99) larger than the max allowed (27)",
        "--pick -1           | Invalid value for option '--pick': malformed test ID \"-1\"",
        "--mode=both         | Invalid value for option '--mode': --mode must be \"client\" or \"server\"",
        "--peer-port=abc     | Invalid value for option '--peer-port': malformed port \"abc\"",
        "--peer-cid 4294967296 | Invalid value for option '--peer-cid': malformed CID \"4294967296\"",
        "--control-port 65536 | Invalid value for option '--control-port': malformed port \"65536\"",
        "--transport tcp     | Invalid value for option '--transport': --transport must be \"virtio\" or \"loopback\"",
        "--seed abc          | Invalid value for option '--seed': 'abc' is not a long",
        "--pick              | Missing required parameter for option '--pick' (<test_id>)",
        "--frob              | Unknown option: '--frob'"})
    void shouldRejectABadValueWithOneLineNamingTheOptionAndTheUsage(String args, String message) {
        CliRun r = CliRun.of(("vsock-test " + args).split(" "));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.errFirstLine()).isEqualTo("vsocksim vsock-test: " + message);
        assertThat(r.err()).contains("Usage: vsocksim vsock-test [-hV]").doesNotContain("\tat ");
    }

    @Test
    void shouldPrintHelpWithTheKernelOptionsOnStandardOutputAndExitZero() {
        CliRun r = CliRun.of("vsock-test", "--help");
        assertThat(r.status()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith("Usage: vsocksim vsock-test [-hV]");
        for (String option : new String[] {"--help", "--control-host=<host>", "--control-port=<port>",
            "--mode=client|server", "--peer-cid=<cid>", "--peer-port=<port>", "--list", "--skip=<test_id>",
            "--pick=<test_id>", "--transport=virtio|loopback", "--seed=<n>", "--version"}) {
            assertThat(r.out()).containsPattern(" " + Pattern.quote(option) + "\\s");
        }
        assertThat(r.out().replaceAll("\\s+", " ")).contains("then exit with status 1 as the kernel's vsock_test does");
    }
}
