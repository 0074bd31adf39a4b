package io.vsocksim.virtio;

import io.vsocksim.Linux;
import io.vsocksim.uapi.VirtioRing;

/**
 * Where the three areas of a split virtqueue of {@code num} entries live in guest memory (GPAs), as a
 * modern transport programs them ({@code queue_desc}, {@code queue_driver}, {@code queue_device}).
 *
 * @param descGpa descriptor table, 16-aligned
 * @param availGpa available ("driver") ring, 2-aligned
 * @param usedGpa used ("device") ring, 4-aligned
 * @param num queue size, a power of two up to 32768
 */
public record VringAddrs(long descGpa, long availGpa, long usedGpa, int num) {

    /** The legacy contiguous layout starting at {@code base}, with the used ring aligned to {@code align}. */
    @Linux(file = "include/uapi/linux/virtio_ring.h", fn = "vring_init")
    public static VringAddrs legacy(long base, int num, long align) {
        return new VringAddrs(base, base + VirtioRing.legacyAvailOffset(num),
                base + VirtioRing.legacyUsedOffset(num, align), num);
    }

    /** Bytes spanned by the legacy layout ({@link VirtioRing#vringSize}). */
    public static long legacySize(int num, long align) {
        return VirtioRing.vringSize(num, align);
    }
}
