package io.vsocksim.sim.internal;

import io.vsocksim.kernel.EnumCounters;

/**
 * What the VMM's side of one guest's vsock device did on the event queue, which the VMM serves itself
 * (SIM: QEMU only logs these through {@code error_report}; the counters let tests see each outcome).
 * Lock-free, allocation-free.
 */
public final class VhostVsockPciCounters extends EnumCounters<VhostVsockPciCounters.Counter> {
    /** Counter indices. */
    public enum Counter {
        /** TRANSPORT_RESET events written into a guest buffer and returned on the used ring. */
        EVENTS_SENT,
        /** TRANSPORT_RESET events missed: the guest had no event buffer posted. */
        EVENTS_MISSED,
        /** Event chains dropped (consumed, never returned): they had device-readable descriptors. */
        EVENT_DROP_OUT_BUFS,
        /** Event chains dropped (consumed, never returned): writable part shorter than the event. */
        EVENT_DROP_SHORT
    }

    /** All counters at zero. */
    public VhostVsockPciCounters() {
        super(Counter.class);
    }
}
