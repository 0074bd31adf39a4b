/**
 * Device (host) side of the split virtqueue: {@code drivers/vhost/vhost.c} and {@code vhost.h} of
 * Linux 6.12.117.
 *
 * <p><b>Mirrored functions.</b> {@link io.vsocksim.vhost.VhostVirtqueue} is {@code struct
 * vhost_virtqueue}: {@code vhost_vring_set_num}, {@code vhost_vring_set_addr} + {@code vq_access_ok},
 * {@code VHOST_SET_VRING_BASE}, {@code vhost_vq_init_access}, {@code vq_meta_prefetch},
 * {@code vhost_get_avail_idx}, {@code vhost_get_vq_desc}, {@code get_indirect}, {@code translate_desc},
 * {@code vhost_discard_vq_desc}, {@code vhost_vq_avail_empty}, {@code vhost_add_used(_n)},
 * {@code __vhost_add_used_n}, {@code vhost_notify}, {@code vhost_signal}, {@code vhost_enable_notify},
 * {@code vhost_disable_notify}, {@code vhost_exceeds_weight}. {@link io.vsocksim.vhost.Iov} is the
 * {@code iov[]} array with {@code out_num}/{@code in_num}; {@link io.vsocksim.vhost.VringError} names
 * each {@code vq_err} site.
 *
 * <p><b>Memory ordering.</b> {@code getU16Acquire(avail.idx)} pairs with the driver's
 * {@code putU16Release(avail.idx)} in {@code VirtqueueSplit.addSgs}; {@code putU16Release(used.idx)}
 * pairs with the driver's {@code getU16Acquire(used.idx)}; {@code fullFence()} in {@code enableNotify}
 * pairs with {@code VirtqueueSplit.kickPrepare}; {@code fullFence()} in {@code vhostNotify} pairs with
 * {@code VirtqueueSplit.getBuf}/{@code poll}. Descriptors are read once into locals (TOCTOU).
 *
 * <p><b>Error model.</b> The guest is never trusted and nothing throws for bad guest data. A malformed
 * ring yields {@code -errno} (EINVAL, EFAULT, ENOBUFS, E2BIG) from {@code getVqDesc} and one {@code vq_err}
 * record (reason, per-reason counter, last reason). {@code last_avail_idx} is <em>not</em> advanced on
 * error, so every later fetch hits the same chain until the driver rewrites it — what vhost does; the
 * vsock handlers simply stop that run. An avail index that jumps by more than {@code num} is rejected
 * <em>without</em> caching it (6.12.117; 6.12.95 and earlier cached it first), so the device recovers as
 * soon as the driver publishes a sane index. Programming errors of the owner (fetching before ring
 * addresses are set, fetching with notifications enabled under {@code -ea}) throw or assert.
 *
 * <p><b>Deviations</b>
 * <ul>
 *   <li>SIM: guest memory is a single region, so each buffer becomes exactly one iovec (vhost may split
 *       one descriptor at memory-region boundaries); no IOTLB, so no EPERM/EAGAIN and no miss
 *       requests.</li>
 *   <li>SIM: {@code setAddr} checks ring access at once (vhost defers it until a backend is set when
 *       none is attached) and also requires a 16-aligned descriptor table.</li>
 *   <li>One {@code vq_err} is recorded per failure; for indirect failures the kernel logs a second,
 *       generic line.</li>
 *   <li>Indirect tables are read in table order (the kernel copies entries through a sequential
 *       iterator): an entry's {@code next} field is not followed, only its NEXT flag.
 *       {@code shared/reference/virtqueue.md} §5.4 says entries chain through {@code next}; the
 *       6.12.117 source does not, and this code follows the source.</li>
 *   <li>No dirty logging ({@code VHOST_F_LOG_ALL}), no error eventfd (the counter stands in).</li>
 * </ul>
 */
package io.vsocksim.vhost;
