package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.kernel.RealClock;
import io.vsocksim.kernel.VirtualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The factories name their clock, and a guest started without a kernel of its own gets the host's kind. */
class ClockFactoryTest {
    @Test
    void shouldGiveGuestsAManualClockWhenTheHostHasOne() throws Exception {
        try (Host host = Host.manualTime("host")) {
            Guest guest = host.startGuest(3);
            VirtualClock h = (VirtualClock) host.kernel().clock();
            VirtualClock g = (VirtualClock) guest.kernel().clock();
            assertThat(h.isSelfRunning()).isFalse();
            assertThat(g.isSelfRunning()).isFalse();
            assertThat(g).isNotSameAs(h);
            long before = g.nanoTime();
            guest.advanceClock(Duration.ofSeconds(8));
            assertThat(g.nanoTime() - before).isEqualTo(Duration.ofSeconds(8).toNanos());
        }
    }

    @Test
    void shouldGiveGuestsASelfRunningClockJumpingWithTheHostsWhenTheHostHasOne() throws Exception {
        try (Host host = Host.virtualTime("host")) {
            Guest guest = host.startGuest(3);
            assertThat(((VirtualClock) guest.kernel().clock()).isSelfRunning()).isTrue();
            assertThat(guest.timeDomain()).isNotNull().isSameAs(host.timeDomain());
        }
    }

    @Test
    void shouldRefuseToAdvanceWhenTheClockIsRealTime() throws Exception {
        try (Host host = Host.realTime("host")) {
            Guest guest = host.startGuest(3);
            assertThat(host.kernel().clock()).isInstanceOf(RealClock.class);
            assertThat(guest.kernel().clock()).isInstanceOf(RealClock.class);
            assertThatThrownBy(() -> guest.advanceClock(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void shouldNameTheClockOfALoopbackMachine() {
        try (Machine virtual = Machine.virtualTime("v", 4L << 20);
             Machine manual = Machine.manualTime("m", 4L << 20);
             Machine real = Machine.realTime("r", 4L << 20)) {
            assertThat(((VirtualClock) virtual.kernel().clock()).isSelfRunning()).isTrue();
            assertThat(((VirtualClock) manual.kernel().clock()).isSelfRunning()).isFalse();
            assertThat(real.kernel().clock()).isInstanceOf(RealClock.class);
            assertThatThrownBy(() -> manual.advanceClock(Duration.ofNanos(-1))).isInstanceOf(IllegalArgumentException.class);
            assertThat(manual.name()).isEqualTo("m");
        }
    }
}
