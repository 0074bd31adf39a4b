package io.vsocksim.uapi;

/**
 * Unsigned 32-bit helpers for counters that wrap by design ({@code tx_cnt}, {@code fwd_cnt},
 * {@code buf_alloc}): they live in Java {@code int}s, are added and subtracted with ordinary int
 * arithmetic (which wraps exactly like C's u32) and compared only through these helpers.
 */
public final class U32 {
    /** Largest u32, {@code 0xFFFFFFFF}, as a long. */
    public static final long MAX = 0xFFFF_FFFFL;

    private U32() {
    }

    /** The u32 value of {@code x} as a non-negative long. */
    public static long toLong(int x) {
        return x & MAX;
    }

    /** {@code a < b} for u32 values. */
    public static boolean lt(int a, int b) {
        return Integer.compareUnsigned(a, b) < 0;
    }

    /** {@code a <= b} for u32 values. */
    public static boolean le(int a, int b) {
        return Integer.compareUnsigned(a, b) <= 0;
    }

    /** {@code min(a, b)} for u32 values. */
    public static int min(int a, int b) {
        return lt(a, b) ? a : b;
    }

    /** Decimal string of a u32. */
    public static String toString(int x) {
        return Integer.toUnsignedString(x);
    }
}
