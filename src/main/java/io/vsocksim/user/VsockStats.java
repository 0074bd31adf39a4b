package io.vsocksim.user;

import io.vsocksim.kernel.EnumCounters;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.sim.internal.VhostVsockPciCounters;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.vsock.VsockCounters;
import io.vsocksim.vsock.guest.VirtioVsock;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.vhost.VhostVsockCounters;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a machine's vsock stack has paid for so far, read at one instant and immutable: bytes copied,
 * pages mapped, packets by op, kicks, interrupts, resets. Read one before and one after what you
 * measure; {@link #minus} gives the cost of that alone:
 *
 * <pre>{@code
 * VsockStats before = VsockStats.of(guest);
 * // ... send and receive ...
 * VsockStats spent = VsockStats.of(guest).minus(before);
 * long kicks = spent.driver().get("KICKS");
 * long copied = spent.vsock().get("BYTES_COPIED_TO_USER");
 * }</pre>
 *
 * <p>This is the supported way to read counters: the counter objects it reads belong to the kernel
 * model and are updated on its hot path. A counter is summed from per-thread cells when read, so a
 * snapshot taken while traffic flows sees part of it, as {@code percpu_counter_sum()} does; one taken
 * once the machines are idle is exact.
 *
 * @param machine the machine's name ({@code "host"}, {@code "guest3"})
 * @param vsock af_vsock and the common virtio transport of this machine, on every machine: the
 *     {@code VsockCounters} names ({@code BYTES_COPIED_FROM_USER}, {@code PKTS_SENT}, {@code RST_SENT},
 *     ...) and, per wire op, {@code SENT_<OP>} and {@code RECEIVED_<OP>} ({@code SENT_RW},
 *     {@code RECEIVED_CREDIT_UPDATE}, ...)
 * @param driver a guest's virtio-vsock driver ({@code KICKS}, {@code INTERRUPTS}, {@code RX_BUFS_USED},
 *     ...); empty on a machine that is not a guest. A device replug starts a new driver at zero.
 * @param device the host side (vhost) of a guest's device, counted on the host for that guest
 *     ({@code TX_PKTS}, {@code RX_BYTES}, {@code BYTES_COPIED}, ...); empty on a machine that is not a
 *     guest
 * @param vmm what the VMM did on a guest's event queue ({@code EVENTS_SENT}, {@code EVENTS_MISSED},
 *     ...); empty on a machine that is not a guest
 */
public record VsockStats(String machine, CounterSnapshot vsock, CounterSnapshot driver, CounterSnapshot device,
        CounterSnapshot vmm) {
    /**
     * Checks that no part is null.
     *
     * @param machine the machine's name
     * @param vsock af_vsock and the common transport
     * @param driver the guest driver, or empty
     * @param device the host side of the guest's device, or empty
     * @param vmm the VMM's event queue, or empty
     */
    public VsockStats {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(vsock, "vsock");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(vmm, "vmm");
    }

    /**
     * Reads a machine's counters now.
     *
     * @param machine a host, a guest or a loopback-only machine
     * @return its af_vsock counters and, for a {@link Guest}, its driver's, device's and VMM's
     */
    public static VsockStats of(Machine machine) {
        Map<String, Long> vsock = read(SimInternals.counters(machine), VsockCounters.Counter.values());
        for (VirtioVsockOp op : VirtioVsockOp.values()) {
            vsock.put("SENT_" + opName(op), SimInternals.counters(machine).sent(op));
        }
        for (VirtioVsockOp op : VirtioVsockOp.values()) {
            vsock.put("RECEIVED_" + opName(op), SimInternals.counters(machine).received(op));
        }
        String name = SimInternals.kernel(machine).name();
        if (!(machine instanceof Guest g)) {
            CounterSnapshot none = CounterSnapshot.empty();
            return new VsockStats(name, new CounterSnapshot(vsock), none, none, none);
        }
        VirtioVsock drv = SimInternals.driver(g);
        Map<String, Long> driver = drv != null ? read(drv.counters(), VirtioVsockCounters.Counter.values())
                : zeros(VirtioVsockCounters.Counter.values()); // between a device's removal and its probe
        return new VsockStats(name, new CounterSnapshot(vsock), new CounterSnapshot(driver),
                new CounterSnapshot(read(SimInternals.deviceCounters(g), VhostVsockCounters.Counter.values())),
                new CounterSnapshot(read(SimInternals.vmmCounters(g), VhostVsockPciCounters.Counter.values())));
    }

    /**
     * What changed since {@code earlier}, group by group.
     *
     * @param earlier stats of the same machine, read before
     * @return each counter's value here less its value there
     * @throws IllegalArgumentException if {@code earlier} was read on another machine
     */
    public VsockStats minus(VsockStats earlier) {
        if (!machine.equals(earlier.machine)) {
            throw new IllegalArgumentException("stats of " + machine + " minus stats of " + earlier.machine);
        }
        return new VsockStats(machine, vsock.minus(earlier.vsock), driver.minus(earlier.driver),
                device.minus(earlier.device), vmm.minus(earlier.vmm));
    }

    /** {@code VIRTIO_VSOCK_OP_CREDIT_UPDATE} to {@code CREDIT_UPDATE}. */
    private static String opName(VirtioVsockOp op) {
        return op.name().substring("VIRTIO_VSOCK_OP_".length()).toUpperCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> Map<String, Long> read(EnumCounters<E> c, E[] names) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (E n : names) {
            m.put(n.name(), c.get(n));
        }
        return m;
    }

    private static <E extends Enum<E>> Map<String, Long> zeros(E[] names) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (E n : names) {
            m.put(n.name(), 0L);
        }
        return m;
    }
}
