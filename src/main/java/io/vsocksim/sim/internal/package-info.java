/**
 * What the module's own code reaches inside a machine; not exported.
 *
 * <ul>
 *   <li>{@link io.vsocksim.sim.internal.SimInternals}: a machine's kernel context, af_vsock core, loopback
 *       transport and pids; a host's vhost transport; a guest's driver, device and counters; machines on a
 *       kernel context of the caller's making ({@code newHost}, {@code newMachine},
 *       {@code startGuest(host, cid, kernel, ...)}) and the kernel side of socket(2). The user floor's
 *       processes, the {@code vsock_test} port, the tools, the benchmarks and the tests use it;
 *       {@code io.vsocksim.sim} installs it when {@code Machine} is initialised, as the JDK's
 *       {@code SharedSecrets} bridges {@code java.lang} and its internal callers.</li>
 *   <li>{@link io.vsocksim.sim.internal.VhostVsockPciCounters}: the VMM's event-queue counters.</li>
 * </ul>
 *
 * <p>Why a bridge: the machines' API is exported, so a public method there returning a kernel type would
 * put that type in the API ({@code -Xlint:exports}); the members stay package-private in
 * {@code io.vsocksim.sim} and this package, which nothing outside the module can read, calls them.
 * {@code sim <-> sim.internal} is therefore a package cycle inside the machines' floor, declared in
 * {@code PackageLayersTest}.
 */
package io.vsocksim.sim.internal;
