package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.E2BIG;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOBUFS;


/**
 * Why the device gave up on a ring: one constant per {@code vq_err} site of {@code vhost_get_vq_desc}
 * and its helpers. {@link #errno(VringError)} is the single, exhaustive mapping to the errno the kernel
 * returns for it.
 */
public enum VringError {
    /** {@code (u16)(avail.idx - last_avail_idx) > num} ("Invalid available index change"). */
    INVALID_AVAIL_IDX,
    /** The avail ring names a head {@code >= num}. */
    HEAD_OUT_OF_RANGE,
    /** A chain's {@code next} is {@code >= num}. */
    DESC_OUT_OF_RANGE,
    /** More than {@code num} descriptors visited: a loop. */
    DESC_LOOP,
    /** A buffer (or the indirect table) is not inside guest memory. */
    TRANSLATION_FAULT,
    /** The chain needs more iovecs than the caller's array holds. */
    IOV_OVERFLOW,
    /** A device-readable descriptor follows a writable one. */
    OUT_AFTER_IN,
    /** Indirect descriptor length not a multiple of 16. */
    INDIRECT_BAD_LEN,
    /** Indirect table with more than 65536 entries. */
    INDIRECT_TOO_BIG,
    /** More indirect entries visited than the table holds. */
    INDIRECT_LOOP,
    /** An indirect table entry is itself INDIRECT. */
    INDIRECT_NESTED,
    /** Inside an indirect table, a readable entry follows a writable one. */
    INDIRECT_OUT_AFTER_IN;

    /** The positive errno the kernel returns for {@code e}. */
    public static int errno(VringError e) {
        // No default: adding a constant without mapping it is a compile error.
        return switch (e) {
            case INVALID_AVAIL_IDX, HEAD_OUT_OF_RANGE, DESC_OUT_OF_RANGE, DESC_LOOP, OUT_AFTER_IN,
                    INDIRECT_BAD_LEN, INDIRECT_LOOP, INDIRECT_NESTED, INDIRECT_OUT_AFTER_IN -> EINVAL;
            case TRANSLATION_FAULT -> EFAULT;
            case IOV_OVERFLOW -> ENOBUFS;
            case INDIRECT_TOO_BIG -> E2BIG;
        };
    }
}
