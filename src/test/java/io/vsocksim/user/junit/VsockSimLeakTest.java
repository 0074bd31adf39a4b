package io.vsocksim.user.junit;

import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.UserProcess;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs deliberately faulty test classes (the nested fixtures) through the JUnit Platform and checks how
 * {@link VsockSim} fails them. The fixtures run only from here ({@link FromTestKit}): Surefire leaves
 * nested classes alone, but {@code -Dtest=VsockSimLeakTest*} would select them too.
 */
@Timeout(120)
class VsockSimLeakTest {
    /** Where a fixture leaves its host, for checking that it was shut down. */
    static volatile Host lastHost;

    @Test
    void shouldFailATestThatLeavesASocketOpen() {
        assertThat(onlyFailure(LeavesASocketOpen.class)).isInstanceOf(AssertionError.class).hasMessage(
                "vsocksim: the test left behind:"
                        + "\n  host: descriptor 0 still open: SocketFile{VsockSock{host#1 STREAM"
                        + " 4294967295:4294967295 -> 4294967295:4294967295 TCP_CLOSE/SS_UNCONNECTED err=0 shut=0"
                        + " peer_shut=0 flags=0x0}}"
                        + "\n  host: 1 socket(s) still open");
        assertThat(lastHost.guests()).isEmpty();
    }

    @Test
    void shouldFailATestWhoseProcessKeepsASocket() {
        assertThat(onlyFailure(ProcessKeepsASocket.class)).hasMessage(
                "vsocksim: the test left behind:\n  guest3: 1 socket(s) still open");
    }

    @Test
    void shouldFailATestThatLeaksAPage() {
        assertThat(onlyFailure(LeaksAPage.class)).hasMessage("vsocksim: the test left behind:"
                + "\n  host: 1 page(s), 0 slab object(s) not given back (RX buffers posted to the device not counted)");
    }

    @Test
    void shouldFailATestDuringWhichAKernelWarnFired() {
        assertThat(onlyFailure(FiresAWarn.class)).hasMessage(
                "vsocksim: the test left behind:\n  guest3: kernel WARN: rx_queue is empty, but rx_bytes is non-zero");
    }

    @Test
    void shouldReportATestsOwnFailureAndStillShutTheMachinesDown() {
        assertThat(onlyFailure(FailsByItselfAndLeaks.class)).hasMessage("its own failure");
        assertThat(lastHost.guests()).isEmpty();
    }

    @Test
    void shouldPassATestThatClosesEverything() {
        Events tests = run(ClosesEverything.class);
        tests.assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    }

    @Test
    void shouldAskWhichGuestWhenSeveralRun() {
        assertThat(onlyFailure(GuestWithoutCid.class)).hasMessageContaining(
                "guests [3, 4] run: mark Guest parameter 0 of test with @Cid(cid)");
    }

    @Test
    void shouldNameAGuestThatDoesNotRun() {
        assertThat(onlyFailure(UnknownCid.class)).hasMessageContaining(
                "no guest with CID 5 in this test; guests: [3]");
    }

    @Test
    void shouldRefuseACidNoGuestCanHave() {
        assertThat(onlyFailure(HostCidAsGuest.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("@VsockSim cannot start guest 2: ioctl(VHOST_VSOCK_SET_GUEST_CID): EINVAL (22)");
    }

    private static Events run(Class<?> fixture) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(fixture))
                .configurationParameter(FromTestKit.KEY, "true").execute().testEvents();
    }

    /** Disables a fixture unless {@link #run} launched it. */
    static final class FromTestKit implements ExecutionCondition {
        static final String KEY = "vsocksim.leakFixtures";

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(KEY).isPresent() ? ConditionEvaluationResult.enabled("from the test kit")
                    : ConditionEvaluationResult.disabled("a fixture of VsockSimLeakTest, run only by it");
        }
    }

    /** The throwable of the fixture's one test, which must have failed. */
    private static Throwable onlyFailure(Class<?> fixture) {
        Events tests = run(fixture);
        tests.assertStatistics(s -> s.started(1).failed(1));
        Event failed = tests.failed().list().get(0);
        return failed.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    }

    // ---- fixtures: run only through EngineTestKit ------------------------------------------------------

    @ExtendWith(FromTestKit.class)
    @VsockSim(guests = {})
    static class LeavesASocketOpen {
        @Test
        void test(Host host) throws Exception {
            lastHost = host;
            VsockSocket.open(host, SOCK_STREAM);
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim
    static class ProcessKeepsASocket {
        @Test
        void test(Guest guest) {
            UserProcess p = UserProcess.spawn(guest, "forgotten");
            assertThat(p.socket(AF_VSOCK, SOCK_STREAM, 0)).isZero();
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim(guests = {})
    static class LeaksAPage {
        @Test
        void test(Host host) throws Exception {
            SimInternals.allocUserBuffer(host, 4096);
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim
    static class FiresAWarn {
        @Test
        void test(Guest guest) {
            SimInternals.kernel(guest).warnings().warnOnce(true, "rx_queue is empty, but rx_bytes is non-zero");
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim
    static class FailsByItselfAndLeaks {
        @Test
        void test(Host host) throws Exception {
            lastHost = host;
            VsockSocket.open(host, SOCK_STREAM);
            throw new AssertionError("its own failure");
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim
    static class ClosesEverything {
        @Test
        void test(Simulation sim, Host host, Guest guest) throws Exception {
            try (SocketPair p = sim.connectedPair(guest, host, SOCK_STREAM)) {
                assertThat(p.client().getpeername().cid()).isEqualTo(2);
            }
            UserProcess.spawn(guest, "tidy").close();
            SimInternals.allocUserBuffer(host, 8192).close();
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim(guests = {3, 4})
    static class GuestWithoutCid {
        @Test
        void test(Guest guest) {
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim
    static class UnknownCid {
        @Test
        void test(@Cid(5) Guest guest) {
        }
    }

    @ExtendWith(FromTestKit.class)
    @VsockSim(guests = 2)
    static class HostCidAsGuest {
        @Test
        void test(List<Guest> guests) {
        }
    }
}
