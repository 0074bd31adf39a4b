/**
 * The user's side of the simulator: what Java code that uses vsock sockets touches, as opposed to the
 * kernel model behind it.
 *
 * <ul>
 *   <li>{@link io.vsocksim.user.VsockAddress}: the {@code SocketAddress} of an AF_VSOCK endpoint.</li>
 *   <li>{@link io.vsocksim.user.VsockNet}: {@code java.net.Socket}s and {@code ServerSocket}s that are
 *       vsock sockets of a simulated process, behaving as JDK 17's TCP sockets do and throwing what
 *       they throw ({@link io.vsocksim.user.JdkErrors}); {@link io.vsocksim.user.VsockNet#selectorProvider()}
 *       and {@link io.vsocksim.user.nio.VsockSelectorProvider} give NIO channels and selectors.</li>
 *   <li>{@link io.vsocksim.user.Faults}: what VMs meet in production — a pause, a migration, a device
 *       replug, memory pressure — injected on purpose, so a test can check the code around its
 *       connections.</li>
 *   <li>{@link io.vsocksim.user.VsockStats}: a machine's counters (bytes copied, packets by op, kicks,
 *       interrupts, resets) read into immutable {@link io.vsocksim.user.CounterSnapshot}s, with
 *       {@code minus} for what happened in between: the way to read counters.</li>
 *   <li>{@code io.vsocksim.user.junit}: the JUnit 5 extension ({@code @VsockSim}) that gives each test
 *       a host and guests and fails a test that leaks.</li>
 * </ul>
 *
 * Machines ({@code io.vsocksim.sim.Host}, {@code Guest}, {@code Machine}) and processes
 * ({@code io.vsocksim.sim.UserProcess}, the C-shaped descriptor face) are in {@code io.vsocksim.sim}, with
 * the socket object {@code VsockSocket} (a handle on a process's descriptor) and {@code VsockCapture};
 * the counter objects {@code VsockStats} reads are in {@code io.vsocksim.vsock} and its sub-packages; the numbers
 * of the kernel's ABI are in {@code io.vsocksim.uapi}. Those and this package (with {@code user.nio} and
 * {@code user.bridge} and {@code user.junit}) are the API; the kernel model they run on ({@code kernel}, {@code mm}, {@code fs},
 * {@code net}, {@code virtio}, {@code vhost}, the {@code vsock.*} sub-packages and the rest of
 * {@code io.vsocksim.vsock}) is not (see the overview).
 */
package io.vsocksim.user;
