package io.vsocksim.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link UserBuffer}: pinnable user memory in a machine's pages. */
class UserBufferTest {
    private final GuestMemory mem = new GuestMemory("ub", 8L << 20);
    private final PageAllocator pages = new PageAllocator(mem, 0, (int) mem.pages(), true);

    @Test
    void shouldAliasMachineMemoryWhenWrittenThroughTheView() {
        try (UserBuffer b = UserBuffer.alloc(pages, 3 * GuestMemory.PAGE_SIZE + 1)) {
            b.buffer().put(GuestMemory.PAGE_SIZE + 7, (byte) 42);
            byte[] one = new byte[1];
            mem.read(b.gpa() + GuestMemory.PAGE_SIZE + 7, one, 0, 1);
            assertThat(one[0]).isEqualTo((byte) 42);
            assertThat(b.buffer().get(0)).isZero(); // fresh anonymous memory reads as zeroes
            assertThat(b.pageRefCount()).isEqualTo(1);
        }
        assertThat(pages.pagesInUse()).isZero();
    }

    @Test
    void shouldKeepPinnedPagesUntilTheLastReferenceWhenClosedWhilePinned() {
        UserBuffer b = UserBuffer.alloc(pages, GuestMemory.PAGE_SIZE);
        pages.getPage(b.handle()); // a packet's pin
        b.close();
        b.close(); // idempotent
        assertThat(pages.pagesInUse()).isEqualTo(1);
        pages.putPage(b.handle());
        assertThat(pages.pagesInUse()).isZero();
    }

    @Test
    void shouldRejectSizesOutsideOneBankWhenAllocating() {
        assertThatThrownBy(() -> UserBuffer.alloc(pages, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UserBuffer.alloc(pages, UserBuffer.MAX_BYTES + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
