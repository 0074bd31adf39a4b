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
 * <p>Processes: {@link io.vsocksim.sim.UserProcess} has a descriptor table, an address space,
 * credentials and signal handlers, and makes the system calls by descriptor ({@code >= 0} or
 * {@code -errno}). {@link io.vsocksim.sim.VsockSocket}, the exception-throwing socket object, is a
 * handle on one of its descriptors and makes those same calls; {@code Machine.socket(type)} makes one
 * in the machine's embedder process ({@link io.vsocksim.sim.Machine#embedder()}), which stands for
 * the JVM itself (SIGPIPE ignored, RLIMIT_NOFILE raised).
 *
 * <p>SIM: eventfds are direct calls that only queue work, so neither machine runs the other's code on
 * its threads; a guest's {@code close()} is the VM going away (vhost release, then driver removal).
 */
package io.vsocksim.sim;
