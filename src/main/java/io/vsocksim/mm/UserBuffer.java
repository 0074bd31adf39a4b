package io.vsocksim.mm;

import java.nio.ByteBuffer;

/**
 * A process's buffer in a machine's memory: what {@code mmap(MAP_ANONYMOUS | MAP_POPULATE)} gives a C
 * program, and what {@code get_user_pages()} can pin. MSG_ZEROCOPY sends from such a buffer put its
 * pages into packets as fragments instead of copying them; a {@link ByteBuffer} from the Java heap
 * has no pages in the machine and is always copied.
 *
 * <p>SIM: the buffer is one naturally aligned block of the machine's {@link PageAllocator} (so a
 * single {@link ByteBuffer} can alias it; at most {@value #MAX_BYTES} bytes). Its pages are pinned one
 * 4 KiB page per fragment, as anonymous memory without transparent huge pages is, but the reference
 * count is the block's (the allocator keeps one count per block, as for a compound page): every pin
 * is a {@code get_page()} on the block, every unpin a {@code put_page()}.
 *
 * <p>Lifetime: {@link #close()} drops the process's reference (munmap). Pages still pinned by packets
 * stay allocated until the last packet referencing them is freed, as in Linux.
 */
public final class UserBuffer implements AutoCloseable {
    /** The largest buffer: an order-9 block (2 MiB). */
    public static final int MAX_BYTES = GuestMemory.PAGE_SIZE << 9;

    private final PageAllocator pages;
    private final long handle;
    private final long gpa;
    private final int size;
    private final ByteBuffer view;
    private boolean closed;

    private UserBuffer(PageAllocator pages, long handle, int size) {
        this.pages = pages;
        this.handle = handle;
        this.gpa = pages.gpa(handle);
        this.size = size;
        this.view = pages.memory().view(gpa, size);
    }

    /**
     * Allocates {@code bytes} (1 ..{@value #MAX_BYTES}) of user memory from {@code pages}, zero-filled
     * like a fresh anonymous mapping.
     *
     * @return the buffer, or null if the machine is out of memory
     * @throws IllegalArgumentException for a size outside the range
     */
    public static UserBuffer alloc(PageAllocator pages, int bytes) {
        if (bytes <= 0 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("user buffer size outside 1.." + MAX_BYTES + ": " + bytes);
        }
        int order = 0;
        while ((GuestMemory.PAGE_SIZE << order) < bytes) {
            order++;
        }
        long h = pages.allocPages(order);
        if (h < 0) {
            return null;
        }
        pages.memory().fill(pages.gpa(h), (long) GuestMemory.PAGE_SIZE << order, (byte) 0);
        return new UserBuffer(pages, h, bytes);
    }

    /** The buffer's bytes (index 0 is the first byte); position and limit are the caller's. */
    public ByteBuffer buffer() {
        return view;
    }

    /** Size in bytes. */
    public int size() {
        return size;
    }

    /** The allocator whose pages back the buffer. */
    public PageAllocator pages() {
        return pages;
    }

    /** The page block backing the buffer. */
    public long handle() {
        return handle;
    }

    /** Guest-physical address of byte 0. */
    public long gpa() {
        return gpa;
    }

    /** Reference count of the buffer's pages: 1 while only the process holds them, more while pinned. */
    public int pageRefCount() {
        return pages.refCount(handle);
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return closed;
    }

    /** munmap: drops the process's reference; pinned pages live on until unpinned. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pages.putPage(handle);
    }

    @Override
    public String toString() {
        return "UserBuffer{gpa=0x" + Long.toHexString(gpa) + " size=" + size + (closed ? " closed" : "") + "}";
    }
}
