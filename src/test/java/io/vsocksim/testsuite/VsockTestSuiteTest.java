package io.vsocksim.testsuite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Machine;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The vsock_test port as part of {@code mvn verify}: one dynamic test per kernel test case, under the
 * kernel's name, so CI fails when a kernel test fails. Unsupported tests must report their reason.
 */
class VsockTestSuiteTest {
    private static final List<String> KERNEL_NAMES = List.of(
        "SOCK_STREAM connection reset", "SOCK_STREAM bind only", "SOCK_STREAM client close",
        "SOCK_STREAM server close", "SOCK_STREAM multiple connections", "SOCK_STREAM MSG_PEEK",
        "SOCK_SEQPACKET msg bounds", "SOCK_SEQPACKET MSG_TRUNC flag", "SOCK_SEQPACKET timeout",
        "SOCK_SEQPACKET invalid receive buffer", "SOCK_STREAM poll() + SO_RCVLOWAT", "SOCK_SEQPACKET big message",
        "SOCK_STREAM test invalid buffer", "SOCK_SEQPACKET test invalid buffer", "SOCK_STREAM virtio skb merge",
        "SOCK_SEQPACKET MSG_PEEK", "SOCK_STREAM SHUT_WR", "SOCK_STREAM SHUT_RD", "SOCK_STREAM MSG_ZEROCOPY",
        "SOCK_SEQPACKET MSG_ZEROCOPY", "SOCK_STREAM MSG_ZEROCOPY empty MSG_ERRQUEUE", "SOCK_STREAM double bind connect",
        "SOCK_STREAM virtio credit update + SO_RCVLOWAT", "SOCK_STREAM virtio credit update + low rx_bytes",
        "SOCK_STREAM ioctl(SIOCOUTQ) 0 unsent bytes", "SOCK_SEQPACKET ioctl(SIOCOUTQ) 0 unsent bytes");

    @Test
    void shouldListTheKernelTestsInTheKernelOrder() {
        List<VsockTestCase> all = VsockTests.all(System.err);
        assertThat(all).hasSize(28);
        assertThat(all.subList(0, VsockTests.KERNEL_TESTS)).extracting(VsockTestCase::name).containsExactlyElementsOf(KERNEL_NAMES);
    }

    @TestFactory
    @Timeout(300)
    Stream<DynamicTest> loopback() {
        Machine m = Machine.virtualTime("local", 256L << 20);
        VsockTestRunner.Side side = new VsockTestRunner.Side(m, io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL);
        VsockTestRunner runner = new VsockTestRunner(side, side, VsockTestCommand.DEFAULT_PEER_PORT, Set.of(), Set.of(), 42);
        return dynamicTests("loopback", runner, () -> {
            runner.close();
            m.close();
        });
    }

    @TestFactory
    @Timeout(300)
    Stream<DynamicTest> virtio() {
        VsockTestCommand.Machines m = VirtioMachines.create(VsockTestCommand.DEFAULT_GUEST_CID);
        VsockTestRunner runner = new VsockTestRunner(m.client, m.server, VsockTestCommand.DEFAULT_PEER_PORT, Set.of(), Set.of(), 43);
        return dynamicTests("virtio", runner, () -> {
            runner.close();
            m.close();
        });
    }

    static Stream<DynamicTest> dynamicTests(String transport, VsockTestRunner runner, Runnable cleanup) {
        List<VsockTestCase> tests = VsockTests.all(System.err);
        List<DynamicTest> out = new ArrayList<>();
        for (int i = 0; i < tests.size(); i++) {
            int id = i;
            VsockTestCase tc = tests.get(i);
            out.add(DynamicTest.dynamicTest(transport + ": " + id + " - " + tc.name(), () -> {
                VsockTestRunner.Outcome o = runner.runOne(tests, id);
                if (tc.unsupported() != null) {
                    assertThat(o.status()).isEqualTo(VsockTestRunner.Status.SKIPPED);
                    assertThat(o.detail()).isEqualTo(tc.unsupported());
                } else {
                    assertThat(o.status()).as("%s", o.detail()).isEqualTo(VsockTestRunner.Status.OK);
                }
            }));
        }
        return out.stream().onClose(cleanup);
    }
}
