package io.vsocksim.user;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.user.junit.Simulation;
import io.vsocksim.user.junit.SocketPair;
import io.vsocksim.user.junit.VsockSim;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@VsockSim
@Timeout(60)
class VsockStatsTest {
    @Test
    void shouldCountWhatOneConnectionAndOneSendCost(Simulation sim, Host host, Guest guest) throws Exception {
        VsockStats guestBefore = VsockStats.of(guest);
        VsockStats hostBefore = VsockStats.of(host);
        try (SocketPair p = sim.connectedPair(guest, host, SOCK_STREAM)) {
            p.client().send(ByteBuffer.wrap(new byte[100]), 0);
            assertThat(p.server().recv(ByteBuffer.allocate(200), 0)).isEqualTo(100);
            settle(host, guest); // the credit update that recv sends is on its way to the guest
            VsockStats g = VsockStats.of(guest).minus(guestBefore);
            VsockStats h = VsockStats.of(host).minus(hostBefore);

            assertThat(g.machine()).isEqualTo("guest3");
            assertThat(g.vsock().get("SENT_REQUEST")).isEqualTo(1);
            assertThat(g.vsock().get("RECEIVED_RESPONSE")).isEqualTo(1);
            assertThat(g.vsock().get("SENT_RW")).isEqualTo(1);
            assertThat(g.vsock().get("RECEIVED_CREDIT_UPDATE")).isEqualTo(1);
            assertThat(g.vsock().get("BYTES_COPIED_FROM_USER")).isEqualTo(100);
            assertThat(g.driver().get("TX_PKTS")).isEqualTo(2);
            assertThat(g.driver().get("TX_BYTES")).isEqualTo(100);
            assertThat(g.driver().get("RX_PKTS")).isEqualTo(2);
            assertThat(g.device().get("TX_PKTS")).isEqualTo(2);
            assertThat(g.device().get("TX_BYTES")).isEqualTo(100);
            assertThat(g.device().get("RX_PKTS")).isEqualTo(2);
            assertThat(g.device().get("BYTES_COPIED")).isEqualTo(4 * 44 + 100); // four headers, one payload
            assertThat(g.vmm().get("EVENTS_SENT")).isZero();

            assertThat(h.vsock().get("RECEIVED_REQUEST")).isEqualTo(1);
            assertThat(h.vsock().get("SENT_RESPONSE")).isEqualTo(1);
            assertThat(h.vsock().get("BYTES_RECEIVED")).isEqualTo(100);
            assertThat(h.vsock().get("BYTES_COPIED_TO_USER")).isEqualTo(100);
            assertThat(h.vsock().get("SENT_CREDIT_UPDATE")).isEqualTo(1); // rx_bytes fell below SO_RCVLOWAT
            assertThat(h.driver().isEmpty()).isTrue();
            assertThat(h.device().isEmpty()).isTrue();
            assertThat(h.vmm().isEmpty()).isTrue();
        }
    }

    /** Runs both machines' work until a round finds both idle. */
    private static void settle(Host host, Guest guest) {
        boolean idle;
        do {
            idle = host.quiesce();
            idle &= guest.quiesce();
        } while (!idle);
    }

    @Test
    void shouldListEveryCounterOfAGroupInTheModelsOrder(Host host) {
        VsockStats s = VsockStats.of(host);
        assertThat(s.vsock().values().keySet()).startsWith("BYTES_COPIED_FROM_USER", "BYTES_PINNED_FROM_USER")
                .endsWith("RECEIVED_RW", "RECEIVED_CREDIT_UPDATE", "RECEIVED_CREDIT_REQUEST").hasSize(16 + 8 + 8);
    }

    @Test
    void shouldRefuseToSubtractAnotherMachinesStats(Host host, Guest guest) {
        assertThatThrownBy(() -> VsockStats.of(host).minus(VsockStats.of(guest)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("stats of host minus stats of guest3");
    }

    @Test
    void shouldNameTheCountersAGroupHasWhenAskedForAnother() {
        CounterSnapshot s = new CounterSnapshot(Map.of("KICKS", 3L));
        assertThatThrownBy(() -> s.get("KICK")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no counter KICK; this group has [KICKS]");
    }

    @Test
    void shouldSubtractCounterByCounterAndKeepItsOwnCopy() {
        Map<String, Long> later = new LinkedHashMap<>();
        later.put("B", 10L);
        later.put("A", 7L);
        CounterSnapshot after = new CounterSnapshot(later);
        later.put("A", 1000L);
        CounterSnapshot delta = after.minus(new CounterSnapshot(Map.of("A", 2L, "B", 4L)));
        assertThat(delta.toString()).isEqualTo("{B=6, A=5}");
        assertThatThrownBy(() -> delta.values().put("C", 1L)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> delta.minus(CounterSnapshot.empty())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("not the same counters: [B, A] and []");
    }
}
