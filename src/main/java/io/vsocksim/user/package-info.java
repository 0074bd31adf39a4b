/**
 * The user's side of the simulator: what Java code that uses vsock sockets touches, as opposed to the
 * kernel model behind it. {@link io.vsocksim.user.VsockAddress} is the {@code SocketAddress} of an
 * AF_VSOCK endpoint; {@link io.vsocksim.user.VsockNet} makes {@code java.net.Socket}s and
 * {@code ServerSocket}s that are vsock sockets of a simulated process, behaving as JDK 17's TCP sockets
 * do and throwing what they throw ({@link io.vsocksim.user.JdkErrors}).
 */
package io.vsocksim.user;
