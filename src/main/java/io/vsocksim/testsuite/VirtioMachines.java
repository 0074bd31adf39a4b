package io.vsocksim.testsuite;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import java.util.List;

/**
 * The default vsock_test placement: the server role on the host (CID 2), the client role in a guest
 * reached over the virtio path (driver, split virtqueues in guest memory, vhost). Both machines run on
 * real threads and real time, since the suite's own timeouts (SO_RCVTIMEO, poll, TIMEOUT) are real.
 */
final class VirtioMachines {
    /** Memory of the host and of the guest: 256 MiB each (tests 6 and 22 hold 2 MiB windows). */
    static final long MEMORY = 256L << 20;

    private VirtioMachines() {
    }

    static VsockTestCommand.Machines create(int guestCid) {
        Host host = SimInternals.newHost(KernelContext.threaded("host", MEMORY, 2), true);
        Guest guest;
        try {
            guest = SimInternals.startGuest(host, Integer.toUnsignedLong(guestCid), KernelContext.threaded("guest" + Integer.toUnsignedString(guestCid), MEMORY, 2),
                    Guest.Options.DEFAULTS);
        } catch (ErrnoException e) {
            host.close();
            throw new IllegalArgumentException("cannot start a guest with CID " + Integer.toUnsignedString(guestCid) + ": " + e.getMessage(), e);
        }
        return VsockTestCommand.Machines.of(new VsockTestRunner.Side(guest, VMADDR_CID_HOST),
                new VsockTestRunner.Side(host, guest.cid()),
                "virtio (client in guest CID " + Integer.toUnsignedString(guest.cid()) + ", server on the host, CID 2)",
                List.of(host));
    }
}
