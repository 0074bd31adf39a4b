package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOMEM;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Mman;
import java.nio.ByteBuffer;

/**
 * Anonymous memory of a process: what {@code mmap(MAP_ANONYMOUS)} gives, backed by pages of the
 * process's machine (a guest process's memory is guest RAM). It is the owner tag of its areas, and
 * answers where a user address range lands for the copies of a system call ({@code copy_from_user},
 * {@code copy_to_user}): which bytes of the machine's memory, and how many from the start are mapped
 * with the access the call needs — the rest faults.
 *
 * <p>Pages are faulted in at {@code mmap} time, as with {@code MAP_POPULATE}; each mapped page holds a
 * reference on the backing block, so {@code munmap} of part of it frees nothing until the last page of
 * the block goes, and a page pinned by a MSG_ZEROCOPY send outlives its mapping, as in Linux.
 *
 * <p>SIM: one mapping is one naturally aligned block of the machine's allocator, at most
 * {@value UserBuffer#MAX_BYTES} bytes (larger requests get ENOMEM); {@code MADV_DONTNEED} zero-fills the
 * range in place, which is what the process observes in Linux (a fresh zero page on the next touch).
 */
public final class AnonMemory {
    private final UserBuffer block;
    /**
     * Address of the block's first byte in the process (splitting an area keeps it); set once, right
     * after the area is created, before its address is returned to anyone.
     */
    private volatile long start;

    private AnonMemory(UserBuffer block) {
        this.block = block;
    }

    /**
     * Maps {@code length} bytes (rounded up to pages) of zeroed anonymous memory with {@code prot}.
     *
     * @return the address, {@code -EINVAL} for a length of 0 or bad prot bits, {@code -ENOMEM} when the
     *         machine has no block that large or the address space is full
     */
    public static long mmap(MmStruct mm, PageAllocator pages, long length, int prot) {
        if (length <= 0 || (prot & ~Mman.PROT_MASK) != 0) {
            return -EINVAL;
        }
        if (length > UserBuffer.MAX_BYTES) {
            return -ENOMEM;
        }
        int npages = (int) ((length + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT);
        UserBuffer ub = UserBuffer.alloc(pages, npages << GuestMemory.PAGE_SHIFT);
        if (ub == null) {
            return -ENOMEM;
        }
        AnonMemory anon = new AnonMemory(ub);
        long addr = mm.mmap(npages, prot, anon);
        if (addr < 0) {
            ub.close();
            return addr;
        }
        anon.start = addr;
        VmArea vma = mm.findVma(addr);
        for (int slot = 0; slot < npages; slot++) {
            vma.insertPage(slot, pages, ub.handle(), slot);
        }
        ub.close(); // the page table's references keep the block
        return addr;
    }

    /** The anonymous memory an area belongs to, or null for any other area. */
    static AnonMemory of(VmArea vma) {
        return vma.owner() instanceof AnonMemory a ? a : null;
    }

    /** {@code MADV_DONTNEED} on {@code count} slots of {@code vma}: they read as zeros from now on. */
    static void dontneed(VmArea vma, int firstSlot, int count) {
        AnonMemory a = of(vma);
        long off = vma.addrOf(firstSlot) - a.start;
        a.block.pages().memory().fill(a.block.gpa() + off, (long) count << GuestMemory.PAGE_SHIFT, (byte) 0);
    }

    /**
     * Where {@code [addr, addr + len)} of {@code mm} lands for a system call's copy.
     *
     * @param block      the anonymous memory at {@code addr}, or null when none is mapped there
     * @param offset     offset of {@code addr} in {@code block}
     * @param accessible bytes from {@code addr} on that are mapped with the access needed (all in
     *                   {@code block}); the copy faults after them
     */
    public record Span(UserBuffer block, int offset, int accessible) {
        /** The span as a buffer over the machine's memory ({@code accessible} bytes from {@code offset}). */
        public ByteBuffer buffer() {
            ByteBuffer b = block.buffer().duplicate();
            return b.limit(offset + accessible).position(offset);
        }
    }

    /**
     * Resolves {@code [addr, addr + len)} for a copy that reads ({@code write} false) or writes user
     * memory, as {@code access_ok} and the fault handler would: bytes count while they lie in this
     * process's anonymous memory, in one block, in areas with PROT_READ (PROT_WRITE to write).
     */
    @Linux(file = "lib/usercopy.c", fn = "_copy_from_user")
    public static Span span(MmStruct mm, long addr, long len, boolean write) {
        VmArea first = mm.findVma(addr);
        AnonMemory a = first == null ? null : of(first);
        if (a == null) {
            return new Span(null, 0, 0);
        }
        int need = write ? Mman.PROT_WRITE : Mman.PROT_READ;
        long at = addr;
        long end = addr + Math.max(0, len);
        VmArea vma = first;
        while (at < end && vma != null && of(vma) == a && (vma.prot() & need) == need) {
            at = Math.min(end, vma.end());
            vma = at < end ? mm.findVma(at) : null;
        }
        return new Span(a.block, (int) (addr - a.start), (int) (at - addr));
    }
}
