/**
 * The user ABI and wire format, bit-exact with Linux 6.12.117.
 *
 * <p>Kernel files mirrored: include/uapi/linux/vm_sockets.h ({@link io.vsocksim.uapi.VmSockets},
 * {@link io.vsocksim.uapi.SockaddrVm}), include/uapi/linux/virtio_vsock.h
 * ({@link io.vsocksim.uapi.VirtioVsockHdr}, {@link io.vsocksim.uapi.VirtioVsockOp},
 * {@link io.vsocksim.uapi.VirtioVsockType}, {@link io.vsocksim.uapi.VirtioVsock}),
 * include/uapi/linux/virtio_ring.h, include/uapi/asm-generic/errno*.h ({@link io.vsocksim.uapi.Errno}),
 * include/linux/socket.h and asm-generic/socket.h ({@link io.vsocksim.uapi.Sock}), asm-generic/poll.h
 * ({@link io.vsocksim.uapi.Poll}), include/net/tcp_states.h ({@link io.vsocksim.uapi.TcpState}),
 * include/uapi/asm-generic/mman-common.h ({@link io.vsocksim.uapi.Mman}), include/uapi/linux/errqueue.h
 * ({@link io.vsocksim.uapi.SockExtendedErr}), include/linux/socket.h's {@code struct user_msghdr}
 * ({@link io.vsocksim.uapi.UserMsghdr}).
 *
 * <p>This package is exported: the numbers and structs a program passes to the system calls of
 * {@code io.vsocksim.user} and gets back from them, {@link io.vsocksim.uapi.ErrnoException} (a failed
 * call's errno), {@link io.vsocksim.uapi.SegmentationFault} (what a process's access to unmapped memory
 * raises, where Linux sends SIGSEGV) and {@link io.vsocksim.uapi.ZerocopyPolicy} (the zerocopy receive
 * RFC's allocation modes, a machine setting kept here so that every layer can read it). Every layer of
 * the kernel model imports it; it imports nothing but the citation annotations.
 *
 * <p>Conventions:
 * <ul>
 *   <li>Wire structures are flyweights: {@code wrap(ByteBuffer, offset)} then absolute little-endian
 *       accessors; no object per packet. Byte order is never taken from the buffer.</li>
 *   <li>u32 values (ports, CIDs in sockaddr_vm, credit counters) live in {@code int}s and wrap like C;
 *       compare them with {@link io.vsocksim.uapi.U32}. u16 ring indices go through
 *       {@link io.vsocksim.uapi.U16}. Header CIDs are {@code long} (u64 on the wire).</li>
 *   <li>Numbers keep their kernel names so a reader can grep for them.</li>
 *   <li>{@link io.vsocksim.uapi.VirtioVsockUsrHdr} and {@code SO_VM_SOCKETS_ZEROCOPY} come from the
 *       unmerged zerocopy receive RFC and are marked {@link io.vsocksim.NotUpstream}.</li>
 * </ul>
 */
package io.vsocksim.uapi;
