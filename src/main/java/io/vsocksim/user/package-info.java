/**
 * The user's side of the simulator: what Java code that uses vsock sockets touches, as opposed to the
 * kernel model behind it. {@link io.vsocksim.user.VsockAddress} is the {@code SocketAddress} of an
 * AF_VSOCK endpoint.
 */
package io.vsocksim.user;
