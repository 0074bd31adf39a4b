package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * Protection bits for {@code mmap()} and advice values for {@code madvise()}, with their Linux
 * numbers.
 */
@Linux(file = "include/uapi/asm-generic/mman-common.h", fn = "PROT_READ")
public final class Mman {
    /** Page cannot be accessed. */
    public static final int PROT_NONE = 0x0;
    /** Page can be read. */
    public static final int PROT_READ = 0x1;
    /** Page can be written. */
    public static final int PROT_WRITE = 0x2;
    /** Page can be executed. */
    public static final int PROT_EXEC = 0x4;
    /** Every protection bit that {@code mmap()} accepts here. */
    public static final int PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;

    /** Share the mapping (the socket's mapping for zerocopy receive is shared). */
    public static final int MAP_SHARED = 0x01;
    /** Private copy-on-write mapping. */
    public static final int MAP_PRIVATE = 0x02;
    /** Both of the mapping types above; exactly one must be given. */
    public static final int MAP_TYPE = 0x0f;
    /** Memory that belongs to no file, zero-filled. */
    public static final int MAP_ANONYMOUS = 0x20;
    /** Fault the pages in at once (this simulator always does for anonymous memory). */
    public static final int MAP_POPULATE = 0x8000;

    /** No special access pattern (clears the two read-ahead hints below). */
    public static final int MADV_NORMAL = 0;
    /** Expect random access: read-ahead hint. */
    public static final int MADV_RANDOM = 1;
    /** Expect sequential access: read-ahead hint. */
    public static final int MADV_SEQUENTIAL = 2;
    /** The range will be needed soon: start reading it in. */
    public static final int MADV_WILLNEED = 3;
    /** Drop the pages of a range now; the next access sees an empty mapping. */
    public static final int MADV_DONTNEED = 4;

    private Mman() {
    }
}
