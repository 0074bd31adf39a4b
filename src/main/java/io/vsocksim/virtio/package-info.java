/**
 * Driver (guest) side of the split virtqueue: {@code drivers/virtio/virtio_ring.c} of Linux 6.12.117
 * (split-ring functions only; packed rings are out of scope).
 *
 * <p><b>Mirrored functions.</b> {@link io.vsocksim.virtio.VirtqueueSplit} is {@code struct vring_virtqueue}:
 * {@code virtqueue_add_split} ({@code addSgs}), {@code virtqueue_kick_prepare_split},
 * {@code virtqueue_notify}, {@code virtqueue_kick}, {@code virtqueue_get_buf_ctx_split} ({@code getBuf} +
 * {@code lastLen}), {@code detach_buf_split}, {@code virtqueue_disable_cb_split},
 * {@code virtqueue_enable_cb_prepare_split}, {@code virtqueue_poll}, {@code virtqueue_enable_cb},
 * {@code virtqueue_enable_cb_delayed_split}, {@code virtqueue_detach_unused_buf_split},
 * {@code vring_interrupt}. {@link io.vsocksim.virtio.VringAddrs} holds the three ring GPAs and the
 * legacy contiguous layout ({@code vring_init}).
 *
 * <p><b>Memory ordering</b> (GuestMemory VarHandle accessors; every pairing is named in the code):
 * <ul>
 *   <li>descriptors + avail ring entry, then {@code putU16Release(avail.idx)} (virtio_wmb) — paired
 *       with {@code getU16Acquire(avail.idx)} in {@code VhostVirtqueue.getAvailIdx};</li>
 *   <li>{@code getU16Acquire(used.idx)} before reading used entries (virtio_rmb) — paired with
 *       {@code putU16Release(used.idx)} in {@code VhostVirtqueue.addUsedN};</li>
 *   <li>{@code fullFence()} in {@code kickPrepare} (virtio_mb) — paired with the one in
 *       {@code VhostVirtqueue.enableNotify}; {@code fullFence()} after publishing used_event in
 *       {@code getBuf}/{@code poll} — paired with the one in {@code VhostVirtqueue.vhostNotify}.</li>
 * </ul>
 *
 * <p><b>Error model.</b> Results are kernel style: {@code addSgs} returns 0, {@code -ENOSPC} or
 * {@code -EIO} (broken queue). A misbehaving device (used id out of range or not a head, failing
 * notify) marks the queue <em>broken</em> ({@code BAD_RING}): adds fail with EIO, {@code getBuf}
 * returns null, {@code poll} false. Caller bugs (null token, bad ring placement) throw.
 *
 * <p><b>Allocation.</b> Shadow arrays ({@code desc_extra}, {@code desc_state}) and token slots are
 * allocated once; add/get allocate nothing. Callers serialise all calls on one queue.
 *
 * <p><b>Deviations</b>
 * <ul>
 *   <li>SIM: no DMA API; buffer addresses are GPAs as given, so the ENOMEM (mapping failure) path is
 *       absent.</li>
 *   <li>SIM: indirect tables come from an owner-supplied {@code IndirectAllocator} in guest memory
 *       (the kernel kmallocs them); without one, indirect is never used even if negotiated.</li>
 *   <li>SIM: freeing a chain follows the NEXT flags in the shared table (as 6.12 does) but stops after
 *       {@code num} steps and marks the queue broken ({@code CHAIN_CORRUPT}); the kernel trusts the
 *       device here and would loop.</li>
 * </ul>
 */
package io.vsocksim.virtio;
