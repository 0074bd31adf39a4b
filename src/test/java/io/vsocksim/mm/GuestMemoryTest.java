package io.vsocksim.mm;

import static io.vsocksim.uapi.Errno.EFAULT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    private static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (seed + i * 31);
        }
        return b;
    }

    @Test
    void shouldRoundTripBytesWhenRangeCrossesPageBoundary() {
        GuestMemory mem = new GuestMemory("t", 4 * MIB);
        byte[] src = pattern(10_000, 1);
        assertThat(mem.write(4096 - 100, src, 0, src.length)).isZero();

        byte[] dst = new byte[src.length];
        assertThat(mem.read(4096 - 100, dst, 0, dst.length)).isZero();
        assertThat(dst).isEqualTo(src);
        assertThat(mem.page(0).get(4095)).isEqualTo(src[99]);
        assertThat(mem.page(1).get(0)).isEqualTo(src[100]);
    }

    @Test
    void shouldRoundTripByteBuffersWhenRangeCrossesBankBoundary() {
        GuestMemory mem = new GuestMemory("t", 8 * MIB);
        long gpa = GuestMemory.BANK_SIZE - 3000;
        byte[] src = pattern(3 * GuestMemory.BANK_SIZE / 2, 7);
        ByteBuffer in = ByteBuffer.wrap(src);
        assertThat(mem.write(gpa, in)).isZero();
        assertThat(in.remaining()).isZero();

        ByteBuffer out = ByteBuffer.allocateDirect(src.length);
        assertThat(mem.read(gpa, out)).isZero();
        assertThat(out.position()).isEqualTo(src.length);
        byte[] got = new byte[src.length];
        out.flip().get(got);
        assertThat(got).isEqualTo(src);
    }

    @Test
    void shouldCopyBetweenMemoriesWhenRangesCrossBanks() {
        GuestMemory a = new GuestMemory("a", 8 * MIB);
        GuestMemory b = new GuestMemory("b", 8 * MIB);
        byte[] src = pattern(3 * 4096 + 17, 3);
        a.write(GuestMemory.BANK_SIZE - 5000, src, 0, src.length);

        assertThat(b.copy(2 * GuestMemory.BANK_SIZE - 77, a, GuestMemory.BANK_SIZE - 5000, src.length)).isZero();
        byte[] got = new byte[src.length];
        b.read(2 * GuestMemory.BANK_SIZE - 77, got, 0, got.length);
        assertThat(got).isEqualTo(src);
    }

    @Test
    void shouldReturnEfaultAndCopyNothingWhenRangeLeavesMemory() {
        GuestMemory mem = new GuestMemory("t", 4 * MIB);
        byte[] src = pattern(8192, 5);
        long gpa = mem.size() - 4096;

        assertThat(mem.write(gpa, src, 0, src.length)).isEqualTo(-EFAULT);
        assertThat(mem.page(mem.pages() - 1).get(0)).isZero(); // nothing written, not even the part inside

        ByteBuffer in = ByteBuffer.wrap(src);
        assertThat(mem.write(gpa, in)).isEqualTo(-EFAULT);
        assertThat(in.position()).isZero();

        byte[] dst = new byte[8192];
        dst[0] = 42;
        assertThat(mem.read(gpa, dst, 0, dst.length)).isEqualTo(-EFAULT);
        assertThat(dst[0]).isEqualTo((byte) 42);
        ByteBuffer out = ByteBuffer.allocate(8192);
        assertThat(mem.read(gpa, out)).isEqualTo(-EFAULT);
        assertThat(out.position()).isZero();

        assertThat(mem.read(-1, new byte[1], 0, 1)).isEqualTo(-EFAULT);
        assertThat(mem.read(Long.MAX_VALUE, new byte[2], 0, 2)).isEqualTo(-EFAULT);
        assertThat(mem.fill(gpa, 8192, (byte) 1)).isEqualTo(-EFAULT);
        assertThat(mem.copy(0, mem, gpa, 8192)).isEqualTo(-EFAULT);
        assertThat(mem.page(0).get(0)).isZero();
        assertThat(mem.read(mem.size(), new byte[0], 0, 0)).isZero();
    }

    @Test
    void shouldAllocateOnlyTouchedBanksWhenMemoryIsLargerThan2GiB() {
        GuestMemory mem = new GuestMemory("big", 4 * GIB + 4096);
        assertThat(mem.pages()).isEqualTo((4 * GIB >>> 12) + 1);
        assertThat(mem.residentBytes()).isZero();

        byte[] src = pattern(6000, 9);
        long across2g = 2 * GIB - 3000;
        assertThat(mem.write(across2g, src, 0, src.length)).isZero();
        long beyond3g = 3 * GIB + 12345;
        assertThat(mem.write(beyond3g, src, 0, src.length)).isZero();
        long lastPage = 4 * GIB;
        assertThat(mem.write(lastPage, src, 0, 4096)).isZero();
        assertThat(mem.write(lastPage + 1, src, 0, 4096)).isEqualTo(-EFAULT);

        byte[] got = new byte[src.length];
        assertThat(mem.read(across2g, got, 0, got.length)).isZero();
        assertThat(got).isEqualTo(src);
        assertThat(mem.read(beyond3g, got, 0, got.length)).isZero();
        assertThat(got).isEqualTo(src);
        assertThat(mem.page(GuestMemory.gpaToPfn(lastPage)).get(4095)).isEqualTo(src[4095]);

        mem.putU64(3 * GIB + 8, 0x1122334455667788L);
        assertThat(mem.getU64(3 * GIB + 8)).isEqualTo(0x1122334455667788L);
        // Two banks around 2 GiB, one at 3 GiB, the 4 KiB tail bank: nothing else.
        assertThat(mem.residentBytes()).isEqualTo(3L * GuestMemory.BANK_SIZE + 4096);
    }

    @Test
    void shouldStoreLittleEndianWhenUsingTypedAccessors() {
        GuestMemory mem = new GuestMemory("t", 4 * MIB);
        mem.putU16(0x100, 0xBEEF);
        mem.putU32(0x104, 0xDEADBEEFL);
        mem.putU64(0x108, 0x0102030405060708L);
        byte[] got = new byte[16];
        mem.read(0x100, got, 0, 16);
        assertThat(got).containsExactly(
                0xEF, 0xBE, 0x00, 0x00,
                0xEF, 0xBE, 0xAD, 0xDE,
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);

        mem.write(0x200, new byte[] {(byte) 0xFE, (byte) 0xFF, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, 0, 8);
        assertThat(mem.getU16(0x200)).isEqualTo(0xFFFE);
        assertThat(mem.getU16Acquire(0x200)).isEqualTo(0xFFFE);
        assertThat(mem.getU32(0x204)).isEqualTo(0xFFFF_FFFFL);
        mem.putU16Release(0x202, 0x1234);
        assertThat(mem.getU32(0x200)).isEqualTo(0x1234FFFEL);
    }

    @Test
    void shouldThrowWhenFieldIsMisalignedOrOutside() {
        GuestMemory mem = new GuestMemory("t", 4 * MIB);
        assertThatThrownBy(() -> mem.getU16(1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gpa=0x1");
        assertThatThrownBy(() -> mem.putU32(2, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mem.getU64(4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mem.getU64(mem.size())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mem.page(mem.pages())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldRejectSizeWhenNotPositiveMultipleOfPage() {
        assertThatThrownBy(() -> new GuestMemory("t", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestMemory("t", 4097)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldFillRangeWhenCrossingBanks() {
        GuestMemory mem = new GuestMemory("t", 8 * MIB);
        assertThat(mem.fill(GuestMemory.BANK_SIZE - 2, 4, (byte) 0x5a)).isZero();
        byte[] got = new byte[6];
        mem.read(GuestMemory.BANK_SIZE - 3, got, 0, 6);
        assertThat(got).containsExactly(0, 0x5a, 0x5a, 0x5a, 0x5a, 0);
    }

    @Test
    void shouldKeepEveryMemorysBytesItsOwnAndReadZeroesUntilWritten() {
        // Every memory is a private mapping of the same empty file: a write must stay in its memory.
        GuestMemory a = new GuestMemory("a", 4 * MIB);
        GuestMemory b = new GuestMemory("b", 4 * MIB);
        byte[] got = new byte[8];
        assertThat(a.read(4096, got, 0, got.length)).isZero();
        assertThat(got).containsOnly(0);
        a.write(4096, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 0, 8);
        b.write(4100, new byte[] {9}, 0, 1);
        assertThat(a.read(4096, got, 0, got.length)).isZero();
        assertThat(got).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(b.read(4096, got, 0, got.length)).isZero();
        assertThat(got).containsExactly(0, 0, 0, 0, 9, 0, 0, 0);
        GuestMemory c = new GuestMemory("c", 4 * MIB); // mapped after both were written
        assertThat(c.read(4096, got, 0, got.length)).isZero();
        assertThat(got).containsOnly(0);
    }

    @Test
    void shouldFillExactlyTheRangeWhenItStartsAndEndsBetweenWords() {
        GuestMemory mem = new GuestMemory("t", 4 * MIB);
        byte[] ones = new byte[64];
        java.util.Arrays.fill(ones, (byte) 1);
        mem.write(0, ones, 0, ones.length);
        assertThat(mem.fill(3, 37, (byte) 0x5a)).isZero(); // 5 bytes to a word boundary, 4 words, 0 left
        assertThat(mem.fill(43, 6, (byte) 0x33)).isZero(); // shorter than a word
        byte[] got = new byte[64];
        mem.read(0, got, 0, got.length);
        for (int i = 0; i < 64; i++) {
            byte want = i >= 3 && i < 40 ? (byte) 0x5a : i >= 43 && i < 49 ? (byte) 0x33 : 1;
            assertThat(got[i]).as("byte %d", i).isEqualTo(want);
        }
    }
}
