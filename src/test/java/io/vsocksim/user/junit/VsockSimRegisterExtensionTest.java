package io.vsocksim.user.junit;

import io.vsocksim.sim.internal.SimInternals;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.kernel.RealClock;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link VsockSimExtension} registered as a field, in virtual and in real time. */
@Timeout(60)
class VsockSimRegisterExtensionTest {
    @RegisterExtension
    final VsockSimExtension sim = VsockSimExtension.withGuests(5);

    @Test
    void shouldAnswerForTheRunningTest(Host host, Guest guest) throws Exception {
        assertThat(sim.host()).isSameAs(host);
        assertThat(sim.guest(5)).isSameAs(guest);
        assertThat(sim.simulation().guests()).containsExactly(guest);
        try (SocketPair p = sim.simulation().connectedPair(sim.guest(5), sim.host(), SOCK_STREAM)) {
            assertThat(p.client().send(ByteBuffer.wrap(new byte[] {7}), 0)).isEqualTo(1);
            assertThat(p.server().recv(ByteBuffer.allocate(4), 0)).isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseAnUnknownCid() {
        assertThatThrownBy(() -> sim.guest(3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no guest with CID 3 in this test; guests: [5]");
    }

    @Test
    void shouldAnswerNothingOutsideATest() {
        VsockSimExtension idle = VsockSimExtension.withGuests(3);
        assertThatThrownBy(idle::host).isInstanceOf(IllegalStateException.class)
                .hasMessage("no vsocksim test is running");
    }

    @Nested
    class InRealTime {
        @RegisterExtension
        final VsockSimExtension real = VsockSimExtension.withGuests(6).inRealTime();

        @Test
        void shouldRunEveryMachineOnTheRealClock() throws Exception {
            assertThat(SimInternals.kernel(real.host()).clock()).isInstanceOf(RealClock.class);
            assertThat(SimInternals.kernel(real.guest(6)).clock()).isInstanceOf(RealClock.class);
            assertThat(sim.host()).isNotSameAs(real.host()); // the outer class's field has machines of its own
            try (SocketPair p = real.simulation().connectedPair(real.host(), real.guest(6), SOCK_STREAM)) {
                assertThat(p.client().getpeername().cid()).isEqualTo(6);
            }
        }
    }
}
