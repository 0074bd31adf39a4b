package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EFAULT;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Physical memory of one machine, addressed by guest-physical address (GPA) from 0 to
 * {@link #size()}, made of {@value #PAGE_SIZE}-byte pages backed by direct {@link ByteBuffer}s.
 *
 * <p>For a guest this is the RAM that its driver places rings and buffers in and that vhost reads and
 * writes; for the host it is host memory (the host is a machine with a memory too). Sizes beyond
 * 2 GiB work. SIM: demand paging, as a VMM's guest RAM: the bytes are a private mapping in
 * {@value #REGION_SIZE}-byte regions ({@link Backing}), so the host kernel gives a page memory only when
 * it is first written and a large, sparsely used memory costs what is used, to the page; it reads as
 * zeroes until written, like a freshly faulted anonymous page. The simulator views it in
 * {@value #BANK_SIZE}-byte banks, made on first touch.
 *
 * <p>Two ways in:
 * <ul>
 *   <li>range copies by GPA ({@link #read}, {@link #write}, {@link #copy}) that cross page and bank
 *       boundaries and return {@code 0} or {@code -EFAULT} for a range outside the memory, copying
 *       nothing then: a device never sees an exception for a bad guest address;</li>
 *   <li>little-endian field accessors for naturally aligned u16/u32/u64 (ring fields), including
 *       acquire/release variants that map the kernel's {@code virtio_rmb}/{@code virtio_wmb}
 *       pairings. Their callers validate the ring area once with {@link #contains}; an unchecked
 *       address there is a programming error and throws.</li>
 * </ul>
 *
 * <p>{@link #page(long)} gives the shared per-page buffer for absolute access without allocation.
 * Thread-safe: concurrent accesses to different bytes never interfere; ordering between threads is
 * the caller's business, as with real memory.
 */
public final class GuestMemory {
    /** Bytes per page (x86-64 {@code PAGE_SIZE}). */
    public static final int PAGE_SIZE = 4096;
    /** log2 of {@link #PAGE_SIZE}. */
    public static final int PAGE_SHIFT = 12;
    /** Default size of a machine's memory: 64 MiB. */
    public static final long DEFAULT_SIZE = 64L << 20;
    /** Bytes per backing bank (2 MiB, one huge page). */
    public static final int BANK_SIZE = 2 << 20;
    private static final int BANK_SHIFT = 21;
    private static final int PAGES_PER_BANK = BANK_SIZE >>> PAGE_SHIFT;

    private static final VarHandle U16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final long size;
    private final AtomicReferenceArray<Bank> banks;
    /**
     * Plain, racy copy of {@link #banks} for the hot path (one volatile read per field access showed in
     * profiles). Safe: every field of {@link Bank} is final and set in its constructor, so a thread that
     * sees a non-null entry through this data race also sees the bank fully built (JLS 17.5); a null
     * entry just falls back to {@link #banks}.
     */
    private final Bank[] fast;

    private static final VarHandle PAGE_VIEWS = MethodHandles.arrayElementVarHandle(ByteBuffer[].class);

    /** One backing buffer, created on first touch, and its per-page views, each created on first use. */
    private static final class Bank {
        final ByteBuffer buf;
        /** Published with release/acquire: a view is an object with non-final fields. */
        final ByteBuffer[] pages = new ByteBuffer[PAGES_PER_BANK];

        /** A bank over {@code backing}, which must be page-aligned (VarHandle acquire/release needs that). */
        Bank(ByteBuffer backing) {
            buf = backing.order(ByteOrder.LITTLE_ENDIAN);
        }

        ByteBuffer page(int i) {
            ByteBuffer p = (ByteBuffer) PAGE_VIEWS.getAcquire(pages, i);
            if (p == null) {
                ByteBuffer made = buf.slice(i << PAGE_SHIFT, PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                p = (ByteBuffer) PAGE_VIEWS.compareAndExchange(pages, i, null, made);
                if (p == null) {
                    p = made;
                }
            }
            return p;
        }
    }

    /**
     * Bytes per mapped region. A region is mapped when its first bank is touched; within it the host
     * kernel gives a page real memory only when it is first written, so a machine costs what it uses.
     */
    static final long REGION_SIZE = 1L << 30;
    private static final int BANKS_PER_REGION = (int) (REGION_SIZE >>> BANK_SHIFT);
    /** Mapped regions, created on first touch (guarded by themselves for creation). */
    private final ByteBuffer[] regions;

    /**
     * @param name for messages and counters, e.g. {@code "guest 3"} or {@code "host"}
     * @param size bytes, a positive multiple of {@link #PAGE_SIZE}
     */
    public GuestMemory(String name, long size) {
        if (size <= 0 || (size & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("memory size must be a positive multiple of 4096: size=" + size);
        }
        long bankCount = (size + BANK_SIZE - 1) >>> BANK_SHIFT;
        if (bankCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("memory too large: size=" + size);
        }
        this.name = name;
        this.size = size;
        this.banks = new AtomicReferenceArray<>((int) bankCount);
        this.fast = new Bank[(int) bankCount];
        this.regions = new ByteBuffer[(int) ((size + REGION_SIZE - 1) / REGION_SIZE)];
    }

    /** A memory of {@link #DEFAULT_SIZE}. */
    public GuestMemory(String name) {
        this(name, DEFAULT_SIZE);
    }

    /** The name given at creation. */
    public String name() {
        return name;
    }

    /** Size in bytes. */
    public long size() {
        return size;
    }

    /** Number of pages ({@code size / PAGE_SIZE}). */
    public long pages() {
        return size >>> PAGE_SHIFT;
    }

    /** Bytes of backing store actually allocated so far (touched banks). */
    public long residentBytes() {
        long n = 0;
        for (int i = 0; i < banks.length(); i++) {
            if (banks.get(i) != null) {
                n += bankBytes(i);
            }
        }
        return n;
    }

    /** True if {@code [gpa, gpa + len)} lies inside this memory (and does not overflow). */
    public boolean contains(long gpa, long len) {
        return gpa >= 0 && len >= 0 && gpa <= size && len <= size - gpa;
    }

    /** GPA of the first byte of page {@code pfn}. */
    public static long pfnToGpa(long pfn) {
        return pfn << PAGE_SHIFT;
    }

    /** Page frame number holding {@code gpa}. */
    public static long gpaToPfn(long gpa) {
        return gpa >>> PAGE_SHIFT;
    }

    /**
     * The shared buffer of page {@code pfn}: capacity {@value #PAGE_SIZE}, little-endian. Use absolute
     * accessors only and never change its position, limit or order: every user shares it.
     */
    public ByteBuffer page(long pfn) {
        if (pfn < 0 || pfn >= pages()) {
            throw new IllegalArgumentException("pfn outside memory: memory=" + name + " pfn=" + pfn);
        }
        return bank((int) (pfn >>> (BANK_SHIFT - PAGE_SHIFT))).page((int) (pfn & (PAGES_PER_BANK - 1)));
    }

    /**
     * Copies {@code dst.remaining()} bytes starting at {@code gpa} into {@code dst}, advancing its
     * position. Returns 0, or {@code -EFAULT} with nothing copied if the range is outside memory.
     */
    public int read(long gpa, ByteBuffer dst) {
        int len = dst.remaining();
        if (!contains(gpa, len)) {
            return -EFAULT;
        }
        int pos = dst.position();
        while (len > 0) {
            int n = chunk(gpa, len);
            dst.put(pos, bufferAt(gpa), bankOffset(gpa), n);
            gpa += n;
            pos += n;
            len -= n;
        }
        dst.position(pos);
        return 0;
    }

    /**
     * Copies {@code src.remaining()} bytes from {@code src} to memory at {@code gpa}, advancing its
     * position. Returns 0, or {@code -EFAULT} with nothing written if the range is outside memory.
     */
    public int write(long gpa, ByteBuffer src) {
        int len = src.remaining();
        if (!contains(gpa, len)) {
            return -EFAULT;
        }
        int pos = src.position();
        while (len > 0) {
            int n = chunk(gpa, len);
            bufferAt(gpa).put(bankOffset(gpa), src, pos, n);
            gpa += n;
            pos += n;
            len -= n;
        }
        src.position(pos);
        return 0;
    }

    /** Array form of {@link #read(long, ByteBuffer)}. */
    public int read(long gpa, byte[] dst, int off, int len) {
        if (!contains(gpa, len)) {
            return -EFAULT;
        }
        while (len > 0) {
            int n = chunk(gpa, len);
            bufferAt(gpa).get(bankOffset(gpa), dst, off, n);
            gpa += n;
            off += n;
            len -= n;
        }
        return 0;
    }

    /** Array form of {@link #write(long, ByteBuffer)}. */
    public int write(long gpa, byte[] src, int off, int len) {
        if (!contains(gpa, len)) {
            return -EFAULT;
        }
        while (len > 0) {
            int n = chunk(gpa, len);
            bufferAt(gpa).put(bankOffset(gpa), src, off, n);
            gpa += n;
            off += n;
            len -= n;
        }
        return 0;
    }

    /**
     * Copies {@code len} bytes from {@code src} at {@code srcGpa} to this memory at {@code dstGpa}
     * (the two may be the same memory; overlapping ranges are not supported). Returns 0 or
     * {@code -EFAULT} with nothing copied if either range is outside its memory.
     */
    public int copy(long dstGpa, GuestMemory src, long srcGpa, long len) {
        if (!contains(dstGpa, len) || !src.contains(srcGpa, len)) {
            return -EFAULT;
        }
        while (len > 0) {
            int n = (int) Math.min(len, Math.min(BANK_SIZE - bankOffset(dstGpa), BANK_SIZE - src.bankOffset(srcGpa)));
            bufferAt(dstGpa).put(bankOffset(dstGpa), src.bufferAt(srcGpa), src.bankOffset(srcGpa), n);
            dstGpa += n;
            srcGpa += n;
            len -= n;
        }
        return 0;
    }

    /** Fills {@code [gpa, gpa + len)} with {@code value}. Returns 0 or {@code -EFAULT}. */
    public int fill(long gpa, long len, byte value) {
        if (!contains(gpa, len)) {
            return -EFAULT;
        }
        while (len > 0) {
            int n = chunk(gpa, len);
            ByteBuffer b = bufferAt(gpa);
            int o = bankOffset(gpa);
            int end = o + n;
            // Bytes up to an 8-byte boundary, then whole words (eight times fewer stores), then the rest.
            while (o < end && (o & 7) != 0) {
                b.put(o++, value);
            }
            long word = (value & 0xffL) * 0x0101010101010101L;
            for (; o + 8 <= end; o += 8) {
                b.putLong(o, word);
            }
            while (o < end) {
                b.put(o++, value);
            }
            gpa += n;
            len -= n;
        }
        return 0;
    }

    // ---- aligned little-endian fields (ring layouts); callers validated the area --------------------

    /** Plain read of the u16 at an even {@code gpa}. */
    public int getU16(long gpa) {
        checkField(gpa, 2);
        return Short.toUnsignedInt((short) U16.get(bufferAt(gpa), bankOffset(gpa)));
    }

    /** Plain write of a u16 at an even {@code gpa}. */
    public void putU16(long gpa, int value) {
        checkField(gpa, 2);
        U16.set(bufferAt(gpa), bankOffset(gpa), (short) value);
    }

    /** Acquire read of a u16: later reads are not reordered before it ({@code virtio_rmb} pairing). */
    public int getU16Acquire(long gpa) {
        checkField(gpa, 2);
        return Short.toUnsignedInt((short) U16.getAcquire(bufferAt(gpa), bankOffset(gpa)));
    }

    /** Release write of a u16: earlier writes are visible first ({@code virtio_wmb} pairing). */
    public void putU16Release(long gpa, int value) {
        checkField(gpa, 2);
        U16.setRelease(bufferAt(gpa), bankOffset(gpa), (short) value);
    }

    /** Plain read of the u32 at a 4-aligned {@code gpa}, as a non-negative long. */
    public long getU32(long gpa) {
        checkField(gpa, 4);
        return Integer.toUnsignedLong((int) U32.get(bufferAt(gpa), bankOffset(gpa)));
    }

    /** Plain write of a u32 at a 4-aligned {@code gpa}. */
    public void putU32(long gpa, long value) {
        checkField(gpa, 4);
        U32.set(bufferAt(gpa), bankOffset(gpa), (int) value);
    }

    /** Plain read of the u64 at an 8-aligned {@code gpa}. */
    public long getU64(long gpa) {
        checkField(gpa, 8);
        return (long) U64.get(bufferAt(gpa), bankOffset(gpa));
    }

    /** Plain write of a u64 at an 8-aligned {@code gpa}. */
    public void putU64(long gpa, long value) {
        checkField(gpa, 8);
        U64.set(bufferAt(gpa), bankOffset(gpa), value);
    }

    @Override
    public String toString() {
        return "GuestMemory{name=" + name + ", size=" + size + "}";
    }

    // ---- internals ----------------------------------------------------------------------------------

    private void checkField(long gpa, int width) {
        if ((gpa & (width - 1)) != 0 || !contains(gpa, width)) {
            throw new IllegalArgumentException("unaligned or out-of-range field: memory=" + name
                    + " gpa=0x" + Long.toHexString(gpa) + " width=" + width);
        }
    }

    /** Bytes that can be handled in one step from {@code gpa} without leaving its bank. */
    private static int chunk(long gpa, long len) {
        return (int) Math.min(len, BANK_SIZE - (gpa & (BANK_SIZE - 1)));
    }

    private int bankOffset(long gpa) {
        return (int) (gpa & (BANK_SIZE - 1));
    }

    /**
     * A {@link ByteBuffer} aliasing {@code len} bytes at {@code gpa} (writes through it are writes to
     * this memory). SIM: the range must lie within one backing bank ({@value #BANK_SIZE} bytes), which
     * every naturally aligned block of order 9 or less does.
     *
     * @throws IllegalArgumentException if the range is outside the memory or crosses a bank
     */
    public ByteBuffer view(long gpa, int len) {
        if (!contains(gpa, len) || len < 0 || bankOffset(gpa) + (long) len > BANK_SIZE) {
            throw new IllegalArgumentException("view outside one bank: gpa=0x" + Long.toHexString(gpa) + " len=" + len);
        }
        return bufferAt(gpa).slice(bankOffset(gpa), len);
    }

    private ByteBuffer bufferAt(long gpa) {
        return bank((int) (gpa >>> BANK_SHIFT)).buf;
    }

    private int bankBytes(int index) {
        long start = (long) index << BANK_SHIFT;
        return (int) Math.min(BANK_SIZE, size - start);
    }

    private Bank bank(int index) {
        Bank b = fast[index];
        if (b != null) {
            return b;
        }
        b = banks.get(index);
        if (b == null) {
            int bytes = bankBytes(index);
            b = new Bank(backing(index, bytes));
            if (!banks.compareAndSet(index, null, b)) {
                b = banks.get(index);
            }
        }
        fast[index] = b;
        return b;
    }

    /**
     * The bytes behind bank {@code index}: a slice of its mapped region ({@link Backing}), or, if no
     * mapping can be made, a direct buffer of the bank's own (which the JDK zeroes, so it is resident
     * at once).
     */
    private ByteBuffer backing(int index, int bytes) {
        int r = index / BANKS_PER_REGION;
        ByteBuffer region;
        synchronized (regions) {
            region = regions[r];
            if (region == null) {
                region = Backing.map(Math.min(REGION_SIZE, size - r * REGION_SIZE)); // null once mapping failed
                regions[r] = region;
            }
        }
        if (region != null) {
            return region.slice((index % BANKS_PER_REGION) << BANK_SHIFT, bytes);
        }
        return ByteBuffer.allocateDirect(bytes + PAGE_SIZE).alignedSlice(PAGE_SIZE);
    }
}
