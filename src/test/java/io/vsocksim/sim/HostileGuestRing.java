package io.vsocksim.sim;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.vhost.VhostVirtqueue;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A hostile guest scribbling on one of its own virtqueues (rx 0 or tx 1) in guest memory: raw
 * descriptors, avail entries and avail.idx, then a kick straight to the device, as rust-vmm's
 * MockSplitQueue does for a bare ring. The ring is the one the guest's driver set up; the helper finds
 * it through the device's view of the vq.
 *
 * <p>Every descriptor, avail entry and avail.idx it overwrites is remembered, and {@link #restore()}
 * puts the original bytes back. The guest driver itself, like the kernel's {@code detach_buf_split},
 * re-reads the shared NEXT flags when it frees a chain at teardown: a guest that corrupts its own
 * flags corrupts its own free list, which is not what these tests are about. Tests call
 * {@link #restore()} after the host released the device (nothing reads the ring any more) and before
 * the driver is removed. {@link #page} hands out scratch guest pages; {@link #close()} frees them.
 */
final class HostileGuestRing implements AutoCloseable {
    final Guest guest;
    final int index;
    final GuestMemory mem;
    final int num;
    final long desc;
    final long avail;
    private final PageAllocator pages;
    private final Map<Long, byte[]> saved = new LinkedHashMap<>();
    private final List<Long> scratch = new ArrayList<>();

    HostileGuestRing(Guest guest, int index) {
        this.guest = guest;
        this.index = index;
        this.mem = guest.kernel().memory();
        this.pages = guest.kernel().pages();
        VhostVirtqueue vq = guest.vhost().vq(index);
        this.num = vq.num();
        this.desc = vq.descGpa();
        this.avail = vq.availGpa();
    }

    /** The device's view of this queue. */
    VhostVirtqueue device() {
        return guest.vhost().vq(index);
    }

    private void save(long gpa, int len) {
        if (!saved.containsKey(gpa)) {
            byte[] b = new byte[len];
            mem.read(gpa, b, 0, len);
            saved.put(gpa, b);
        }
    }

    /** Writes descriptor {@code i} of the ring's table. */
    void desc(int i, long addr, int len, int flags, int next) {
        long d = desc + (long) VirtioRing.DESC_SIZE * i;
        save(d, VirtioRing.DESC_SIZE);
        rawDesc(mem, d, addr, len, flags, next);
    }

    /** Writes a descriptor anywhere in guest memory (an indirect table entry). */
    static void rawDesc(GuestMemory mem, long gpa, long addr, int len, int flags, int next) {
        mem.putU64(gpa + VirtioRing.DESC_ADDR, addr);
        mem.putU32(gpa + VirtioRing.DESC_LEN, Integer.toUnsignedLong(len));
        mem.putU16(gpa + VirtioRing.DESC_FLAGS, flags);
        mem.putU16(gpa + VirtioRing.DESC_NEXT, next);
    }

    /** Descriptor {@code i}'s {@code next} as stored in guest memory. */
    int descNext(int i) {
        return mem.getU16(desc + (long) VirtioRing.DESC_SIZE * i + VirtioRing.DESC_NEXT);
    }

    /** avail.idx as published. */
    int availIdx() {
        return mem.getU16(avail + VirtioRing.RING_IDX);
    }

    /** Publishes {@code idx} as avail.idx (release store, as a driver does). */
    void setAvailIdx(int idx) {
        save(avail + VirtioRing.RING_IDX, 2);
        mem.putU16Release(avail + VirtioRing.RING_IDX, idx & 0xFFFF);
    }

    /** avail.ring entry for free-running index {@code pos}. */
    int availEntry(int pos) {
        return mem.getU16(avail + VirtioRing.RING_RING + 2L * (pos & (num - 1)));
    }

    /** Overwrites the avail.ring entry for free-running index {@code pos}. */
    void setAvailEntry(int pos, int head) {
        long a = avail + VirtioRing.RING_RING + 2L * (pos & (num - 1));
        save(a, 2);
        mem.putU16(a, head);
    }

    /** The head the device will fetch next ({@code avail.ring[last_avail_idx]}). */
    int nextHead() {
        return availEntry(device().lastAvailIdx());
    }

    /** The driver's notification for this queue, sent straight to the device. */
    void kick() {
        guest.vhost().kick(index);
    }

    /** A zeroed scratch block of {@code 2^order} guest pages, freed by {@link #close()}. */
    long page(int order) {
        long h = pages.allocPages(order);
        if (h < 0) {
            throw new IllegalStateException("guest out of pages");
        }
        scratch.add(h);
        long gpa = pages.gpa(h);
        mem.fill(gpa, (long) GuestMemory.PAGE_SIZE << order, (byte) 0);
        return gpa;
    }

    /** Writes a 44-byte packet header at {@code gpa}. */
    static void header(GuestMemory mem, long gpa, long src, int srcPort, long dst, int dstPort, int len, int type, int op) {
        ByteBuffer b = ByteBuffer.allocate(VirtioVsockHdr.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        new VirtioVsockHdr().wrap(b, 0).srcCid(src).srcPort(srcPort).dstCid(dst).dstPort(dstPort).len(len)
                .type(type).op(op).bufAlloc(256 * 1024);
        mem.write(gpa, b.array(), 0, VirtioVsockHdr.SIZE);
    }

    /** Puts back every byte this helper overwrote in the ring, newest first. */
    void restore() {
        List<Map.Entry<Long, byte[]>> es = new ArrayList<>(saved.entrySet());
        for (int k = es.size() - 1; k >= 0; k--) {
            byte[] b = es.get(k).getValue();
            mem.write(es.get(k).getKey(), b, 0, b.length);
        }
        saved.clear();
    }

    @Override
    public void close() {
        for (long h : scratch) {
            pages.freePages(h);
        }
        scratch.clear();
    }
}
