package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One mapped range {@code [start, end)} of a simulated process ({@code struct vm_area_struct}
 * subset), created by {@link MmStruct#mmap}. Its page table is a run of slots, one per page: a slot
 * is empty or holds one page, named by the {@link PageAllocator} that owns it, the block handle and
 * the page's index in the block. Slots live in page-table-sized tables of 512, created on the first
 * insert into their 2 MiB run, so inserting into a warm table allocates nothing.
 *
 * <p><b>References.</b> A filled slot holds one reference on its block ({@code vm_insert_page} takes
 * it, {@link #zap} drops it), so a page that is mapped cannot go back to its allocator, whoever else
 * lets go of it. A block with several pages mapped holds one reference per slot. SIM: the kernel also
 * counts mappings separately ({@code _mapcount}); here the reference count carries both.
 *
 * <p><b>Owner.</b> An opaque tag given at {@code mmap} time (the object that created the mapping,
 * e.g. the socket for a zerocopy receive area), so a layer can refuse a mapping it did not create.
 *
 * <p><b>Locking.</b> Slot operations synchronize on the area (the page table lock); they take the
 * allocator's lock inside it. A removed area (unmapped or split) is detached: inserts fail with
 * {@code -EFAULT} and reads fault.
 */
@Linux(file = "include/linux/mm_types.h", fn = "struct vm_area_struct")
public final class VmArea {
    private final MmStruct mm;
    private final long start;
    private final int npages;
    private final int prot;
    private final Object owner;

    // Protected by this. Filled on first insert into each run of PTES_PER_TABLE slots.
    private final PteTable[] tables;
    private int mapped;
    private boolean detached;

    VmArea(MmStruct mm, long start, int npages, int prot, Object owner) {
        this.mm = mm;
        this.start = start;
        this.npages = npages;
        this.prot = prot;
        this.owner = owner;
        this.tables = new PteTable[(npages + PTES_PER_TABLE - 1) / PTES_PER_TABLE];
    }

    /** Slots per page-table page: 512 eight-byte PTEs fill one 4 KiB page on x86-64. */
    static final int PTES_PER_TABLE = 512;

    /**
     * One page-table page: the slots of a 2 MiB run of the area. Allocated when a page is first inserted
     * in that run (as {@code pte_alloc} does), so a large, sparsely used area costs little.
     */
    private static final class PteTable {
        final PageAllocator[] allocator = new PageAllocator[PTES_PER_TABLE];
        final long[] handle = new long[PTES_PER_TABLE];
        final int[] index = new int[PTES_PER_TABLE];
    }

    /** First user address of the area ({@code vm_start}), page-aligned. */
    public long start() {
        return start;
    }

    /** First user address after the area ({@code vm_end}). */
    public long end() {
        return start + ((long) npages << GuestMemory.PAGE_SHIFT);
    }

    /** Pages the area spans (slots). */
    public int npages() {
        return npages;
    }

    /** {@code PROT_*} bits given at mmap time ({@link Mman}). */
    public int prot() {
        return prot;
    }

    /** The tag given at mmap time, e.g. the socket that created the mapping. */
    public Object owner() {
        return owner;
    }

    /** The address space this area belongs to ({@code vm_mm}). */
    public MmStruct mm() {
        return mm;
    }

    /** True if {@code addr} lies in {@code [start, end)}. */
    public boolean contains(long addr) {
        return addr >= start && addr - start < ((long) npages << GuestMemory.PAGE_SHIFT);
    }

    /** Slot number of {@code addr}, which must lie inside the area. */
    public int slotOf(long addr) {
        if (!contains(addr)) {
            throw new IllegalArgumentException("address outside area: addr=0x" + Long.toHexString(addr) + " " + range());
        }
        return (int) ((addr - start) >>> GuestMemory.PAGE_SHIFT);
    }

    /** User address of slot {@code slot}. */
    public long addrOf(int slot) {
        return start + ((long) slot << GuestMemory.PAGE_SHIFT);
    }

    /**
     * Maps page {@code index} of block {@code handle} at slot {@code slot}, taking one reference on the
     * block (the caller keeps its own).
     *
     * @return 0; {@code -EBUSY} if the slot already holds a page; {@code -EFAULT} if the slot is outside
     *         the area or the area was unmapped
     * @throws IllegalArgumentException if {@code index} is outside the block, or (from the allocator) the
     *                                  handle is not a live block of {@code a}
     */
    @Linux(file = "mm/memory.c", fn = "vm_insert_page")
    public int insertPage(int slot, PageAllocator a, long handle, int index) {
        if (index < 0 || index >= 1 << PageAllocator.order(handle)) {
            throw new IllegalArgumentException("page index outside block: handle=0x" + Long.toHexString(handle)
                    + " index=" + index);
        }
        synchronized (this) {
            if (detached || slot < 0 || slot >= npages) {
                return -EFAULT;
            }
            PteTable t = tables[slot / PTES_PER_TABLE];
            if (t == null) {
                t = tables[slot / PTES_PER_TABLE] = new PteTable();
            }
            int e = slot % PTES_PER_TABLE;
            if (t.allocator[e] != null) {
                return -EBUSY;
            }
            a.getPage(handle);
            t.allocator[e] = a;
            t.handle[e] = handle;
            t.index[e] = index;
            mapped++;
            return 0;
        }
    }

    /**
     * Empties {@code count} slots from {@code firstSlot}, dropping the reference each filled slot held
     * (the last reference frees the block). Empty slots are skipped. This is what
     * {@code madvise(MADV_DONTNEED)} and {@code munmap} do to the page table.
     *
     * @return pages unmapped ({@code >= 0}), or {@code -EINVAL} if the range is not inside the area
     */
    @Linux(file = "mm/memory.c", fn = "zap_page_range_single")
    public int zap(int firstSlot, int count) {
        if (firstSlot < 0 || count < 0 || firstSlot > npages - count) {
            return -EINVAL;
        }
        int n = 0;
        synchronized (this) {
            for (int s = firstSlot; s < firstSlot + count; s++) {
                PteTable t = tables[s / PTES_PER_TABLE];
                int e = s % PTES_PER_TABLE;
                if (t == null) {
                    s |= PTES_PER_TABLE - 1; // no table: the whole run is empty
                } else if (t.allocator[e] != null) {
                    PageAllocator a = t.allocator[e];
                    long h = t.handle[e];
                    t.allocator[e] = null;
                    t.handle[e] = 0;
                    t.index[e] = 0;
                    mapped--;
                    n++;
                    a.putPage(h);
                }
            }
        }
        return n;
    }

    /** True if slot {@code slot} holds a page. */
    public synchronized boolean isMapped(int slot) {
        checkSlot(slot);
        return allocatorAt(slot) != null;
    }

    /** Filled slots ({@code MM_FILEPAGES}-like count for this area). */
    public synchronized int mappedPages() {
        return mapped;
    }

    /** Block handle mapped at {@code slot}, or 0 if the slot is empty. */
    public synchronized long handleAt(int slot) {
        checkSlot(slot);
        PteTable t = tables[slot / PTES_PER_TABLE];
        return t == null ? 0 : t.handle[slot % PTES_PER_TABLE];
    }

    /** Allocator of the page mapped at {@code slot}, or null if the slot is empty. */
    public synchronized PageAllocator allocatorAt(int slot) {
        checkSlot(slot);
        PteTable t = tables[slot / PTES_PER_TABLE];
        return t == null ? null : t.allocator[slot % PTES_PER_TABLE];
    }

    /**
     * What the process sees at slot {@code slot}: a fresh read-only, little-endian view of the page
     * (position 0, limit 4096). It aliases the page, so it is meaningful only while the slot stays
     * mapped; after a zap it shows whatever the page holds next (the poison pattern if it was freed).
     *
     * @throws SegmentationFault if the slot is empty, the area lacks {@code PROT_READ} or was unmapped
     */
    public ByteBuffer read(int slot) {
        return pageOf(slot).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Copies {@code n} bytes at {@code inPage} of slot {@code slot} into {@code dst} (what a process load
     * sees), without creating a view.
     *
     * @throws SegmentationFault as {@link #read(int)}
     */
    public void read(int slot, int inPage, byte[] dst, int off, int n) {
        pageOf(slot).get(inPage, dst, off, n);
    }

    /**
     * Stores {@code n} bytes of {@code src} at {@code inPage} of slot {@code slot} (a process store).
     *
     * @throws SegmentationFault if the slot is empty, the area lacks {@code PROT_WRITE} or was unmapped
     */
    public void write(int slot, int inPage, byte[] src, int off, int n) {
        if ((prot & Mman.PROT_WRITE) == 0) {
            throw new SegmentationFault("write to a page without PROT_WRITE: addr=0x"
                    + Long.toHexString(addrOf(slot) + inPage) + " prot=" + prot, addrOf(slot) + inPage);
        }
        pageOf(slot, false).put(inPage, src, off, n);
    }

    /**
     * The little-endian u32 at {@code inPage} ({@code <= 4092}) of slot {@code slot}.
     *
     * @throws SegmentationFault as {@link #read(int)}
     */
    public int readU32(int slot, int inPage) {
        return pageOf(slot).getInt(inPage); // page buffers are little-endian
    }

    /** The shared page buffer behind a readable, mapped slot (absolute access only). */
    private ByteBuffer pageOf(int slot) {
        return pageOf(slot, true);
    }

    /** The shared page buffer behind a mapped slot, which must be readable if {@code read}. */
    private ByteBuffer pageOf(int slot, boolean read) {
        checkSlot(slot);
        PageAllocator a;
        long h;
        int i;
        synchronized (this) {
            PteTable t = tables[slot / PTES_PER_TABLE];
            int e = slot % PTES_PER_TABLE;
            a = t == null ? null : t.allocator[e];
            h = a == null ? 0 : t.handle[e];
            i = a == null ? 0 : t.index[e];
            if (detached || a == null) {
                throw new SegmentationFault("access to unmapped slot: addr=0x" + Long.toHexString(addrOf(slot))
                        + " slot=" + slot + " " + range(), addrOf(slot));
            }
            if (read && (prot & Mman.PROT_READ) == 0) {
                throw new SegmentationFault("read of a page without PROT_READ: addr=0x"
                        + Long.toHexString(addrOf(slot)) + " prot=" + prot, addrOf(slot));
            }
        }
        return a.page(h, i);
    }

    @Override
    public String toString() {
        return "VmArea{" + range() + ", prot=" + prot + ", mappedPages=" + mappedPages() + ", owner=" + owner + "}";
    }

    // ---- used by MmStruct ---------------------------------------------------------------------------

    /** Detaches the area from its address space: no insert or read succeeds afterwards. */
    synchronized void detach() {
        detached = true;
    }

    /**
     * Moves the slot contents {@code [from, from + count)} into {@code dst} at slot 0, keeping their
     * references (a split: the pages stay mapped, under a new area).
     */
    synchronized void moveSlots(int from, int count, VmArea dst) {
        synchronized (dst) {
            for (int k = 0; k < count; k++) {
                int s = from + k;
                PteTable t = tables[s / PTES_PER_TABLE];
                int e = s % PTES_PER_TABLE;
                if (t == null) {
                    k += PTES_PER_TABLE - 1 - e; // no table: the rest of the run is empty
                } else if (t.allocator[e] != null) {
                    PteTable d = dst.tables[k / PTES_PER_TABLE];
                    if (d == null) {
                        d = dst.tables[k / PTES_PER_TABLE] = new PteTable();
                    }
                    int f = k % PTES_PER_TABLE;
                    d.allocator[f] = t.allocator[e];
                    d.handle[f] = t.handle[e];
                    d.index[f] = t.index[e];
                    dst.mapped++;
                    t.allocator[e] = null;
                    t.handle[e] = 0;
                    t.index[e] = 0;
                    mapped--;
                }
            }
        }
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= npages) {
            throw new IllegalArgumentException("slot outside area: slot=" + slot + " npages=" + npages);
        }
    }

    private String range() {
        return "start=0x" + Long.toHexString(start) + " end=0x" + Long.toHexString(end());
    }
}
