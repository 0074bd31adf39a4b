/**
 * The virtio transports' common code: {@code net/vmw_vsock/virtio_transport_common.c} and
 * {@code include/linux/virtio_vsock.h} of Linux 6.12.117.
 *
 * <p><b>Classes.</b> {@link io.vsocksim.vsock.virtio.VirtioTransport} is {@code struct virtio_transport}
 * with every {@code virtio_transport_*} op; its receive path ({@code virtio_transport_recv_pkt} and the
 * per-state handlers, enqueue, merge, collapse) is {@link io.vsocksim.vsock.virtio.VirtioTransportRecv},
 * which the loopback, guest and vhost transports call directly with each packet they receive; packet
 * building and {@code send_pkt_info} are {@code VirtioTransportSend}, the dequeue/peek functions
 * {@code VirtioTransportDequeue}. The file is split by concern only: every kernel function has one home,
 * and no class calls another through a forwarding method. The zerocopy receive RFC's part is
 * {@link io.vsocksim.vsock.virtio.VirtioTransportZerocopy} (not upstream).
 * {@link io.vsocksim.vsock.virtio.VirtioVsockSock} is {@code struct virtio_vsock_sock};
 * {@link io.vsocksim.vsock.virtio.VsockSkb}, {@link io.vsocksim.vsock.virtio.SkbQueue} and
 * {@link io.vsocksim.vsock.virtio.SkbPool} are the sk_buff subset the transports need.
 *
 * <p><b>Lock order.</b> listener socket lock → child socket lock → {@code tx_lock} / {@code rx_lock}
 * (leaves, never nested in each other) → the core's table lock. A device queue's lock
 * ({@link io.vsocksim.vsock.virtio.SkbQueue#lock}) is a leaf too. User copies never run under
 * {@code rx_lock}: the dequeue functions drop it around the copy because the socket lock already
 * excludes other readers.
 *
 * <p><b>skb ownership.</b> An skb has exactly one owner: its allocator, a queue, or a callee that
 * "takes ownership" ({@code sendPkt}, {@code recvPkt}). The last owner frees it with
 * {@code kfreeSkb}/{@code consumeSkb}, which returns the head and fragment pages to the machine's
 * {@link io.vsocksim.mm.PageAllocator} and the object to the pool. {@code skb->sk} holds a socket
 * reference until the skb is freed, so a socket is never destructed while one of its skbs is queued
 * anywhere. A received skb is re-owned by the receiving socket ({@code skb_set_owner_sk_safe}).
 *
 * <p><b>Deviations (SIM).</b>
 * <ul>
 *   <li>skb heads are page blocks of {@code get_order(osize)} pages instead of slab objects; sizes,
 *       tailroom and the linear/paged split follow {@code __alloc_skb}/{@code kmalloc_reserve}
 *       for x86-64 exactly.</li>
 *   <li>An owner socket is held through its reference count for sent and received skbs alike (the
 *       kernel uses {@code sk_wmem_alloc} for sent ones); both only defer destruction.</li>
 *   <li>MSG_ZEROCOPY send follows 6.12.117 ({@code VirtioTransportSend.sendPktInfo}, {@code canZcopy},
 *       {@link io.vsocksim.vsock.UbufInfoMsgzc}), except that only a
 *       {@link io.vsocksim.mm.UserBuffer} of the sending machine can be pinned: any other buffer is
 *       copied and its completion says COPIED. A zerocopy skb's fragments are pinned user pages
 *       (released with {@code put_page}, at an offset inside their block); the skb's completion
 *       reference is dropped in {@code SkbPool.free} before the pages, as {@code skb_release_data}
 *       does.</li>
 *   <li>{@code read_skb} (BPF sockmap), the DGRAM ops and the empty {@code notify_recv_*}/
 *       {@code notify_send_*} hooks are not modelled.</li>
 *   <li>SO_LINGER's wait never sees an exiting task ({@code PF_EXITING}).</li>
 *   <li>{@code skb_copy_datagram_iter} and the iterator copies are all-or-nothing.</li>
 * </ul>
 */
package io.vsocksim.vsock.virtio;
