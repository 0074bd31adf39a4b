package io.vsocksim.uapi;

/**
 * Unsigned 16-bit arithmetic for free-running virtqueue indices ({@code __u16} in C), held in
 * {@code int}s. Values are masked before every comparison so that wrap at 65536 behaves as in C.
 */
public final class U16 {
    /** 2^16: where a u16 wraps. */
    public static final int WRAP = 1 << 16;
    private static final int MASK = 0xFFFF;

    private U16() {
    }

    /** Truncates to u16, as a C assignment to {@code __u16} does. */
    public static int of(int x) {
        return x & MASK;
    }

    /** {@code (u16)(a - b)}: distance from {@code b} forward to {@code a}. */
    public static int sub(int a, int b) {
        return (a - b) & MASK;
    }

    /** {@code (u16)(a + b)}. */
    public static int add(int a, int b) {
        return (a + b) & MASK;
    }
}
