package io.vsocksim.user.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Firecracker's allocate_local_port: round robin over [2^30, 2^31), skipping ports in use. */
class HostPortsTest {
    @Test
    void shouldStartAtTwoToTheThirtyAndSkipPortsInUse() {
        HostPorts p = new HostPorts();
        assertThat(p.allocate()).isEqualTo(1 << 30);
        assertThat(p.allocate()).isEqualTo((1 << 30) + 1);
        p.free(1 << 30);
        assertThat(p.allocate()).as("round robin: a freed port waits its turn").isEqualTo((1 << 30) + 2);
        assertThat(p.inUse()).isEqualTo(2);
    }

    @Test
    void shouldWrapFromTheTopOfTheRangeToItsBottomSkippingPortsInUse() {
        HostPorts p = new HostPorts();
        assertThat(p.allocate()).isEqualTo(1 << 30);
        HostPorts top = new HostPorts(Integer.MAX_VALUE - 1);
        assertThat(top.allocate()).isEqualTo(Integer.MAX_VALUE);
        assertThat(top.allocate()).isEqualTo(1 << 30);
        top.free(Integer.MAX_VALUE);
        HostPorts again = new HostPorts(Integer.MAX_VALUE - 1);
        again.allocate();
        again.allocate();
        assertThat(again.inUse()).isEqualTo(2);
    }
}
