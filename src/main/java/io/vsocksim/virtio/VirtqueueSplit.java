package io.vsocksim.virtio;

import static io.vsocksim.uapi.Errno.EIO;
import static io.vsocksim.uapi.Errno.ENOSPC;
import static io.vsocksim.uapi.VirtioRing.DESC_ADDR;
import static io.vsocksim.uapi.VirtioRing.DESC_FLAGS;
import static io.vsocksim.uapi.VirtioRing.DESC_LEN;
import static io.vsocksim.uapi.VirtioRing.DESC_NEXT;
import static io.vsocksim.uapi.VirtioRing.DESC_SIZE;
import static io.vsocksim.uapi.VirtioRing.RING_FLAGS;
import static io.vsocksim.uapi.VirtioRing.RING_IDX;
import static io.vsocksim.uapi.VirtioRing.RING_RING;
import static io.vsocksim.uapi.VirtioRing.USED_ELEM_ID;
import static io.vsocksim.uapi.VirtioRing.USED_ELEM_LEN;
import static io.vsocksim.uapi.VirtioRing.USED_ELEM_SIZE;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_EVENT_IDX;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_INDIRECT_DESC;
import static io.vsocksim.uapi.VirtioRing.VRING_AVAIL_F_NO_INTERRUPT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_INDIRECT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_NEXT;
import static io.vsocksim.uapi.VirtioRing.VRING_DESC_F_WRITE;
import static io.vsocksim.uapi.VirtioRing.VRING_USED_F_NO_NOTIFY;

import io.vsocksim.Linux;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.U16;
import io.vsocksim.uapi.VirtioRing;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver (guest) view of one split virtqueue: {@code struct vring_virtqueue} with its split part, as
 * {@code drivers/virtio/virtio_ring.c} manages it.
 *
 * <p>The rings live in {@link GuestMemory} at the GPAs of a {@link VringAddrs}; the constructor
 * zeroes them, as the kernel's ring allocation does. Everything the device must not be able to
 * corrupt (free list, chain links, tokens, indirect tables) is kept in private shadow arrays
 * ({@code desc_extra}, {@code desc_state}), allocated once; adding and reclaiming buffers allocates
 * nothing.
 *
 * <p>Confinement: like the kernel, callers serialise all operations on one queue (the owner's lock);
 * only {@link #poll} and {@link #disableCb} may race with the others, and they are hints.
 *
 * <p>Indirect tables are used when {@link VirtioRing#VIRTIO_RING_F_INDIRECT_DESC} is negotiated
 * <em>and</em> the owner supplies an {@link IndirectAllocator} (SIM: the kernel kmallocs the table; here
 * it must come from guest memory so the device can read it, hence the allocator).
 */
@Linux(file = "drivers/virtio/virtio_ring.c", fn = "struct vring_virtqueue")
public final class VirtqueueSplit {

    /** The transport's notify hook ({@code vq->notify}); returns false if the notification failed. */
    @FunctionalInterface
    public interface Notify {
        /** Tells the device that {@code vq} has new buffers. */
        boolean notify(VirtqueueSplit vq);
    }

    /** The driver's completion callback ({@code vq->vq.callback}), run from {@link #vringInterrupt}. */
    @FunctionalInterface
    public interface Callback {
        /** Called when the device signalled used buffers. */
        void done(VirtqueueSplit vq);
    }

    /** Guest memory for indirect descriptor tables (SIM: stands in for kmalloc + DMA mapping). */
    public interface IndirectAllocator {
        /** A 16-aligned GPA of {@code bytes} bytes of guest memory, or a negative value if none. */
        long alloc(int bytes);

        /** Returns a table obtained from {@link #alloc}. */
        void free(long gpa, int bytes);
    }

    /** Why the queue was marked broken ({@code BAD_RING} and friends). */
    public enum BadRing {
        /** The device returned a used id {@code >= num}. */
        USED_ID_OUT_OF_RANGE,
        /** The device returned a used id that is not the head of an outstanding chain. */
        USED_ID_NOT_A_HEAD,
        /** The transport's notify hook failed ({@code virtqueue_notify}). */
        NOTIFY_FAILED,
        /**
         * SIM: while freeing a chain the NEXT flags in the shared table (which the kernel trusts) led
         * through more than {@code num} descriptors; the kernel would loop or corrupt its free list.
         */
        CHAIN_CORRUPT
    }

    private static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VIRTIO_RING);

    /** {@code vq->name}, for log lines. */
    private final String name;
    private final GuestMemory mem;
    private final int num;
    private final long descGpa;
    private final long availFlagsGpa;
    private final long availIdxGpa;
    private final long availRingGpa;
    private final long usedEventGpa;
    private final long usedFlagsGpa;
    private final long usedIdxGpa;
    private final long usedRingGpa;
    private final long availEventGpa;
    private final boolean event;
    private final boolean indirect;
    private final Notify notify;
    private final Callback callback;
    private final IndirectAllocator indirectAlloc;

    // Shadow state the device cannot touch (desc_extra / desc_state).
    private final int[] extraNext;
    private final long[] extraAddr;
    private final int[] extraLen;
    private final int[] extraFlags;
    private final Object[] data;
    private final long[] indirGpa;

    private int freeHead;
    private int numFree;
    private int availIdxShadow;
    private int availFlagsShadow;
    private int numAdded;
    private int lastUsedIdx;
    private boolean broken;
    private BadRing brokenReason;
    private boolean eventTriggered;
    private int lastLen;

    private long kicks;
    private long buffersAdded;
    private long buffersUsed;
    private long interrupts;

    /**
     * Creates the queue and initialises its rings ({@code vring_create_virtqueue_split}).
     *
     * @param features negotiated feature bits (EVENT_IDX and INDIRECT_DESC are looked at)
     * @param callback completion callback, or null for "no callback" (interrupts suppressed from the start)
     * @param notify transport notify hook
     * @param indirectAlloc source of indirect tables, or null to never use them
     * @throws IllegalArgumentException on a bad size or misplaced ring (caller bug)
     */
    public VirtqueueSplit(GuestMemory mem, VringAddrs addrs, long features, Callback callback, Notify notify,
            IndirectAllocator indirectAlloc) {
        this("vq", mem, addrs, features, callback, notify, indirectAlloc);
    }

    /**
     * Creates the queue named {@code name} ({@code vq->name}; log lines start with it) and initialises
     * its rings ({@code vring_create_virtqueue_split}); the other parameters as above.
     */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "vring_create_virtqueue_split")
    public VirtqueueSplit(String name, GuestMemory mem, VringAddrs addrs, long features, Callback callback,
            Notify notify, IndirectAllocator indirectAlloc) {
        this.name = Objects.requireNonNull(name, "name");
        this.mem = Objects.requireNonNull(mem, "mem");
        this.notify = Objects.requireNonNull(notify, "notify");
        int n = addrs.num();
        if (!VirtioRing.isValidNum(n)) {
            throw new IllegalArgumentException("queue size must be a power of 2 up to 32768: size=" + n);
        }
        checkArea("desc", addrs.descGpa(), VirtioRing.descTableSize(n), VirtioRing.VRING_DESC_ALIGN_SIZE);
        checkArea("avail", addrs.availGpa(), VirtioRing.availRingSize(n), VirtioRing.VRING_AVAIL_ALIGN_SIZE);
        checkArea("used", addrs.usedGpa(), VirtioRing.usedRingSize(n), VirtioRing.VRING_USED_ALIGN_SIZE);
        this.num = n;
        this.descGpa = addrs.descGpa();
        this.availFlagsGpa = addrs.availGpa() + RING_FLAGS;
        this.availIdxGpa = addrs.availGpa() + RING_IDX;
        this.availRingGpa = addrs.availGpa() + RING_RING;
        this.usedEventGpa = addrs.availGpa() + VirtioRing.usedEventOffset(n);
        this.usedFlagsGpa = addrs.usedGpa() + RING_FLAGS;
        this.usedIdxGpa = addrs.usedGpa() + RING_IDX;
        this.usedRingGpa = addrs.usedGpa() + RING_RING;
        this.availEventGpa = addrs.usedGpa() + VirtioRing.availEventOffset(n);
        this.event = VirtioRing.hasFeature(features, VIRTIO_RING_F_EVENT_IDX);
        this.indirect = VirtioRing.hasFeature(features, VIRTIO_RING_F_INDIRECT_DESC) && indirectAlloc != null;
        this.callback = callback;
        this.indirectAlloc = indirectAlloc;

        mem.fill(addrs.descGpa(), VirtioRing.descTableSize(n), (byte) 0);
        mem.fill(addrs.availGpa(), VirtioRing.availRingSize(n), (byte) 0);
        mem.fill(addrs.usedGpa(), VirtioRing.usedRingSize(n), (byte) 0);

        // vring_alloc_desc_extra: every descriptor free, linked i -> i+1 (the last one's link is 0).
        extraNext = new int[n];
        extraAddr = new long[n];
        extraLen = new int[n];
        extraFlags = new int[n];
        data = new Object[n];
        indirGpa = new long[n];
        for (int i = 0; i < n - 1; i++) {
            extraNext[i] = i + 1;
        }
        Arrays.fill(indirGpa, -1L);
        numFree = n;
        freeHead = 0;
        // virtqueue_vring_init_split: no callback means "do not interrupt me".
        if (callback == null) {
            availFlagsShadow |= VRING_AVAIL_F_NO_INTERRUPT;
            if (!event) {
                mem.putU16(availFlagsGpa, availFlagsShadow);
            }
        }
    }

    private void checkArea(String what, long gpa, long len, int align) {
        if ((gpa & (align - 1)) != 0 || !mem.contains(gpa, len)) {
            throw new IllegalArgumentException("ring area misaligned or outside memory: area=" + what
                    + " gpa=0x" + Long.toHexString(gpa) + " len=" + len + " align=" + align);
        }
    }

    // ---- adding buffers --------------------------------------------------------------------------

    /**
     * Exposes one buffer made of {@code outNum} device-readable then {@code inNum} device-writable
     * pieces, identified by {@code token}. Does not kick.
     *
     * @return 0, {@code -ENOSPC} if too few descriptors are free (the device is notified anyway when
     *     the buffer had readable parts), or {@code -EIO} if the queue is broken
     */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_add_split")
    public int addSgs(long[] outGpa, int[] outLen, int outNum, long[] inGpa, int[] inLen, int inNum, Object token) {
        Objects.requireNonNull(token, "token"); // BUG_ON(data == NULL)
        if (broken) {
            return -EIO;
        }
        int total = outNum + inNum;
        if (outNum < 0 || inNum < 0 || total == 0) {
            throw new IllegalArgumentException("need at least one sg: out=" + outNum + " in=" + inNum);
        }
        int head = freeHead;
        long table = useIndirect(total) ? allocIndirect(total) : -1L;
        boolean indir = table >= 0;
        int descsUsed = indir ? 1 : total;
        if (numFree < descsUsed) {
            // Kept from the kernel: a stalled producer prods the device if it had something to read.
            if (outNum > 0) {
                kicks++;
                notify.notify(this);
            }
            if (indir) {
                indirectAlloc.free(table, total * DESC_SIZE);
            }
            return -ENOSPC;
        }
        int i = indir ? 0 : head;
        int prev = i;
        int prevFlags = 0;
        for (int k = 0; k < outNum; k++) {
            prev = i;
            prevFlags = VRING_DESC_F_NEXT;
            i = addDesc(indir, table, i, outGpa[k], outLen[k], prevFlags);
        }
        for (int k = 0; k < inNum; k++) {
            prev = i;
            prevFlags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE;
            i = addDesc(indir, table, i, inGpa[k], inLen[k], prevFlags);
        }
        // The last piece does not continue.
        int lastFlags = prevFlags & ~VRING_DESC_F_NEXT;
        mem.putU16((indir ? table : descGpa) + (long) prev * DESC_SIZE + DESC_FLAGS, lastFlags);
        if (!indir) {
            extraFlags[prev] = lastFlags;
        } else {
            addDesc(false, 0, head, table, total * DESC_SIZE, VRING_DESC_F_INDIRECT);
        }
        numFree -= descsUsed;
        freeHead = indir ? extraNext[head] : i;
        data[head] = token;
        indirGpa[head] = table;

        int slot = availIdxShadow & (num - 1);
        mem.putU16(availRingGpa + 2L * slot, head);
        availIdxShadow = U16.add(availIdxShadow, 1);
        // virtio_wmb: descriptors and ring entry before the index. Paired with getU16Acquire() of
        // avail.idx in VhostVirtqueue.getAvailIdx().
        mem.putU16Release(availIdxGpa, availIdxShadow);
        numAdded++;
        buffersAdded++;
        // The kick decision compares u16 indices; 65535 unannounced buffers would make it ambiguous.
        if (numAdded == U16.WRAP - 1) {
            kick();
        }
        return 0;
    }

    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_use_indirect")
    private boolean useIndirect(int total) {
        return indirect && total > 1 && numFree > 0;
    }

    /** Table GPA with entries pre-linked i -> i+1, or -1 (then the chain goes in the ring, as on kmalloc failure). */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "alloc_indirect_split")
    private long allocIndirect(int total) {
        long gpa = indirectAlloc.alloc(total * DESC_SIZE);
        if (gpa < 0) {
            return -1L;
        }
        if ((gpa & (VirtioRing.VRING_DESC_ALIGN_SIZE - 1)) != 0 || !mem.contains(gpa, (long) total * DESC_SIZE)) {
            throw new IllegalStateException("indirect allocator returned a bad table: gpa=0x" + Long.toHexString(gpa));
        }
        for (int i = 0; i < total; i++) {
            mem.putU16(gpa + (long) i * DESC_SIZE + DESC_NEXT, i + 1);
        }
        return gpa;
    }

    /** Writes descriptor {@code i} (ring or indirect table) and returns the next free index. */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_add_desc_split")
    private int addDesc(boolean inTable, long table, int i, long addr, int len, int flags) {
        long d = (inTable ? table : descGpa) + (long) i * DESC_SIZE;
        mem.putU16(d + DESC_FLAGS, flags);
        mem.putU64(d + DESC_ADDR, addr);
        mem.putU32(d + DESC_LEN, Integer.toUnsignedLong(len));
        if (inTable) {
            // The table was pre-linked by allocIndirect(); do not re-read shared memory for it.
            return i + 1;
        }
        int next = extraNext[i];
        mem.putU16(d + DESC_NEXT, next);
        extraAddr[i] = addr;
        extraLen[i] = len;
        extraFlags[i] = flags;
        return next;
    }

    // ---- notifying the device ----------------------------------------------------------------------

    /** True if the device wants a notification for the buffers added since the last call. */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_kick_prepare_split")
    public boolean kickPrepare() {
        // virtio_mb: publish avail.idx before reading the device's suppression state. Paired with
        // fullFence() in VhostVirtqueue.enableNotify().
        VarHandle.fullFence();
        int old = U16.sub(availIdxShadow, numAdded);
        int now = availIdxShadow;
        numAdded = 0;
        if (event) {
            return VirtioRing.vringNeedEvent(mem.getU16(availEventGpa), now, old);
        }
        return (mem.getU16(usedFlagsGpa) & VRING_USED_F_NO_NOTIFY) == 0;
    }

    /** Calls the notify hook; a failing hook marks the queue broken. Returns false if broken or failed. */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_notify")
    public boolean notifyDevice() {
        if (broken) {
            return false;
        }
        kicks++;
        if (!notify.notify(this)) {
            markBroken(BadRing.NOTIFY_FAILED);
            return false;
        }
        return true;
    }

    /** {@link #kickPrepare} then, if needed, {@link #notifyDevice}. Returns false only if the kick failed. */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_kick")
    public boolean kick() {
        if (kickPrepare()) {
            return notifyDevice();
        }
        return true;
    }

    // ---- reclaiming buffers -------------------------------------------------------------------------

    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "more_used_split")
    private boolean moreUsed() {
        // Paired with putU16Release() of used.idx in VhostVirtqueue.addUsedN().
        return lastUsedIdx != mem.getU16Acquire(usedIdxGpa);
    }

    /**
     * The token of the next used buffer, or null if there is none or the queue is broken. The length
     * the device reported is then in {@link #lastLen()}, unchecked. A used id out of range or not a
     * head marks the queue broken.
     */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_get_buf_ctx_split")
    public Object getBuf() {
        if (broken || !moreUsed()) {
            return null;
        }
        long elem = usedRingGpa + (long) USED_ELEM_SIZE * (lastUsedIdx & (num - 1));
        long id = mem.getU32(elem + USED_ELEM_ID);
        int len = (int) mem.getU32(elem + USED_ELEM_LEN);
        if (id >= num) {
            markBroken(BadRing.USED_ID_OUT_OF_RANGE);
            return null;
        }
        int head = (int) id;
        Object token = data[head];
        if (token == null) {
            markBroken(BadRing.USED_ID_NOT_A_HEAD);
            return null;
        }
        if (!detachBuf(head)) {
            return null;
        }
        lastLen = len;
        lastUsedIdx = U16.add(lastUsedIdx, 1);
        buffersUsed++;
        if ((availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) == 0) {
            // virtio_store_mb: publish used_event before the next used.idx read. Paired with
            // fullFence() in VhostVirtqueue.vhostNotify().
            mem.putU16(usedEventGpa, lastUsedIdx);
            VarHandle.fullFence();
        }
        return token;
    }

    /** Bytes the device reported for the buffer last returned by {@link #getBuf} (u32, unchecked). */
    public int lastLen() {
        return lastLen;
    }

    /** Returns chain {@code head} to the free list; false if the shared flags were corrupt (SIM bound). */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "detach_buf_split")
    private boolean detachBuf(int head) {
        data[head] = null;
        int i = head;
        int steps = 0;
        // As in the kernel, continuation is read from the shared table's flags, links from the shadow.
        while ((mem.getU16(descGpa + (long) i * DESC_SIZE + DESC_FLAGS) & VRING_DESC_F_NEXT) != 0) {
            if (++steps >= num) {
                markBroken(BadRing.CHAIN_CORRUPT);
                return false;
            }
            i = extraNext[i];
            numFree++;
        }
        extraNext[i] = freeHead;
        freeHead = head;
        numFree++;
        if (indirGpa[head] >= 0) {
            indirectAlloc.free(indirGpa[head], extraLen[head]);
            indirGpa[head] = -1L;
        }
        return true;
    }

    /**
     * Takes back one buffer the device never used (teardown after a device reset) and withdraws it
     * from the avail ring. Returns its token, or null once all are back.
     */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_detach_unused_buf_split")
    public Object detachUnusedBuf() {
        for (int i = 0; i < num; i++) {
            Object token = data[i];
            if (token == null) {
                continue;
            }
            detachBuf(i);
            availIdxShadow = U16.sub(availIdxShadow, 1);
            mem.putU16(availIdxGpa, availIdxShadow);
            return token;
        }
        assert broken || numFree == num : "descriptors leaked: numFree=" + numFree + " num=" + num;
        return null;
    }

    // ---- interrupt (callback) control -----------------------------------------------------------------

    /** Asks the device not to interrupt (a hint). */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_disable_cb_split")
    public void disableCb() {
        if ((availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) != 0) {
            return;
        }
        availFlagsShadow |= VRING_AVAIL_F_NO_INTERRUPT;
        // The device already fired for this batch and will not fire again: nothing to write.
        if (eventTriggered) {
            return;
        }
        if (event) {
            // Same arbitrary value the kernel writes: any index "far" from the used index.
            mem.putU16(usedEventGpa, 0);
        } else {
            mem.putU16(availFlagsGpa, availFlagsShadow);
        }
    }

    /** Re-enables interrupts and returns the state to pass to {@link #poll}. */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_enable_cb_prepare")
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_enable_cb_prepare_split")
    public int enableCbPrepare() {
        eventTriggered = false;
        if ((availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) != 0) {
            availFlagsShadow &= ~VRING_AVAIL_F_NO_INTERRUPT;
            if (!event) {
                mem.putU16(availFlagsGpa, availFlagsShadow);
            }
        }
        mem.putU16(usedEventGpa, lastUsedIdx);
        return lastUsedIdx;
    }

    /** True if the device used buffers beyond {@code lastUsed} (from {@link #enableCbPrepare}). */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_poll")
    public boolean poll(int lastUsed) {
        if (broken) {
            return false;
        }
        // virtio_mb: the used_event / flags store above before the used.idx load. Paired with
        // fullFence() in VhostVirtqueue.vhostNotify().
        VarHandle.fullFence();
        return U16.of(lastUsed) != mem.getU16(usedIdxGpa);
    }

    /** Re-enables interrupts; false if more used buffers already arrived (drain again). */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "virtqueue_enable_cb")
    public boolean enableCb() {
        return !poll(enableCbPrepare());
    }

    /**
     * The device's interrupt for this queue: runs the callback if there is work. Returns true for
     * IRQ_HANDLED, false for IRQ_NONE (nothing used).
     */
    @Linux(file = "drivers/virtio/virtio_ring.c", fn = "vring_interrupt")
    public boolean vringInterrupt() {
        interrupts++;
        if (!moreUsed()) {
            return false;
        }
        if (broken) {
            return true;
        }
        if (event) {
            eventTriggered = true;
        }
        if (callback != null) {
            callback.done(this);
        }
        return true;
    }

    // ---- state ----------------------------------------------------------------------------------------

    /**
     * Marks the queue broken. The kernel's {@code BAD_RING} prints with {@code dev_err}; here the line
     * is DEBUG like every other event a peer can cause, and {@link #brokenReason()} keeps the reason.
     */
    private void markBroken(BadRing reason) {
        if (!broken) {
            broken = true;
            brokenReason = reason;
            if (LOG.isDebugEnabled()) {
                LOG.debug("{}: queue broken at last_used_idx {}: {}", name, lastUsedIdx, reason);
            }
        }
    }

    /** True once the device misbehaved or a notification failed; adds then fail with EIO. */
    public boolean isBroken() {
        return broken;
    }

    /** Why the queue broke, or null. */
    public BadRing brokenReason() {
        return brokenReason;
    }

    /** Queue size N. */
    public int size() {
        return num;
    }

    /** Free descriptors in the ring ({@code vq->num_free}). */
    public int numFree() {
        return numFree;
    }

    /** The driver's free-running avail index ({@code avail_idx_shadow}, u16). */
    public int availIdxShadow() {
        return availIdxShadow;
    }

    /** The next used index the driver will consume ({@code last_used_idx}, u16). */
    public int lastUsedIdx() {
        return lastUsedIdx;
    }

    /** Device notifications issued (including the ENOSPC prod). */
    public long kicks() {
        return kicks;
    }

    /** Buffers added successfully. */
    public long buffersAdded() {
        return buffersAdded;
    }

    /** Buffers returned by {@link #getBuf}. */
    public long buffersUsed() {
        return buffersUsed;
    }

    /** Calls of {@link #vringInterrupt}. */
    public long interrupts() {
        return interrupts;
    }
}
