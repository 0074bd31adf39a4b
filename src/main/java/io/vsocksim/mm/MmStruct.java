package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOMEM;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The address space of one simulated process ({@code struct mm_struct} subset): a set of
 * non-overlapping {@link VmArea}s with the calls that create, look up, advise and remove them.
 *
 * <p>Addresses are handed out top-down below the mmap base ({@link #MMAP_BASE} unless given), each area in the highest gap that
 * fits (the x86-64 top-down layout of {@code get_unmapped_area}); holes left by {@code munmap} are
 * reused. SIM: no stack, heap or file mappings exist, there is no {@code MAP_FIXED}, and areas are
 * never merged.
 *
 * <p><b>Locking.</b> Area creation, lookup and removal synchronize on the {@code MmStruct} (the
 * {@code mmap_lock}). Lock order: mm, then area, then page allocator. A caller may keep a
 * {@link VmArea} it looked up; once the range is unmapped the area is detached and refuses inserts.
 */
@Linux(file = "include/linux/mm_types.h", fn = "struct mm_struct")
public final class MmStruct {
    /** Top of the mmap region: areas are placed below it. */
    public static final long MMAP_BASE = 0x7f00_0000_0000L;
    /** Lowest address an area may start at ({@code vm.mmap_min_addr} default). */
    public static final long MMAP_MIN_ADDR = 0x1_0000L;
    /** Highest user address plus one on x86-64 with 4-level paging ({@code TASK_SIZE}). */
    public static final long TASK_SIZE = (1L << 47) - GuestMemory.PAGE_SIZE;
    /** Most areas one address space may hold ({@code DEFAULT_MAX_MAP_COUNT}). */
    public static final int DEFAULT_MAX_MAP_COUNT = 65530;

    /**
     * Largest area, in pages (64 GiB). SIM: the kernel's limit is the free address space; this cap
     * bounds the page-table directory an area allocates up front.
     */
    public static final int MAX_AREA_PAGES = 1 << 24;

    private static final int PAGE_MASK_LOW = GuestMemory.PAGE_SIZE - 1;

    private final String name;
    private final long mmapBase;
    // Protected by this (mmap_lock). Keyed by vm_start; the kernel keeps a maple tree.
    private final TreeMap<Long, VmArea> areas = new TreeMap<>();
    private long totalVm;
    /**
     * The area the last lookup found ({@code mm->mmap_cache} of older kernels): a process touches the
     * same mapping call after call, and the tree lookup boxes its key. Cleared whenever an area is
     * removed or split.
     */
    private VmArea lastVma;

    /** @param name for messages, e.g. {@code "guest 3 pid 100"} */
    public MmStruct(String name) {
        this(name, MMAP_BASE);
    }

    /**
     * @param name     for messages
     * @param mmapBase top of the mmap region ({@code mm->mmap_base}, which the kernel derives from the
     *                 stack limit and randomization), page-aligned, above {@link #MMAP_MIN_ADDR}
     */
    public MmStruct(String name, long mmapBase) {
        if ((mmapBase & PAGE_MASK_LOW) != 0 || mmapBase <= MMAP_MIN_ADDR || mmapBase > TASK_SIZE) {
            throw new IllegalArgumentException("bad mmap base: mmapBase=0x" + Long.toHexString(mmapBase));
        }
        this.name = name;
        this.mmapBase = mmapBase;
    }

    /**
     * Creates an area of {@code npages} pages, all slots empty, at an address no other area uses.
     *
     * @param prot  {@link Mman} {@code PROT_*} bits
     * @param owner tag kept in the area (the object that created it), may be null
     * @return the page-aligned start address ({@code > 0}); {@code -EINVAL} for {@code npages <= 0} or
     *         unknown prot bits; {@code -ENOMEM} if no gap fits, the map count limit is reached or
     *         {@code npages > MAX_AREA_PAGES}
     */
    @Linux(file = "mm/mmap.c", fn = "do_mmap")
    @Linux(file = "arch/x86/kernel/sys_x86_64.c", fn = "arch_get_unmapped_area_topdown")
    public synchronized long mmap(int npages, int prot, Object owner) {
        if (npages <= 0 || (prot & ~Mman.PROT_MASK) != 0) {
            return -EINVAL;
        }
        if (npages > MAX_AREA_PAGES || areas.size() >= DEFAULT_MAX_MAP_COUNT) {
            return -ENOMEM;
        }
        long len = (long) npages << GuestMemory.PAGE_SHIFT;
        long gapEnd = mmapBase;
        for (VmArea vma : areas.descendingMap().values()) {
            if (vma.end() <= gapEnd && gapEnd - vma.end() >= len) {
                break;
            }
            gapEnd = Math.min(gapEnd, vma.start());
        }
        long addr = gapEnd - len;
        if (addr < MMAP_MIN_ADDR) {
            return -ENOMEM;
        }
        areas.put(addr, new VmArea(this, addr, npages, prot, owner));
        totalVm += npages;
        return addr;
    }

    /**
     * The area containing {@code addr}, or null. (This is {@code vma_lookup()}; the kernel's
     * {@code find_vma()} would also return the next area above an unmapped address.)
     */
    @Linux(file = "include/linux/mm.h", fn = "vma_lookup")
    public synchronized VmArea findVma(long addr) {
        VmArea last = lastVma;
        if (last != null && last.contains(addr)) {
            return last;
        }
        Map.Entry<Long, VmArea> e = areas.floorEntry(addr);
        if (e == null || !e.getValue().contains(addr)) {
            return null;
        }
        lastVma = e.getValue();
        return lastVma;
    }

    /**
     * Removes every mapping in {@code [addr, addr + len)} ({@code len} rounded up to pages): pages in
     * it are zapped (their references dropped) and areas that stick out of the range are split, the
     * parts outside keeping their pages. Unmapping nothing is not an error.
     *
     * @return 0, or {@code -EINVAL} if {@code addr} is not page-aligned, {@code len} is 0 or the range
     *         leaves user space
     */
    @Linux(file = "mm/mmap.c", fn = "__vm_munmap")
    public synchronized int munmap(long addr, long len) {
        if ((addr & PAGE_MASK_LOW) != 0 || addr < 0 || addr > TASK_SIZE || len < 0 || len > TASK_SIZE - addr) {
            return -EINVAL;
        }
        len = (len + PAGE_MASK_LOW) & ~(long) PAGE_MASK_LOW;
        if (len == 0) {
            return -EINVAL;
        }
        long end = addr + len;
        lastVma = null;
        for (VmArea vma : overlapping(addr, end)) {
            long cutStart = Math.max(addr, vma.start());
            long cutEnd = Math.min(end, vma.end());
            int first = vma.slotOf(cutStart);
            int count = (int) ((cutEnd - cutStart) >>> GuestMemory.PAGE_SHIFT);
            vma.zap(first, count);
            areas.remove(vma.start());
            vma.detach();
            totalVm -= vma.npages();
            if (first > 0) {
                keepPart(vma, 0, first);
            }
            if (first + count < vma.npages()) {
                keepPart(vma, first + count, vma.npages() - first - count);
            }
        }
        return 0;
    }

    /**
     * {@code madvise()} subset. {@link Mman#MADV_DONTNEED} zaps the pages of the range, leaving the
     * areas in place (the next read of those slots faults here; the zerocopy receive path refills
     * them). {@link Mman#MADV_NORMAL}, {@link Mman#MADV_RANDOM}, {@link Mman#MADV_SEQUENTIAL} and
     * {@link Mman#MADV_WILLNEED} succeed and change nothing: on an area of this simulator (a socket's
     * mapping, whose pages are inserted by the socket and never faulted in) the kernel only records
     * the read-ahead hint, or for WILLNEED asks the socket file to read ahead and ignores the answer.
     * SIM: the hint is not recorded, so an area is not split when it covers part of one.
     *
     * @return 0; {@code -EINVAL} for any other advice (checked first), an unaligned {@code addr}, a
     *         negative length or a range that wraps; {@code -ENOMEM} if part of the range is not
     *         mapped (the advice is still applied to the mapped parts)
     */
    @Linux(file = "mm/madvise.c", fn = "do_madvise")
    @Linux(file = "mm/madvise.c", fn = "madvise_behavior_valid")
    @Linux(file = "mm/madvise.c", fn = "madvise_walk_vmas")
    @Linux(file = "mm/madvise.c", fn = "madvise_vma_behavior")
    @Linux(file = "mm/madvise.c", fn = "madvise_willneed")
    @Linux(file = "mm/madvise.c", fn = "madvise_dontneed_single_vma")
    public synchronized int madvise(long addr, long len, int advice) {
        boolean dontneed = advice == Mman.MADV_DONTNEED;
        if (!dontneed && (advice < Mman.MADV_NORMAL || advice > Mman.MADV_WILLNEED)) {
            return -EINVAL;
        }
        if ((addr & PAGE_MASK_LOW) != 0 || addr < 0 || len < 0) {
            return -EINVAL;
        }
        long rounded = (len + PAGE_MASK_LOW) & ~(long) PAGE_MASK_LOW;
        if (rounded < len || addr + rounded < addr) {
            return -EINVAL;
        }
        long end = addr + rounded;
        VmArea one = findVma(addr);
        if (one != null && end <= one.end()) { // the usual call: one area, no list to build
            if (dontneed) {
                dontneed(one, one.slotOf(addr), (int) (rounded >>> GuestMemory.PAGE_SHIFT));
            }
            return 0;
        }
        long covered = addr;
        boolean hole = false;
        for (VmArea vma : overlapping(addr, end)) {
            long cutStart = Math.max(addr, vma.start());
            long cutEnd = Math.min(end, vma.end());
            hole |= cutStart > covered;
            covered = cutEnd;
            if (dontneed) {
                dontneed(vma, vma.slotOf(cutStart), (int) ((cutEnd - cutStart) >>> GuestMemory.PAGE_SHIFT));
            }
        }
        hole |= covered < end;
        return hole ? -ENOMEM : 0;
    }

    /** MADV_DONTNEED of slots: a socket's pages leave the area; anonymous memory reads as zeros again. */
    private static void dontneed(VmArea vma, int first, int count) {
        if (AnonMemory.of(vma) != null) {
            AnonMemory.dontneed(vma, first, count);
        } else {
            vma.zap(first, count);
        }
    }

    /**
     * Copies {@code len} bytes from {@code src} into the process's memory at {@code addr} (a store).
     *
     * @throws SegmentationFault at the first address that is not mapped or not writable (bytes before
     *                           it have been stored)
     */
    public void write(long addr, byte[] src, int off, int len) {
        while (len > 0) {
            VmArea vma = findVmaOrFault(addr);
            int inPage = (int) (addr & PAGE_MASK_LOW);
            int n = Math.min(len, GuestMemory.PAGE_SIZE - inPage);
            vma.write(vma.slotOf(addr), inPage, src, off, n);
            addr += n;
            off += n;
            len -= n;
        }
    }

    /**
     * What the process reads at {@code addr}: one byte, 0..255.
     *
     * @throws SegmentationFault if nothing is mapped there or the area is not readable
     */
    public int readByte(long addr) {
        VmArea vma = findVmaOrFault(addr);
        return vma.read(vma.slotOf(addr)).get((int) (addr & PAGE_MASK_LOW)) & 0xff;
    }

    /**
     * The little-endian u32 the process reads at {@code addr}.
     *
     * @throws SegmentationFault as {@link #read(long, byte[], int, int)}
     */
    public int readU32(long addr) {
        int inPage = (int) (addr & PAGE_MASK_LOW);
        if (inPage > GuestMemory.PAGE_SIZE - Integer.BYTES) {
            byte[] b = new byte[Integer.BYTES]; // straddles two pages: rare, not worth a fast path
            read(addr, b, 0, b.length);
            return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
        }
        VmArea vma = findVmaOrFault(addr);
        return vma.readU32(vma.slotOf(addr), inPage);
    }

    /**
     * Copies {@code len} bytes the process sees from {@code addr} on into {@code dst}, crossing page
     * and area boundaries.
     *
     * @throws SegmentationFault at the first address that is not mapped or not readable (bytes before
     *                           it have been copied, as a real process would have read them)
     */
    public void read(long addr, byte[] dst, int off, int len) {
        while (len > 0) {
            VmArea vma = findVmaOrFault(addr);
            int inPage = (int) (addr & PAGE_MASK_LOW);
            int n = Math.min(len, GuestMemory.PAGE_SIZE - inPage);
            vma.read(vma.slotOf(addr), inPage, dst, off, n);
            addr += n;
            off += n;
            len -= n;
        }
    }

    /** Removes every area, dropping every page reference they hold (process exit). */
    @Linux(file = "mm/mmap.c", fn = "exit_mmap")
    public synchronized void exitMmap() {
        lastVma = null;
        for (VmArea vma : new ArrayList<>(areas.values())) {
            vma.zap(0, vma.npages());
            vma.detach();
        }
        areas.clear();
        totalVm = 0;
    }

    /** Number of areas ({@code map_count}). */
    public synchronized int mapCount() {
        return areas.size();
    }

    /** Pages spanned by all areas, mapped or not ({@code total_vm}). */
    public synchronized long totalVm() {
        return totalVm;
    }

    /** Pages currently mapped in all areas (resident set). */
    public synchronized long mappedPages() {
        long n = 0;
        for (VmArea vma : areas.values()) {
            n += vma.mappedPages();
        }
        return n;
    }

    /** The name given at creation. */
    public String name() {
        return name;
    }

    @Override
    public synchronized String toString() {
        return "MmStruct{name=" + name + ", mapCount=" + areas.size() + ", totalVm=" + totalVm
                + ", mappedPages=" + mappedPages() + "}";
    }

    // ---- internals ----------------------------------------------------------------------------------

    private VmArea findVmaOrFault(long addr) {
        VmArea vma = findVma(addr);
        if (vma == null) {
            throw new SegmentationFault("access to unmapped address: mm=" + name + " addr=0x" + Long.toHexString(addr),
                    addr);
        }
        return vma;
    }

    /** Areas meeting {@code [addr, end)}, lowest first; a copy, so the caller may change the tree. */
    private List<VmArea> overlapping(long addr, long end) {
        assert Thread.holdsLock(this) : "mmap_lock";
        List<VmArea> out = new ArrayList<>();
        Long from = areas.floorKey(addr);
        for (VmArea vma : areas.tailMap(from == null ? addr : from, true).values()) {
            if (vma.start() >= end) {
                break;
            }
            if (vma.end() > addr) {
                out.add(vma);
            }
        }
        return out;
    }

    /** Splits off slots {@code [first, first + count)} of a removed area into a new area of its own. */
    @Linux(file = "mm/vma.c", fn = "__split_vma")
    private void keepPart(VmArea old, int first, int count) {
        VmArea part = new VmArea(this, old.addrOf(first), count, old.prot(), old.owner());
        old.moveSlots(first, count, part);
        areas.put(part.start(), part);
        totalVm += count;
    }
}
