package io.vsocksim.net;

import static io.vsocksim.uapi.Errno.EFAULT;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;

/**
 * The iovec of a msghdr: the import with its length clamp, and the copy across the segments in
 * order. SIM: data goes through one contiguous buffer (see the package notes).
 */
public final class Iovec {
    /** {@code UIO_MAXIOV}. */
    public static final int UIO_MAXIOV = 1024;
    /** {@code MAX_RW_COUNT}: {@code INT_MAX & PAGE_MASK}. */
    public static final int MAX_RW_COUNT = Integer.MAX_VALUE & ~4095;

    private Iovec() {
    }

    /**
     * The total length of the first {@code iovlen} segments, each cut so the sum stays within
     * MAX_RW_COUNT; {@code -EFAULT} if the iovec array cannot be read (NULL, or fewer entries).
     */
    @Linux(file = "lib/iov_iter.c", fn = "__import_iovec")
    public static long importIovec(ByteBuffer[] iov, int iovlen) {
        if (iovlen == 0) {
            return 0;
        }
        if (iov == null || iov.length < iovlen) {
            return -EFAULT;
        }
        long total = 0;
        for (int i = 0; i < iovlen; i++) {
            total += Math.min(segLen(iov[i]), MAX_RW_COUNT - total);
        }
        return total;
    }

    private static int segLen(ByteBuffer seg) {
        return seg == null ? 0 : seg.remaining();
    }

    /** The first {@code total} bytes of the segments, in order, in a new buffer; positions unchanged. */
    public static ByteBuffer gather(ByteBuffer[] iov, int iovlen, int total) {
        ByteBuffer out = ByteBuffer.allocate(total);
        for (int i = 0; i < iovlen && out.hasRemaining(); i++) {
            if (iov[i] != null) {
                ByteBuffer d = iov[i].duplicate();
                d.limit(d.position() + Math.min(d.remaining(), out.remaining()));
                out.put(d);
            }
        }
        return out.flip();
    }

    /** Moves the segments' positions past {@code n} bytes, in order (what a send consumed). */
    public static void advance(ByteBuffer[] iov, int iovlen, int n) {
        for (int i = 0; i < iovlen && n > 0; i++) {
            if (iov[i] != null) {
                int k = Math.min(n, iov[i].remaining());
                iov[i].position(iov[i].position() + k);
                n -= k;
            }
        }
    }

    /** Copies {@code src}'s remaining bytes into the segments in order, advancing their positions. */
    public static void scatter(ByteBuffer src, ByteBuffer[] iov, int iovlen) {
        for (int i = 0; i < iovlen && src.hasRemaining(); i++) {
            if (iov[i] != null) {
                int k = Math.min(src.remaining(), iov[i].remaining());
                iov[i].put(src.slice(src.position(), k));
                src.position(src.position() + k);
            }
        }
    }
}
