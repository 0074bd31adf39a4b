package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.EFAULT;

import io.vsocksim.mm.GuestMemory;
import java.nio.ByteBuffer;

/**
 * A reusable scatter list filled by {@link VhostVirtqueue#getVqDesc}: the {@code iov[]} array with
 * its {@code out_num} readable entries first, then {@code in_num} writable ones. Entries are GPA ranges
 * already checked to lie inside guest memory. Parallel primitive arrays, allocated once; filling and
 * copying allocate nothing.
 *
 * <p>Not thread-safe; owned by one device handler, like {@code vq->iov}.
 */
public final class Iov {
    /** {@code UIO_MAXIOV}: the array size vhost-vsock passes. */
    public static final int UIO_MAXIOV = 1024;

    private final long[] gpa;
    private final int[] len;
    private int out;
    private int in;

    /** A list of {@link #UIO_MAXIOV} entries. */
    public Iov() {
        this(UIO_MAXIOV);
    }

    /** A list of {@code capacity} entries. */
    public Iov(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: capacity=" + capacity);
        }
        gpa = new long[capacity];
        len = new int[capacity];
    }

    /** Maximum entries ({@code iov_size}). */
    public int capacity() {
        return gpa.length;
    }

    /** Readable entries ({@code out_num}). */
    public int out() {
        return out;
    }

    /** Writable entries ({@code in_num}), stored after the readable ones. */
    public int in() {
        return in;
    }

    /** {@code out() + in()}. */
    public int count() {
        return out + in;
    }

    /** GPA of entry {@code i}. */
    public long gpa(int i) {
        return gpa[i];
    }

    /** Length of entry {@code i} (u32, never 0). */
    public int len(int i) {
        return len[i];
    }

    /** Sum of the readable lengths. */
    public long outBytes() {
        return sum(0, out);
    }

    /** Sum of the writable lengths. */
    public long inBytes() {
        return sum(out, out + in);
    }

    private long sum(int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            n += Integer.toUnsignedLong(len[i]);
        }
        return n;
    }

    void reset() {
        out = 0;
        in = 0;
    }

    /** Appends one entry; the caller checked capacity. */
    void append(long entryGpa, int entryLen, boolean writable) {
        int i = out + in;
        gpa[i] = entryGpa;
        len[i] = entryLen;
        if (writable) {
            in++;
        } else {
            out++;
        }
    }

    /**
     * Copies readable bytes, starting {@code offset} bytes into the readable part, into {@code dst} until
     * it is full or the readable part ends; advances {@code dst}'s position.
     *
     * @return bytes copied, or {@code -EFAULT}
     */
    public int copyFromOut(GuestMemory mem, long offset, ByteBuffer dst) {
        return copy(mem, 0, out, offset, dst, false);
    }

    /**
     * Copies {@code src} into the writable part starting {@code offset} bytes into it, until {@code src}
     * is empty or the writable part ends; advances {@code src}'s position.
     *
     * @return bytes copied, or {@code -EFAULT}
     */
    public int copyToIn(GuestMemory mem, long offset, ByteBuffer src) {
        return copy(mem, out, out + in, offset, src, true);
    }

    private int copy(GuestMemory mem, int from, int to, long offset, ByteBuffer buf, boolean toGuest) {
        int done = 0;
        int limit = buf.limit();
        for (int i = from; i < to && buf.hasRemaining(); i++) {
            long l = Integer.toUnsignedLong(len[i]);
            if (offset >= l) {
                offset -= l;
                continue;
            }
            int n = (int) Math.min(l - offset, buf.remaining());
            buf.limit(buf.position() + n);
            int r = toGuest ? mem.write(gpa[i] + offset, buf) : mem.read(gpa[i] + offset, buf);
            buf.limit(limit);
            if (r < 0) {
                return -EFAULT;
            }
            done += n;
            offset = 0;
        }
        return done;
    }
}
