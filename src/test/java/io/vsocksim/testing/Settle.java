package io.vsocksim.testing;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.vsock.virtio.VirtioTransport;

/**
 * Lets machines that talk to each other finish what is in flight at the end of a test.
 *
 * <p>Why time moves one machine at a time, with everything drained in between: a close that waits for
 * its peer arms an 8-s timer ({@code virtio_transport_close}). If the peer's RST is still on its way
 * when that timer fires, the RST's {@code virtio_transport_do_close} cannot cancel a close work that is
 * already running, and the close work, finding SOCK_DONE set, leaves the socket in the connected table:
 * Linux 6.12 has the same window ({@code virtio_transport_cancel_close_work} only acts when
 * {@code cancel_delayed_work} wins). On a real machine the RST comes microseconds after a close and the
 * timer 8 s later, so the window is never open; a test that jumps every clock at once while packets
 * cross would open it on purpose. Draining every machine to a common fixed point first, then expiring
 * one machine's timers and draining again, keeps the order a real machine has.
 */
public final class Settle {
    /** Rounds a drain may take while other threads still make traffic; far more than any teardown needs. */
    private static final int MAX_ROUNDS = 10_000;

    private Settle() {
    }

    /**
     * Runs every machine's queued work (and timers already due) until one whole round finds every
     * machine idle: work on one machine queues work on another (a kick, an interrupt), so one pass over
     * each is not enough. A machine whose work queue is the calling thread's own is skipped.
     *
     * @return true if the machines reached a common idle point
     */
    public static boolean drain(Machine... machines) {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean quiet = true;
            for (Machine m : machines) {
                if (m != null && !SimInternals.kernel(m).systemWq().inContext() && !m.quiesce()) {
                    quiet = false;
                }
            }
            if (quiet) {
                return true;
            }
        }
        return false;
    }

    /**
     * Drains, then for each machine in turn moves its clock past the close timeout
     * ({@link VirtioTransport#VSOCK_CLOSE_TIMEOUT}) and drains all of them again, so half-closed sockets
     * send their RST and go. The machines' clocks must be {@link VirtualClock}s.
     */
    public static void closeTimeouts(Machine... machines) {
        drain(machines);
        for (Machine m : machines) {
            if (m != null) {
                ((VirtualClock) SimInternals.kernel(m).clock()).advanceJiffies(VirtioTransport.VSOCK_CLOSE_TIMEOUT + Clock.HZ);
                drain(machines);
            }
        }
    }
}
