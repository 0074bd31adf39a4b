/**
 * The syscall layer of sockets, {@code net/socket.c}: what the kernel does between a system call
 * and the protocol's {@code proto_ops} (af_vsock), as rules a descriptor face can reuse.
 *
 * <ul>
 *   <li>{@link io.vsocksim.net.SocketFile}: {@code struct socket} and its {@code struct file} (the
 *       reference count, the status flags, the owner), what a process's descriptor refers to; its
 *       calls return {@code >= 0} or {@code -errno} and are made by {@code io.vsocksim.user.UserProcess}.</li>
 *   <li>{@link io.vsocksim.net.SockAddrs}: the copy of addresses in from user memory and out to it
 *       ({@code move_addr_to_kernel}, {@code move_addr_to_user}).</li>
 *   <li>{@link io.vsocksim.net.SockAddrs#copyMsghdrFromUser} and {@link io.vsocksim.net.Iovec}: the import
 *       of a {@code struct user_msghdr} ({@link io.vsocksim.uapi.UserMsghdr}) and its iovec
 *       ({@code __copy_msghdr}, {@code import_iovec}).</li>
 *   <li>{@link io.vsocksim.net.SockIoctl}: the commands {@code sock_ioctl} answers before the protocol's
 *       ioctl, and what is left for {@code sock_do_ioctl}.</li>
 * </ul>
 *
 * <p>SIM: the machine has no network devices and no bridge, 802.1Q, or wireless-extension code, so the
 * ioctls that would reach them end at the documented stand-ins in {@link io.vsocksim.net.SockIoctl}.
 * An iovec is gathered into (send) or received through (recv) one contiguous kernel-side buffer and
 * then scattered in order; the bytes, counts and flags are the kernel's, but a fault in the middle of
 * an iovec is not modelled (a NULL iovec array is EFAULT).
 */
package io.vsocksim.net;
