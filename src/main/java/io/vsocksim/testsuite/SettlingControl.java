package io.vsocksim.testsuite;

import io.vsocksim.sim.Machine;

/**
 * A control channel end that lets the simulated machines finish their in-flight work before a line
 * goes out. On real machines a packet sent before a control line is processed by the peer kernel
 * long before the peer process reads that line (a TCP round trip and a wake-up are slower than a
 * vsock worker); the kernel's tests rely on it (catalogue §2 notes: 10, 17, 21). SIM: in one process
 * the line could overtake the packet, so writing waits until every machine's work queue is idle.
 */
final class SettlingControl implements Control {
    private final Control inner;
    private final Machine[] machines;

    SettlingControl(Control inner, Machine... machines) {
        this.inner = inner;
        this.machines = machines;
    }

    @Override
    public void writeln(String line) {
        boolean settled;
        do {
            settled = true;
            for (Machine m : machines) {
                settled &= m.quiesce();
            }
        } while (!settled);
        inner.writeln(line);
    }

    @Override
    public String readln() {
        return inner.readln();
    }

    @Override
    public void close() {
        inner.close();
    }
}
