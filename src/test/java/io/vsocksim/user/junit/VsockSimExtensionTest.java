package io.vsocksim.user.junit;

import io.vsocksim.sim.internal.SimInternals;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.SockaddrVm;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link VsockSim} on a class: what a test receives, and the connected pairs. */
@VsockSim(guests = {3, 4})
@Timeout(60)
class VsockSimExtensionTest {
    private Host fromBeforeEach;

    @BeforeEach
    void shouldReachLifecycleMethods(Host host) {
        fromBeforeEach = host;
    }

    @AfterEach
    void shouldStillRunWhenTheTestEnds(Simulation sim) {
        assertThat(sim.host()).isSameAs(fromBeforeEach);
        assertThat(sim.host().guests()).hasSize(sim.guests().size());
    }

    @Test
    void shouldInjectTheHostAndEachGuestByCid(Host host, @Cid(3) Guest three, @Cid(4) Guest four, List<Guest> all,
            Simulation sim) {
        assertThat(host).isSameAs(fromBeforeEach).isSameAs(sim.host());
        assertThat(SimInternals.kernel(host).name()).isEqualTo("host");
        assertThat(three.cid()).isEqualTo(3);
        assertThat(four.cid()).isEqualTo(4);
        assertThat(all).containsExactly(three, four);
        assertThat(host.guests()).containsExactly(three, four);
        assertThat(sim.guest(4)).isSameAs(four);
    }

    @Test
    void shouldRunOnASelfRunningVirtualClockByDefault(Host host, @Cid(3) Guest guest) {
        assertThat(SimInternals.kernel(host).clock()).isInstanceOfSatisfying(VirtualClock.class,
                c -> assertThat(c.isSelfRunning()).isTrue());
        assertThat(SimInternals.kernel(guest).clock()).isInstanceOfSatisfying(VirtualClock.class,
                c -> assertThat(c.isSelfRunning()).isTrue());
    }

    @Test
    void shouldConnectAPairFromAGuestToTheHost(Simulation sim) throws Exception {
        assertPair(sim, sim.guest(3), sim.host(), SOCK_STREAM, 3, 2);
    }

    @Test
    void shouldConnectAPairFromTheHostToAGuest(Simulation sim) throws Exception {
        assertPair(sim, sim.host(), sim.guest(4), SOCK_SEQPACKET, 2, 4);
    }

    @Test
    void shouldConnectAPairOverLoopbackOnOneMachine(Simulation sim) throws Exception {
        assertPair(sim, sim.host(), sim.host(), SOCK_STREAM, 1, 1);
        assertPair(sim, sim.guest(3), sim.guest(3), SOCK_SEQPACKET, 1, 1);
    }

    @Test
    @VsockSim(guests = {})
    void shouldTakeTheMethodsSettingsOverTheClasss(Host host, List<Guest> guests) {
        assertThat(guests).isEmpty();
        assertThat(host.guests()).isEmpty();
    }

    /** A pair whose client sees the server at {@code serverCid} and the server sees the client at {@code clientCid}. */
    private static void assertPair(Simulation sim, Machine client, Machine server, int type, int clientCid,
            int serverCid) throws Exception {
        try (SocketPair p = sim.connectedPair(client, server, type)) {
            SockaddrVm peer = p.client().getpeername();
            assertThat(peer.cid()).isEqualTo(serverCid);
            assertThat(p.server().getsockname().port()).isEqualTo(peer.port());
            assertThat(p.server().getpeername()).isEqualTo(new SockaddrVm(clientCid, p.client().getsockname().port()));
            assertThat(p.client().send(ByteBuffer.wrap("ping".getBytes(US_ASCII)), 0)).isEqualTo(4);
            ByteBuffer got = ByteBuffer.allocate(16);
            assertThat(p.server().recv(got, 0)).isEqualTo(4);
            assertThat(new String(got.array(), 0, 4, US_ASCII)).isEqualTo("ping");
        }
    }
}
