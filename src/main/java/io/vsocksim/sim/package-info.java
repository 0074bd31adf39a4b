/**
 * Simulated machines and their wiring: {@link io.vsocksim.sim.Machine} (kernel context + af_vsock +
 * optional loopback), {@link io.vsocksim.sim.Host} (CID 2, vhost-vsock) and
 * {@link io.vsocksim.sim.Guest} (its own memory, work queue and clock; the virtio-vsock driver bound to
 * a device backed by one {@code VhostVsock} of the host).
 *
 * <p><b>Clocks.</b> Every factory says which clock its machines keep:
 * {@link io.vsocksim.sim.Host#virtualTime} and {@link io.vsocksim.sim.Machine#virtualTime} a virtual clock
 * that runs by itself and jumps to the next timer when everything is idle (the machines for tests),
 * {@code realTime} the JVM's monotonic time, {@code manualTime} a virtual clock that moves only when
 * {@link io.vsocksim.sim.Machine#advanceClock advanced}. A guest that {@link io.vsocksim.sim.Host#startGuest(long)}
 * starts keeps a clock of its host's kind. Work always runs on the worker threads every machine shares.
 *
 * <p>{@code VhostVsockPci} plays the VMM: it offers features, forwards the driver's queue setup to vhost
 * ({@code SET_FEATURES}, {@code SET_VRING_NUM/ADDR}), starts vhost at DRIVER_OK
 * ({@code SET_RUNNING}), turns driver kicks into vhost work on the host's work queue and vhost signals
 * into driver work on the guest's work queue, and serves the event queue itself
 * ({@link io.vsocksim.sim.Host#sendTransportReset}). Guest and device meet nowhere else below the user
 * floor.
 *
 * <p>{@link io.vsocksim.sim.Machine#capture} records a machine's vsock packets as a vsockmon device sees
 * them into pcap or pcapng ({@link io.vsocksim.sim.VsockCapture}), what {@code tcpdump -i vsockmon0}
 * does on Linux.
 *
 * <p><b>API and internals.</b> This package is exported: its public members name only the machines,
 * {@code io.vsocksim.uapi} and the JDK. What a machine holds inside (its {@code KernelContext},
 * {@code VsockCore}, transports, driver and device, counters) is package-private and reached by the
 * module's own code through {@link io.vsocksim.sim.internal.SimInternals}, which this package installs
 * (the JDK's {@code SharedSecrets} pattern). Processes and sockets live one floor up, in
 * {@link io.vsocksim.user}: {@code UserProcess.spawn(machine, name)}, {@code VsockSocket.open(machine, type)}.
 *
 * <p>SIM: eventfds are direct calls that only queue work, so neither machine runs the other's code on
 * its threads; a guest's {@code close()} is the VM going away (vhost release, then driver removal).
 */
package io.vsocksim.sim;
