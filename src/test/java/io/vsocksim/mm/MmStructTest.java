package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOMEM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MmStructTest {
    private static final long PAGE = GuestMemory.PAGE_SIZE;
    private final Object owner = "socket";
    private PageAllocator alloc;
    private MmStruct mm;

    @BeforeEach
    void setUp() {
        alloc = new PageAllocator(new GuestMemory("guest", 4L << 20), 0, 1024, true);
        mm = new MmStruct("proc");
    }

    @AfterEach
    void allPagesReturned() {
        mm.exitMmap();
        assertThat(mm.mapCount()).isZero();
        assertThat(alloc.pagesInUse()).isZero();
    }

    /** Maps fresh order-0 pages into every slot; drops the allocation references so the area owns them. */
    private void fill(VmArea vma, int seed) {
        for (int s = 0; s < vma.npages(); s++) {
            long h = alloc.allocPages(0);
            alloc.page(h, 0).put(0, (byte) (seed + s));
            assertThat(vma.insertPage(s, alloc, h, 0)).isZero();
            alloc.putPage(h);
        }
    }

    @Test
    void shouldFindAreaWhenAddressIsAtStartInsideOrOutside() {
        long addr = mm.mmap(3, Mman.PROT_READ | Mman.PROT_WRITE, owner);
        assertThat(addr).isPositive();
        assertThat(addr % PAGE).isZero();
        VmArea vma = mm.findVma(addr);
        assertThat(vma).isNotNull();
        assertThat(vma.start()).isEqualTo(addr);
        assertThat(vma.owner()).isSameAs(owner);
        assertThat(mm.findVma(addr + 2 * PAGE + 4095)).isSameAs(vma);
        assertThat(mm.findVma(addr + 3 * PAGE)).isNull();
        assertThat(mm.findVma(addr - 1)).isNull();
        assertThat(mm.findVma(0)).isNull();
        assertThat(mm.mapCount()).isEqualTo(1);
        assertThat(mm.totalVm()).isEqualTo(3);
    }

    @Test
    void shouldNeverOverlapWhenCreatingAndRemovingAreas() {
        List<VmArea> areas = new ArrayList<>();
        for (int n = 1; n <= 6; n++) {
            areas.add(mm.findVma(mm.mmap(n, Mman.PROT_READ, owner)));
        }
        assertThat(mm.munmap(areas.get(2).start(), areas.get(2).npages() * PAGE)).isZero();
        areas.remove(2);
        areas.add(mm.findVma(mm.mmap(2, Mman.PROT_READ, owner))); // fits in the hole left above
        areas.add(mm.findVma(mm.mmap(5, Mman.PROT_READ, owner))); // does not
        areas.sort(Comparator.comparingLong(VmArea::start));
        for (int i = 1; i < areas.size(); i++) {
            assertThat(areas.get(i).start()).isGreaterThanOrEqualTo(areas.get(i - 1).end());
        }
        for (VmArea vma : areas) {
            assertThat(vma.end()).isLessThanOrEqualTo(MmStruct.MMAP_BASE);
            assertThat(mm.findVma(vma.start())).isSameAs(vma);
            assertThat(mm.findVma(vma.end() - 1)).isSameAs(vma);
        }
        assertThat(mm.mapCount()).isEqualTo(7);
    }

    @Test
    void shouldReturnEinvalWhenMmapArgumentsAreBad() {
        assertThat(mm.mmap(0, Mman.PROT_READ, owner)).isEqualTo(-EINVAL);
        assertThat(mm.mmap(1, 0x8, owner)).isEqualTo(-EINVAL);
        assertThat(mm.mmap(MmStruct.MAX_AREA_PAGES, Mman.PROT_READ, owner)).isPositive(); // 64 GiB, no pages yet
        assertThat(mm.mmap(MmStruct.MAX_AREA_PAGES + 1, Mman.PROT_READ, owner)).isEqualTo(-ENOMEM);
        assertThat(mm.mapCount()).isEqualTo(1);
    }

    @Test
    void shouldReturnEnomemWhenAddressSpaceIsFull() {
        MmStruct small = new MmStruct("small", MmStruct.MMAP_MIN_ADDR + 8 * PAGE);
        long a = small.mmap(5, Mman.PROT_READ, owner);
        assertThat(a).isEqualTo(MmStruct.MMAP_MIN_ADDR + 3 * PAGE);
        assertThat(small.mmap(4, Mman.PROT_READ, owner)).isEqualTo(-ENOMEM);
        assertThat(small.mmap(3, Mman.PROT_READ, owner)).isEqualTo(MmStruct.MMAP_MIN_ADDR);
        assertThat(small.munmap(a + PAGE, PAGE)).isZero();
        assertThat(small.mmap(1, Mman.PROT_READ, owner)).isEqualTo(a + PAGE); // the hole is reused
        assertThat(small.mmap(1, Mman.PROT_READ, owner)).isEqualTo(-ENOMEM);
    }

    @Test
    void shouldMapPagesFarApartWhenAreaSpansManyTables() {
        VmArea big = mm.findVma(mm.mmap(MmStruct.MAX_AREA_PAGES, Mman.PROT_READ, owner));
        long h = alloc.allocPages(0);
        alloc.page(h, 0).put(7, (byte) 0x77);
        assertThat(big.insertPage(0, alloc, h, 0)).isZero();
        assertThat(big.insertPage(MmStruct.MAX_AREA_PAGES - 1, alloc, h, 0)).isZero();
        assertThat(mm.readByte(big.end() - PAGE + 7)).isEqualTo(0x77);
        assertThat(big.mappedPages()).isEqualTo(2);
        alloc.putPage(h);
        assertThat(mm.munmap(big.start() + PAGE, (long) (MmStruct.MAX_AREA_PAGES - 2) * PAGE)).isZero(); // split, keep both ends
        assertThat(mm.mapCount()).isEqualTo(2);
        assertThat(alloc.refCount(h)).isEqualTo(2);
        assertThat(mm.madvise(big.start(), big.end() - big.start(), Mman.MADV_DONTNEED)).isEqualTo(-ENOMEM);
        assertThat(alloc.pagesInUse()).isZero();
    }

    @Test
    void shouldDropPageReferencesWhenUnmapped() {
        long addr = mm.mmap(4, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        fill(vma, 10);
        assertThat(alloc.pagesInUse()).isEqualTo(4);
        assertThat(mm.mappedPages()).isEqualTo(4);

        assertThat(mm.munmap(addr, 4 * PAGE)).isZero();
        assertThat(alloc.pagesInUse()).isZero();
        assertThat(mm.findVma(addr)).isNull();
        assertThat(mm.mapCount()).isZero();
        assertThat(mm.totalVm()).isZero();
        // The caller's stale VmArea is detached.
        long h = alloc.allocPages(0);
        assertThat(vma.insertPage(0, alloc, h, 0)).isEqualTo(-EFAULT);
        assertThatThrownBy(() -> vma.read(0)).isInstanceOf(SegmentationFault.class);
        alloc.freePages(h);
        assertThatThrownBy(() -> mm.readByte(addr)).isInstanceOf(SegmentationFault.class);
    }

    @Test
    void shouldSplitAreaWhenMiddleIsUnmapped() {
        long addr = mm.mmap(5, Mman.PROT_READ, owner);
        fill(mm.findVma(addr), 20);

        assertThat(mm.munmap(addr + PAGE, 2 * PAGE - 100)).isZero(); // length rounds up to 2 pages
        assertThat(alloc.pagesInUse()).isEqualTo(3);
        assertThat(mm.mapCount()).isEqualTo(2);
        assertThat(mm.totalVm()).isEqualTo(3);
        VmArea left = mm.findVma(addr);
        VmArea right = mm.findVma(addr + 3 * PAGE);
        assertThat(left.npages()).isEqualTo(1);
        assertThat(right.npages()).isEqualTo(2);
        assertThat(right.owner()).isSameAs(owner);
        assertThat(mm.findVma(addr + PAGE)).isNull();
        assertThat(mm.readByte(addr)).isEqualTo(20);
        assertThat(mm.readByte(addr + 3 * PAGE)).isEqualTo(23);
        assertThat(mm.readByte(addr + 4 * PAGE)).isEqualTo(24);
        assertThat(mm.mappedPages()).isEqualTo(3);
    }

    @Test
    void shouldKeepSlotAddressesWhenSplitSkipsEmptyTables() {
        long addr = mm.mmap(1100, Mman.PROT_READ, owner);
        long h = alloc.allocPages(0);
        alloc.page(h, 0).put(0, (byte) 0x42);
        assertThat(mm.findVma(addr).insertPage(1050, alloc, h, 0)).isZero();
        alloc.putPage(h);

        assertThat(mm.munmap(addr, PAGE)).isZero();
        VmArea rest = mm.findVma(addr + PAGE);
        assertThat(rest.start()).isEqualTo(addr + PAGE);
        assertThat(rest.isMapped(1049)).isTrue();
        assertThat(rest.mappedPages()).isEqualTo(1);
        assertThat(mm.readByte(addr + 1050 * PAGE)).isEqualTo(0x42);
        assertThat(alloc.pagesInUse()).isEqualTo(1);
    }

    @Test
    void shouldReturnEinvalWhenMunmapArgumentsAreBad() {
        long addr = mm.mmap(1, Mman.PROT_READ, owner);
        assertThat(mm.munmap(addr + 1, PAGE)).isEqualTo(-EINVAL);
        assertThat(mm.munmap(addr, 0)).isEqualTo(-EINVAL);
        assertThat(mm.munmap(addr, -1)).isEqualTo(-EINVAL);
        assertThat(mm.munmap(MmStruct.TASK_SIZE, 2 * PAGE)).isEqualTo(-EINVAL);
        assertThat(mm.munmap(0x10000, PAGE)).isZero(); // nothing there: not an error
        assertThat(mm.mapCount()).isEqualTo(1);
    }

    @Test
    void shouldZapButKeepAreaWhenMadviseDontneed() {
        long addr = mm.mmap(3, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        fill(vma, 0);
        assertThat(mm.madvise(addr + PAGE, 2 * PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThat(alloc.pagesInUse()).isEqualTo(1);
        assertThat(mm.findVma(addr + PAGE)).isSameAs(vma);
        assertThat(vma.isMapped(0)).isTrue();
        assertThat(vma.isMapped(1)).isFalse();
        assertThatThrownBy(() -> mm.readByte(addr + PAGE)).isInstanceOf(SegmentationFault.class);

        assertThat(mm.madvise(addr, 4 * PAGE, Mman.MADV_DONTNEED)).isEqualTo(-ENOMEM); // runs past the area
        assertThat(alloc.pagesInUse()).isZero(); // the mapped part was still zapped
        assertThat(mm.madvise(addr + 1, PAGE, Mman.MADV_DONTNEED)).isEqualTo(-EINVAL);
        assertThat(mm.madvise(addr, PAGE, 99)).isEqualTo(-EINVAL);
        assertThat(mm.madvise(addr, 0, Mman.MADV_DONTNEED)).isZero();
    }

    @Test
    void shouldKeepPagesAndAreaWhenMadviseReadAheadHint() {
        long addr = mm.mmap(3, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        fill(vma, 10);
        for (int advice : new int[] {Mman.MADV_NORMAL, Mman.MADV_RANDOM, Mman.MADV_SEQUENTIAL, Mman.MADV_WILLNEED}) {
            assertThat(mm.madvise(addr + PAGE, PAGE, advice)).as("advice %d on part of the area", advice).isZero();
            assertThat(mm.madvise(addr, 3 * PAGE, advice)).as("advice %d on the whole area", advice).isZero();
            assertThat(mm.madvise(addr, 4 * PAGE, advice)).as("advice %d past the area", advice).isEqualTo(-ENOMEM);
            assertThat(mm.madvise(addr + 1, PAGE, advice)).as("advice %d unaligned", advice).isEqualTo(-EINVAL);
            assertThat(mm.madvise(addr + 8 * PAGE, 0, advice)).as("advice %d, length 0", advice).isZero();
        }
        assertThat(alloc.pagesInUse()).isEqualTo(3);
        assertThat(mm.mapCount()).isEqualTo(1);
        assertThat(mm.findVma(addr + PAGE)).isSameAs(vma);
        assertThat(mm.readByte(addr + PAGE)).isEqualTo(11);
    }

    @Test
    void shouldRefuseAdviceOutsideTheValidSetBeforeCheckingTheRange() {
        long addr = mm.mmap(1, Mman.PROT_READ, owner);
        for (int advice : new int[] {-1, 5, 6, 7, 99}) {
            assertThat(mm.madvise(addr, PAGE, advice)).as("advice %d", advice).isEqualTo(-EINVAL);
            assertThat(mm.madvise(addr + 1, 0, advice)).as("advice %d, bad range", advice).isEqualTo(-EINVAL);
        }
    }

    @Test
    void shouldReadAcrossPagesAndFaultAtFirstHoleWhenReadingRange() {
        long addr = mm.mmap(2, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        long h = alloc.allocPages(1);
        alloc.page(h, 0).put(4095, (byte) 0xA1);
        alloc.page(h, 1).put(0, (byte) 0xB2);
        vma.insertPage(0, alloc, h, 0);
        vma.insertPage(1, alloc, h, 1);
        alloc.putPage(h);

        byte[] dst = new byte[2];
        mm.read(addr + 4095, dst, 0, 2);
        assertThat(dst).containsExactly(0xA1, 0xB2);
        byte[] tooFar = new byte[3];
        assertThatThrownBy(() -> mm.read(addr + 2 * PAGE - 2, tooFar, 0, 3))
                .isInstanceOfSatisfying(SegmentationFault.class, f -> assertThat(f.addr()).isEqualTo(addr + 2 * PAGE));
    }

    @Test
    void shouldNotFindUnmappedAreaWhenLastLookupFoundIt() {
        long addr = mm.mmap(4, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr + PAGE); // now the cached area
        assertThat(mm.munmap(addr + PAGE, 2 * PAGE)).isZero();
        assertThat(mm.findVma(addr + PAGE)).as("the hole left by munmap").isNull();
        VmArea low = mm.findVma(addr);
        VmArea high = mm.findVma(addr + 3 * PAGE);
        assertThat(low).isNotNull().isNotSameAs(vma);
        assertThat(high).isNotNull().isNotSameAs(vma).isNotSameAs(low);
        assertThat(low.npages()).isEqualTo(1);
        assertThat(high.npages()).isEqualTo(1);
        mm.exitMmap();
        assertThat(mm.findVma(addr)).isNull();
    }

    @Test
    void shouldReadLittleEndianU32InsideAndAcrossPages() {
        long addr = mm.mmap(2, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        fill(vma, 0);
        long h0 = vma.handleAt(0);
        long h1 = vma.handleAt(1);
        alloc.page(h0, 0).putInt(8, 0x12345678);
        alloc.page(h0, 0).put(4094, (byte) 0xbb).put(4095, (byte) 0xaa);
        alloc.page(h1, 0).put(0, (byte) 0xdd).put(1, (byte) 0xcc);
        assertThat(mm.readU32(addr + 8)).isEqualTo(0x12345678);
        assertThat(mm.readU32(addr + 4094)).as("straddles two pages").isEqualTo(0xccddaabb);
        byte[] b = new byte[3];
        mm.read(addr + 8, b, 0, 3);
        assertThat(b).containsExactly(0x78, 0x56, 0x34);
        assertThatThrownBy(() -> mm.readU32(addr + 2 * PAGE)).isInstanceOf(SegmentationFault.class);
        assertThat(mm.madvise(addr + PAGE, PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThatThrownBy(() -> mm.readU32(addr + 4094)).as("second page zapped").isInstanceOf(SegmentationFault.class);
    }

    @Test
    void shouldZapOnlyTheRangeWhenMadviseStaysInOneArea() {
        long addr = mm.mmap(4, Mman.PROT_READ, owner);
        VmArea vma = mm.findVma(addr);
        fill(vma, 0);
        long inUse = alloc.pagesInUse();
        assertThat(mm.madvise(addr + PAGE, 2 * PAGE - 100, Mman.MADV_DONTNEED)).isZero(); // rounded up to 2 pages
        assertThat(vma.mappedPages()).isEqualTo(2);
        assertThat(vma.handleAt(0)).isNotZero();
        assertThat(vma.handleAt(3)).isNotZero();
        assertThat(alloc.pagesInUse()).isEqualTo(inUse - 2);
        assertThat(mm.madvise(addr + 3 * PAGE, 2 * PAGE, Mman.MADV_DONTNEED)).as("runs past the area").isEqualTo(-ENOMEM);
        assertThat(vma.mappedPages()).isEqualTo(1);
    }
}
