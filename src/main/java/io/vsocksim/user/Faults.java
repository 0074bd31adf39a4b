package io.vsocksim.user;

import io.vsocksim.mm.PageAllocator;
import io.vsocksim.mm.PageHold;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;

/**
 * Faults that VMs meet in production, injected on purpose so a test can check the code around its
 * vsock connections: reconnect logic, back-pressure, timeouts. Each is what a VMM or a guest kernel
 * really does, run through the same model as everything else, so the errors a program sees are the
 * ones Linux gives in that situation.
 *
 * <table>
 *   <caption>The faults and what a program sees</caption>
 *   <tr><th>fault</th><th>guest side</th><th>host side</th></tr>
 *   <tr><td>{@link #pause}</td><td>its threads stop at their next call until resumed</td>
 *       <td>sends are accepted until the guest's credit runs out, then block (or EAGAIN); nothing is
 *       lost</td></tr>
 *   <tr><td>{@link #migrate}</td><td>every connection is reset: ECONNRESET on a waiting call,
 *       ENOTCONN after; the CID may change</td>
 *       <td>its next packet on an old connection is answered with a reset</td></tr>
 *   <tr><td>{@link #replugDevice}</td><td>every connection is reset (ECONNRESET); listeners stay</td>
 *       <td>as for a migration</td></tr>
 *   <tr><td>{@link #takeFreeMemory}</td><td colspan="2">allocations fail: the guest stops refilling RX
 *       buffers (the host's packets wait), a send that needs memory gets ENOMEM; all resumes when the
 *       memory is given back</td></tr>
 * </table>
 */
public final class Faults {
    private Faults() {
    }

    /**
     * Pauses {@code guest} as a VMM pauses a VM ({@link Guest#pause()}): its vCPUs stop, then its vsock
     * device. Close the result (try-with-resources) to resume it.
     */
    public static Pause pause(Guest guest) {
        guest.pause();
        return new Pause(guest);
    }

    /**
     * What a live migration looks like from inside the guest, on the same CID: the VM is paused, the
     * VMM puts a {@code VIRTIO_VSOCK_EVENT_TRANSPORT_RESET} on its event queue (QEMU does so when the
     * migrated VM is loaded), and the VM runs again. The guest resets every connection.
     *
     * @return 0, or the error of {@link io.vsocksim.sim.Host#sendTransportReset(Guest)} (e.g.
     *     {@code -ENOSPC} if the guest had no event buffer posted: the event is lost, as QEMU loses it)
     */
    public static int migrate(Guest guest) {
        return migrate(guest, guest.cid());
    }

    /**
     * {@link #migrate(Guest)} to a host that gives the guest another CID: the new CID is set on the
     * device and in its config space before the reset event, so the guest re-reads it.
     *
     * @return 0, {@code -EADDRINUSE} if another guest has {@code newCid}, {@code -EINVAL} for a CID a
     *     guest cannot have, or the event's error
     */
    public static int migrate(Guest guest, long newCid) {
        guest.pause();
        try {
            return newCid == guest.cid() ? guest.host().sendTransportReset(guest)
                    : guest.host().sendTransportReset(guest, newCid);
        } finally {
            guest.resume();
        }
    }

    /**
     * Hot-unplugs the guest's vsock device and plugs it back ({@link Guest#replugDevice()}): every
     * connected socket of the guest is reset, listeners and bound sockets stay.
     *
     * @return 0, or the driver's probe error ({@code -ENOMEM} under memory pressure: the guest stays
     *     without a device until replugged again)
     */
    public static int replugDevice(Guest guest) {
        return guest.replugDevice();
    }

    /**
     * Takes up to {@code pages} free pages (4 KiB each) of {@code machine}'s memory, as memory pressure
     * from other tenants would; {@code Long.MAX_VALUE} takes every free page. Close the result to give
     * them back.
     *
     * @throws IllegalArgumentException if {@code pages} is negative
     */
    public static MemoryPressure takeFreeMemory(Machine machine, long pages) {
        return new MemoryPressure(SimInternals.kernel(machine).pages(), pages);
    }

    /** A paused guest; {@link #close()} resumes it (once). */
    public static final class Pause implements AutoCloseable {
        private final Guest guest;
        private boolean resumed;

        private Pause(Guest guest) {
            this.guest = guest;
        }

        /**
         * Resumes the guest; later calls do nothing.
         *
         * @return 0, or the error restarting its device gave (the guest then stays paused)
         */
        public synchronized int resume() {
            if (resumed) {
                return 0;
            }
            int rc = guest.resume();
            resumed = rc == 0;
            return rc;
        }

        @Override
        public void close() {
            resume();
        }
    }

    /** Pages taken from a machine; {@link #close()} gives them back (once). */
    public static final class MemoryPressure implements AutoCloseable {
        private final PageHold hold;

        private MemoryPressure(PageAllocator allocator, long pages) {
            this.hold = new PageHold(allocator, pages);
        }

        /** Pages taken (fewer than asked if the machine had fewer free). */
        public long pages() {
            return hold.pages();
        }

        /** Gives every page back; later calls do nothing. */
        @Override
        public void close() {
            hold.close();
        }

        @Override
        public String toString() {
            return "MemoryPressure{" + hold + "}";
        }
    }
}
