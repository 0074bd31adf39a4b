package io.vsocksim.differential;

import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;

/** Lets queued loopback work (packets in flight) finish without moving virtual time. */
final class TestMachineDrain {
    private TestMachineDrain() {
    }

    static void drain(Machine m) {
        TestMachine.drain(m);
    }
}
