package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.SegmentationFault;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VmAreaTest {
    private final Object socket = new Object();
    private PageAllocator alloc;
    private MmStruct mm;
    private VmArea vma;

    @BeforeEach
    void setUp() {
        alloc = new PageAllocator(new GuestMemory("guest", 4L << 20), 0, 1024, true);
        mm = new MmStruct("proc");
        vma = mm.findVma(mm.mmap(4, Mman.PROT_READ, socket));
    }

    @AfterEach
    void allPagesReturned() {
        mm.exitMmap();
        assertThat(alloc.pagesInUse()).isZero();
    }

    @Test
    void shouldShowPageReadOnlyWhenInserted() {
        long h = alloc.allocPages(1);
        alloc.page(h, 1).putInt(8, 0xCAFEBABE);

        assertThat(vma.insertPage(2, alloc, h, 1)).isZero();
        assertThat(vma.isMapped(2)).isTrue();
        assertThat(vma.isMapped(1)).isFalse();
        assertThat(vma.mappedPages()).isEqualTo(1);
        assertThat(alloc.refCount(h)).isEqualTo(2);
        assertThat(vma.handleAt(2)).isEqualTo(h);
        assertThat(vma.allocatorAt(2)).isSameAs(alloc);

        ByteBuffer view = vma.read(2);
        assertThat(view.isReadOnly()).isTrue();
        assertThat(view.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(view.remaining()).isEqualTo(GuestMemory.PAGE_SIZE);
        assertThat(view.getInt(8)).isEqualTo(0xCAFEBABE);
        assertThatThrownBy(() -> view.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        assertThatThrownBy(() -> view.putInt(8, 1)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(mm.readByte(vma.addrOf(2) + 8)).isEqualTo(0xBE);

        assertThat(vma.zap(0, 4)).isEqualTo(1);
        assertThat(vma.isMapped(2)).isFalse();
        assertThat(alloc.refCount(h)).isEqualTo(1);
        alloc.freePages(h);
    }

    @Test
    void shouldReturnEbusyWhenSlotIsOccupied() {
        long h1 = alloc.allocPages(0);
        long h2 = alloc.allocPages(0);
        assertThat(vma.insertPage(0, alloc, h1, 0)).isZero();
        assertThat(vma.insertPage(0, alloc, h2, 0)).isEqualTo(-EBUSY);
        assertThat(alloc.refCount(h2)).isEqualTo(1); // no reference taken on failure
        assertThat(vma.insertPage(4, alloc, h2, 0)).isEqualTo(-EFAULT);
        assertThat(vma.insertPage(-1, alloc, h2, 0)).isEqualTo(-EFAULT);
        assertThatThrownBy(() -> vma.insertPage(1, alloc, h2, 1)).isInstanceOf(IllegalArgumentException.class);
        alloc.putPage(h1);
        alloc.putPage(h2);
    }

    @Test
    void shouldFaultClearlyWhenReadingEmptySlot() {
        assertThatThrownBy(() -> vma.read(3))
                .isInstanceOf(SegmentationFault.class)
                .hasMessageContaining("access to unmapped slot")
                .hasMessageContaining("slot=3")
                .hasMessageContaining("addr=0x" + Long.toHexString(vma.addrOf(3)));
        assertThatThrownBy(() -> mm.readByte(vma.addrOf(1) + 5))
                .isInstanceOfSatisfying(SegmentationFault.class, f -> assertThat(f.addr()).isEqualTo(vma.addrOf(1)));
        assertThatThrownBy(() -> vma.read(4)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldFaultWhenAreaIsNotReadable() {
        VmArea none = mm.findVma(mm.mmap(1, Mman.PROT_NONE, socket));
        long h = alloc.allocPages(0);
        assertThat(none.insertPage(0, alloc, h, 0)).isZero();
        assertThatThrownBy(() -> none.read(0)).isInstanceOf(SegmentationFault.class).hasMessageContaining("PROT_READ");
        alloc.putPage(h);
    }

    @Test
    void shouldKeepPageUntilZapWhenOwnerDropsItsReference() {
        long h = alloc.allocPages(0);
        long pfn = PageAllocator.pfn(h);
        alloc.page(h, 0).putLong(0, 0x1122334455667788L);
        assertThat(vma.insertPage(1, alloc, h, 0)).isZero();

        assertThat(alloc.putPage(h)).isEqualTo(1); // the socket lets go of its RX page
        assertThat(alloc.pagesInUse()).isEqualTo(1);
        assertThat(alloc.isPoisoned(pfn)).isFalse();
        assertThat(vma.read(1).getLong(0)).isEqualTo(0x1122334455667788L);

        assertThat(vma.zap(1, 1)).isEqualTo(1);
        assertThat(alloc.pagesInUse()).isZero();
        assertThat(alloc.isPoisoned(pfn)).isTrue();
        assertThat(vma.mappedPages()).isZero();
    }

    @Test
    void shouldTakeOneReferencePerSlotWhenBlockPagesAreMappedSeparately() {
        long h = alloc.allocPages(2);
        for (int i = 0; i < 4; i++) {
            assertThat(vma.insertPage(i, alloc, h, 3 - i)).isZero();
        }
        assertThat(alloc.refCount(h)).isEqualTo(5);
        alloc.putPage(h);
        assertThat(vma.read(0)).isNotNull();
        assertThat(vma.zap(1, 2)).isEqualTo(2);
        assertThat(vma.zap(0, 4)).isEqualTo(2);
        assertThat(alloc.pagesInUse()).isZero();
    }

    @Test
    void shouldRejectZapWhenRangeLeavesArea() {
        assertThat(vma.zap(3, 2)).isEqualTo(-EINVAL);
        assertThat(vma.zap(-1, 1)).isEqualTo(-EINVAL);
        assertThat(vma.zap(0, 0)).isZero();
    }

    @Test
    void shouldDescribeAreaWhenQueried() {
        assertThat(vma.owner()).isSameAs(socket);
        assertThat(vma.mm()).isSameAs(mm);
        assertThat(vma.prot()).isEqualTo(Mman.PROT_READ);
        assertThat(vma.npages()).isEqualTo(4);
        assertThat(vma.end() - vma.start()).isEqualTo(4 * 4096L);
        assertThat(vma.slotOf(vma.start() + 3 * 4096 + 4095)).isEqualTo(3);
        assertThat(vma.toString()).contains("start=0x" + Long.toHexString(vma.start()));
    }
}
