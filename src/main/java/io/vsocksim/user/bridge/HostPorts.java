package io.vsocksim.user.bridge;

import java.util.HashSet;
import java.util.Set;

/**
 * Host-side ports for host-initiated connections, allocated as Firecracker's muxer allocates its local
 * ports ({@code allocate_local_port} in Firecracker {@code unix/muxer.rs}): round robin over
 * {@code [1 << 30, 1 << 31)}, starting at {@code 1 << 30}, skipping ports still in use. Here the port is
 * also bound on the simulated host, so one another host program holds is skipped too (the caller frees
 * it and asks again).
 */
final class HostPorts {
    private final Set<Integer> used = new HashSet<>();
    private int last;

    HostPorts() {
        this((1 << 30) - 1); // Firecracker: local_port_last: (1u32 << 30) - 1
    }

    /** A range whose last handed-out port was {@code last} (tests start near the top). */
    HostPorts(int last) {
        this.last = last;
    }

    /** The next free port of the range; it stays in use until {@link #free}. */
    synchronized int allocate() {
        do {
            last = ((last + 1) & ~(1 << 31)) | (1 << 30);
        } while (!used.add(last));
        return last;
    }

    synchronized void free(int port) {
        used.remove(port);
    }

    synchronized int inUse() {
        return used.size();
    }
}
