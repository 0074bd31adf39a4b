package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * Split virtqueue layout, flags and feature bits, with the kernel's names and numbers
 * ({@code include/uapi/linux/virtio_ring.h}, feature bits from {@code virtio_config.h}).
 *
 * <p>Layout for a queue of {@code N} entries (N a power of two, at most {@link #VRING_MAX_NUM}); all
 * fields little-endian (VIRTIO_F_VERSION_1):
 * <pre>
 *   descriptor table (align 16)   N x { addr u64 @0, len u32 @8, flags u16 @12, next u16 @14 }
 *   available ring   (align 2)    flags u16 @0, idx u16 @2, ring[N] u16 @4, used_event u16 @4+2N
 *   used ring        (align 4)    flags u16 @0, idx u16 @2, ring[N] {id u32, len u32} @4, avail_event u16 @4+8N
 * </pre>
 * The legacy contiguous layout ({@code vring_init}) puts the available ring right after the
 * descriptor table and the used ring at the next multiple of {@code align}; see {@link #vringSize}.
 */
@Linux(file = "include/uapi/linux/virtio_ring.h", fn = "struct vring")
public final class VirtioRing {
    /** Descriptor flag: the chain continues at {@code next}. */
    public static final int VRING_DESC_F_NEXT = 1;
    /** Descriptor flag: the device writes this buffer (otherwise it reads it). */
    public static final int VRING_DESC_F_WRITE = 2;
    /** Descriptor flag: the buffer is a table of descriptors. */
    public static final int VRING_DESC_F_INDIRECT = 4;

    /** used.flags: the device asks not to be kicked (advisory; replaced by avail_event with EVENT_IDX). */
    public static final int VRING_USED_F_NO_NOTIFY = 1;
    /** avail.flags: the driver asks not to be interrupted (advisory; replaced by used_event with EVENT_IDX). */
    public static final int VRING_AVAIL_F_NO_INTERRUPT = 1;

    /** Feature bit: the device should signal whenever its avail ring becomes empty (virtio_config.h). */
    public static final int VIRTIO_F_NOTIFY_ON_EMPTY = 24;
    /** Feature bit: descriptor chains may be split across descriptors arbitrarily (virtio_config.h). */
    public static final int VIRTIO_F_ANY_LAYOUT = 27;
    /** Feature bit: indirect descriptor tables. */
    public static final int VIRTIO_RING_F_INDIRECT_DESC = 28;
    /** Feature bit: used_event / avail_event replace the two advisory flags. */
    public static final int VIRTIO_RING_F_EVENT_IDX = 29;
    /** Feature bit: virtio 1.x (little-endian rings, separate ring addresses) (virtio_config.h). */
    public static final int VIRTIO_F_VERSION_1 = 32;
    /** Feature bit: the device accesses memory through a platform IOMMU (virtio_config.h). */
    public static final int VIRTIO_F_ACCESS_PLATFORM = 33;

    /** Alignment of the descriptor table. */
    public static final int VRING_DESC_ALIGN_SIZE = 16;
    /** Alignment of the available ring. */
    public static final int VRING_AVAIL_ALIGN_SIZE = 2;
    /** Alignment of the used ring. */
    public static final int VRING_USED_ALIGN_SIZE = 4;
    /** Legacy (virtio-pci 0.9) ring alignment, {@code VIRTIO_PCI_VRING_ALIGN}. */
    public static final int VIRTIO_LEGACY_VRING_ALIGN = 4096;
    /** Largest split queue size: a power of two that fits the u16 {@code vhost_vring_set_num} bound. */
    public static final int VRING_MAX_NUM = 32768;

    /** Size of one descriptor ({@code struct vring_desc}). */
    public static final int DESC_SIZE = 16;
    /** Offset of {@code addr} (u64) in a descriptor. */
    public static final int DESC_ADDR = 0;
    /** Offset of {@code len} (u32) in a descriptor. */
    public static final int DESC_LEN = 8;
    /** Offset of {@code flags} (u16) in a descriptor. */
    public static final int DESC_FLAGS = 12;
    /** Offset of {@code next} (u16) in a descriptor. */
    public static final int DESC_NEXT = 14;

    /** Offset of {@code flags} in both the avail and the used ring. */
    public static final int RING_FLAGS = 0;
    /** Offset of {@code idx} in both the avail and the used ring. */
    public static final int RING_IDX = 2;
    /** Offset of {@code ring[0]} in both the avail and the used ring. */
    public static final int RING_RING = 4;
    /** Size of one avail ring entry (u16 head). */
    public static final int AVAIL_ELEM_SIZE = 2;
    /** Size of one used ring entry ({@code struct vring_used_elem}: id u32, len u32). */
    public static final int USED_ELEM_SIZE = 8;
    /** Offset of {@code id} in a used ring entry. */
    public static final int USED_ELEM_ID = 0;
    /** Offset of {@code len} in a used ring entry. */
    public static final int USED_ELEM_LEN = 4;

    private VirtioRing() {
    }

    /** Bytes of the descriptor table for {@code num} entries. */
    public static long descTableSize(int num) {
        return (long) DESC_SIZE * num;
    }

    /** Bytes of the available ring including {@code used_event}. */
    public static long availRingSize(int num) {
        return RING_RING + (long) AVAIL_ELEM_SIZE * num + 2;
    }

    /** Bytes of the used ring including {@code avail_event}. */
    public static long usedRingSize(int num) {
        return RING_RING + (long) USED_ELEM_SIZE * num + 2;
    }

    /** Offset of {@code used_event} (= {@code avail->ring[num]}) from the available ring. */
    @Linux(file = "include/uapi/linux/virtio_ring.h", fn = "vring_used_event")
    public static long usedEventOffset(int num) {
        return RING_RING + (long) AVAIL_ELEM_SIZE * num;
    }

    /** Offset of {@code avail_event} (the u16 at {@code used->ring[num]}) from the used ring. */
    @Linux(file = "include/uapi/linux/virtio_ring.h", fn = "vring_avail_event")
    public static long availEventOffset(int num) {
        return RING_RING + (long) USED_ELEM_SIZE * num;
    }

    /** Offset of the available ring from the start of a legacy contiguous ring ({@code vring_init}). */
    public static long legacyAvailOffset(int num) {
        return descTableSize(num);
    }

    /**
     * Offset of the used ring from the start of a legacy contiguous ring ({@code align} a power of two;
     * {@code vring_init}).
     */
    public static long legacyUsedOffset(int num, long align) {
        return roundUp(descTableSize(num) + availRingSize(num), align);
    }

    /** Bytes of a legacy contiguous ring: round_up(16N + 2(3+N), align) + 6 + 8N. */
    @Linux(file = "include/uapi/linux/virtio_ring.h", fn = "vring_size")
    public static long vringSize(int num, long align) {
        return legacyUsedOffset(num, align) + usedRingSize(num);
    }

    /**
     * True iff the other side's event index lies in the window {@code (old, newIdx]} just published:
     * {@code (u16)(new - event - 1) < (u16)(new - old)}. All three are u16 values.
     */
    @Linux(file = "include/uapi/linux/virtio_ring.h", fn = "vring_need_event")
    public static boolean vringNeedEvent(int eventIdx, int newIdx, int old) {
        // Mask both sides first: with new == event the "- 1" must wrap to 0xFFFF, not go negative.
        return U16.of(newIdx - eventIdx - 1) < U16.of(newIdx - old);
    }

    /** True if {@code num} is a valid split queue size: a power of two in [1, 32768]. */
    public static boolean isValidNum(int num) {
        return num > 0 && num <= VRING_MAX_NUM && (num & (num - 1)) == 0;
    }

    /** True if feature bit {@code bit} is set in {@code features}. */
    public static boolean hasFeature(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }

    private static long roundUp(long x, long align) {
        return (x + align - 1) & ~(align - 1);
    }
}
