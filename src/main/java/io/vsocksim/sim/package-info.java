/**
 * Simulated machines and their wiring: {@link io.vsocksim.sim.Machine} (kernel context + af_vsock +
 * optional loopback), {@link io.vsocksim.sim.Host} (CID 2, vhost-vsock) and
 * {@link io.vsocksim.sim.Guest} (its own memory, work queue and clock; the virtio-vsock driver bound to
 * a device backed by one {@code VhostVsock} of the host).
 *
 * <p>{@code VhostVsockPci} plays the VMM: it offers features, forwards the driver's queue setup to
 * vhost ({@code SET_FEATURES}, {@code SET_VRING_NUM/ADDR}), starts vhost at DRIVER_OK
 * ({@code SET_RUNNING}), turns driver kicks into vhost work on the host's work queue and vhost signals
 * into driver work on the guest's work queue, and serves the event queue itself
 * ({@link io.vsocksim.sim.Host#sendTransportReset}).
 *
 * <p>{@link io.vsocksim.sim.Machine#capture} records a machine's vsock packets as a vsockmon device sees
 * them into pcap or pcapng ({@link io.vsocksim.sim.VsockCapture}), what {@code tcpdump -i vsockmon0}
 * does on Linux.
 *
 * <p>SIM: eventfds are direct calls that only queue work, so neither machine runs the other's code on
 * its threads; a guest's {@code close()} is the VM going away (vhost release, then driver removal).
 */
package io.vsocksim.sim;
