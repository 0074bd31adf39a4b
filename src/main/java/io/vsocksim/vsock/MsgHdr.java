package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EFAULT;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.SockExtendedErr;
import java.nio.ByteBuffer;

/**
 * {@code struct msghdr} as a transport sees it: the user's data iterator ({@code msg_iter}), the call's
 * flags and the out flags of recvmsg ({@code msg_flags}), and whether a destination address was
 * given ({@code msg_namelen != 0}).
 *
 * <p>The user buffer is a {@link ByteBuffer}; its position is the iterator. A buffer that user space
 * could not access is modelled in two ways: a read-only buffer cannot be received into, and
 * {@link #faultAfter(int)} makes every access beyond the first {@code n} bytes fault (an unmapped page
 * in the middle of the buffer). A copy that would touch inaccessible bytes copies nothing and returns
 * {@code -EFAULT}; the iterator does not move (SIM: the kernel may copy the accessible prefix before
 * failing; no caller observes the difference because the failed skb keeps its data).
 *
 * <p>Reused per call; not thread-safe.
 */
@Linux(file = "include/linux/socket.h", fn = "struct msghdr")
public final class MsgHdr {
    private ByteBuffer buf;
    private int accessibleEnd;
    /** Where the iterator ends: the buffer's limit, or beyond it for a range that runs off the buffer. */
    private long iterEnd;
    /** {@code msg_flags}: call flags on send; out flags (MSG_TRUNC, MSG_EOR) on receive. */
    public int msgFlags;
    /** True if the caller passed a destination address ({@code msg_namelen != 0}). */
    public boolean hasName;
    // MSG_ZEROCOPY send: where the buffer lives if it is pinnable user memory (else userPages == null),
    // and where the iterator started (iov_offset is measured from there).
    private PageAllocator userPages;
    private long userHandle;
    private long userGpa;
    private int iterStart;
    /** MSG_ERRQUEUE receive: the control buffer ({@code msg_control}), or null. */
    public ByteBuffer control;
    /** MSG_ERRQUEUE receive: the notification dequeued, or null. */
    public SockExtendedErr errqueueOut;
    /**
     * SIM: the receive timeout left, in jiffies ({@code timeo}, a local of the kernel's recvmsg); kept
     * here, in the call's own header, so a receive allocates no holder for it.
     */
    long timeo;

    /** Points the iterator at {@code buf}'s remaining bytes. */
    public MsgHdr init(ByteBuffer buf, int msgFlags) {
        this.buf = buf;
        this.accessibleEnd = buf.limit();
        this.iterEnd = buf.limit();
        this.msgFlags = msgFlags;
        this.hasName = false;
        this.userPages = null;
        this.iterStart = buf.position();
        this.control = null;
        this.errqueueOut = null;
        return this;
    }

    /**
     * Marks the buffer as user memory that can be pinned: buffer index 0 is at {@code gpa0} inside the
     * page block {@code handle} of {@code pages} (see {@link io.vsocksim.mm.UserBuffer}).
     */
    public MsgHdr userMemory(PageAllocator pages, long handle, long gpa0) {
        this.userPages = pages;
        this.userHandle = handle;
        this.userGpa = gpa0;
        return this;
    }

    /** The allocator of the pinnable user memory, or null for a buffer that cannot be pinned. */
    public PageAllocator userPages() {
        return userPages;
    }

    /** The page block of the pinnable user memory. */
    public long userHandle() {
        return userHandle;
    }

    /** Guest-physical address of the iterator's next byte (pinnable memory only). */
    public long userGpaAtPosition() {
        return userGpa + buf.position();
    }

    /**
     * {@code iov_iter->iov_offset}: bytes consumed since the call started. SIM: the iterator is one
     * segment, so this is never reset by crossing an iovec boundary.
     */
    public int iovOffset() {
        return buf.position() - iterStart;
    }

    /** True if the next {@code len} bytes are mapped (neither beyond the buffer nor past a fault). */
    public boolean accessible(int len) {
        return len <= accessibleEnd - buf.position() && len <= buf.remaining();
    }

    /**
     * {@code iov_iter_npages(iter, max)}: pages spanned by the remaining bytes, at most {@code max}.
     * A heap buffer is counted as if it started on a page boundary.
     */
    public int npages(int max) {
        long start = (userPages != null ? userGpa : 0) + buf.position();
        long end = start + buf.remaining();
        long first = start >>> GuestMemory.PAGE_SHIFT;
        long last = (end + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT;
        long n = buf.remaining() == 0 ? 0 : last - first;
        return (int) Math.min(n, max);
    }

    /**
     * Sets the iterator's length to {@code len} bytes from the position, which may run past the
     * buffer's limit: the bytes beyond it count (in {@link #dataLeft()}) but are unmapped, so copying
     * them faults, as a C caller's range that leaves its buffer.
     */
    public MsgHdr length(int len) {
        this.iterEnd = (long) buf.position() + len;
        return this;
    }

    /** Makes every byte past the first {@code n} of the current remaining bytes inaccessible. */
    public MsgHdr faultAfter(int n) {
        this.accessibleEnd = Math.min(buf.limit(), buf.position() + n);
        return this;
    }

    /** The user buffer. */
    public ByteBuffer buffer() {
        return buf;
    }

    /** {@code msg_data_left(msg)}. */
    public int dataLeft() {
        return (int) (iterEnd - buf.position());
    }

    /** Bytes consumed so far from where the iterator started is up to the caller; this is the position. */
    public int position() {
        return buf.position();
    }

    /**
     * Copies {@code len} bytes of memory at {@code gpa} into the user buffer (receive direction,
     * {@code skb_copy_datagram_iter}). Returns 0 or {@code -EFAULT} with nothing copied.
     */
    public int copyFromMemory(GuestMemory mem, long gpa, int len) {
        if (buf.isReadOnly() || len > accessibleEnd - buf.position() || len > buf.remaining()) {
            return -EFAULT;
        }
        int limit = buf.limit();
        buf.limit(buf.position() + len);
        int rc = mem.read(gpa, buf);
        buf.limit(limit);
        return rc;
    }

    /**
     * Copies the next {@code len} user bytes into memory at {@code gpa} (send direction,
     * {@code copy_from_iter_full}). Returns 0 or {@code -EFAULT} with nothing consumed.
     */
    public int copyToMemory(GuestMemory mem, long gpa, int len) {
        if (len > accessibleEnd - buf.position() || len > buf.remaining()) {
            return -EFAULT;
        }
        int limit = buf.limit();
        buf.limit(buf.position() + len);
        int rc = mem.write(gpa, buf);
        buf.limit(limit);
        return rc;
    }

    /** Skips {@code len} bytes of the iterator (data the kernel discards, e.g. a truncated message). */
    public void advance(int len) {
        buf.position(buf.position() + len);
    }
}
