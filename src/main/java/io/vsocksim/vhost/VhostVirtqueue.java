package io.vsocksim.vhost;

import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOBUFS;
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
import static io.vsocksim.uapi.VirtioRing.VIRTIO_F_NOTIFY_ON_EMPTY;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_EVENT_IDX;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device (host) view of one split virtqueue: {@code struct vhost_virtqueue} and the ring functions of
 * {@code drivers/vhost/vhost.c}, over the guest's {@link GuestMemory}.
 *
 * <p>Lifecycle, as the vhost ioctls: {@link #setNum}, {@link #setAddr}, optionally
 * {@link #setVringBase}, then {@link #setBackend setBackend(true)} (checks access, reads the used
 * index). A handler then runs: {@link #disableNotify}; loop {@link #getVqDesc} / {@link #addUsed};
 * {@link #signal}; {@link #enableNotify} and go again if it returns true.
 *
 * <p>The guest is never trusted: bad ring contents give {@code -errno} plus a {@link VringError}
 * ({@code vq_err}), never an exception. On such an error {@code last_avail_idx} is not advanced, so
 * every later call meets the same chain until the driver rewrites it, exactly as vhost does.
 *
 * <p>Confinement: one handler at a time (the kernel's {@code vq->mutex}); callers serialise.
 */
@Linux(file = "drivers/vhost/vhost.h", fn = "struct vhost_virtqueue")
public final class VhostVirtqueue {
    private static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VHOST);
    /** Buffers are chained through a u16, so an indirect table holds at most 2^16 entries. */
    private static final long INDIRECT_MAX_ENTRIES = U16.WRAP;

    private final GuestMemory mem;
    private final long features;
    private final boolean event;
    private final Runnable call;
    private final ByteBuffer indirectDesc = ByteBuffer.allocate(DESC_SIZE).order(ByteOrder.LITTLE_ENDIAN);

    // Ring configuration (vhost ioctls).
    private int num;
    private boolean ringsSet;
    private long descGpa;
    private long availGpa;
    private long usedGpa;
    private boolean backend;

    // Ring state, protected by the vq mutex (caller).
    private int lastAvailIdx;
    private int availIdx;
    private int lastUsedIdx;
    private int usedFlags;
    private int signalledUsed;
    private boolean signalledUsedValid;
    private final int[] oneHead = new int[1];
    private final int[] oneLen = new int[1];

    // Accounting.
    private final long[] errorCounts = new long[VringError.values().length];
    private long errors;
    private VringError lastError;
    private long interrupts;
    private long descsFetched;
    private long usedAdded;

    /**
     * @param mem the guest's memory
     * @param features negotiated features (EVENT_IDX, NOTIFY_ON_EMPTY are looked at)
     * @param call the call eventfd ({@code eventfd_signal} toward the driver), or null if none is set
     */
    public VhostVirtqueue(GuestMemory mem, long features, Runnable call) {
        this.mem = Objects.requireNonNull(mem, "mem");
        this.features = features;
        this.event = VirtioRing.hasFeature(features, VIRTIO_RING_F_EVENT_IDX);
        this.call = call;
    }

    // ---- configuration ----------------------------------------------------------------------------

    /** Sets the queue size: 0, {@code -EBUSY} with a backend attached, {@code -EINVAL} for a bad size. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_vring_set_num")
    public int setNum(int n) {
        if (backend) {
            return -EBUSY;
        }
        if (n == 0 || n > 0xFFFF || (n & (n - 1)) != 0) {
            return -EINVAL;
        }
        num = n;
        return 0;
    }

    /**
     * Sets the ring addresses: 0, {@code -EINVAL} for a misaligned area, {@code -EFAULT} if an area is not
     * inside guest memory. SIM: access is checked here even without a backend (the size is known and
     * memory is fixed), and the descriptor table must be 16-aligned (vhost copies descriptors and does
     * not care; the spec requires it and our aligned field accessors need it). Requires {@link #setNum}
     * first (else {@code -EINVAL}).
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_vring_set_addr")
    public int setAddr(long desc, long avail, long used) {
        if ((desc & (VirtioRing.VRING_DESC_ALIGN_SIZE - 1)) != 0
                || (avail & (VirtioRing.VRING_AVAIL_ALIGN_SIZE - 1)) != 0
                || (used & (VirtioRing.VRING_USED_ALIGN_SIZE - 1)) != 0 || num == 0) {
            return -EINVAL;
        }
        if (!accessOk(num, desc, avail, used)) {
            return -EFAULT;
        }
        descGpa = desc;
        availGpa = avail;
        usedGpa = used;
        ringsSet = true;
        return 0;
    }

    @Linux(file = "drivers/vhost/vhost.c", fn = "vq_access_ok")
    private boolean accessOk(int n, long desc, long avail, long used) {
        int ev = event ? 2 : 0;
        return mem.contains(desc, VirtioRing.descTableSize(n))
                && mem.contains(avail, RING_RING + 2L * n + ev)
                && mem.contains(used, RING_RING + (long) USED_ELEM_SIZE * n + ev);
    }

    /** Sets {@code last_avail_idx} (and the cached avail index): 0, {@code -EBUSY}, {@code -EINVAL}. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_vring_ioctl")
    public int setVringBase(int base) {
        if (backend) {
            return -EBUSY;
        }
        if (base < 0 || base > 0xFFFF) {
            return -EINVAL;
        }
        lastAvailIdx = base;
        availIdx = base;
        return 0;
    }

    /**
     * Attaches ({@code true}) or detaches the backend. Attaching checks ring access ({@code -EFAULT})
     * and initialises the used side from guest memory ({@code vhost_vq_init_access}).
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_vq_init_access")
    public int setBackend(boolean on) {
        if (!on) {
            backend = false;
            return 0;
        }
        if (!ringsSet || !accessOk(num, descGpa, availGpa, usedGpa)) {
            return -EFAULT;
        }
        backend = true;
        mem.putU16(usedGpa + RING_FLAGS, usedFlags);
        signalledUsedValid = false;
        lastUsedIdx = mem.getU16(usedGpa + RING_IDX);
        return 0;
    }

    /** True if the ring has addresses; handlers do nothing otherwise. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vq_meta_prefetch")
    public boolean metaPrefetch() {
        return ringsSet;
    }

    // ---- fetching chains ---------------------------------------------------------------------------

    /** 1 if avail.idx moved past the cached value, 0 if not, {@code -EINVAL} for an impossible jump. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_get_avail_idx")
    private int getAvailIdx() {
        // Acquire: ring entries and descriptors are read after the index. Paired with
        // putU16Release() of avail.idx in VirtqueueSplit.addSgs().
        int idx = mem.getU16Acquire(availGpa + RING_IDX);
        if (U16.sub(idx, lastAvailIdx) > num) {
            // 6.12.117: the bad value is not cached, so the next fetch re-reads and fails again.
            return vqErr(VringError.INVALID_AVAIL_IDX);
        }
        if (idx == availIdx) {
            return 0;
        }
        availIdx = idx;
        return 1;
    }

    /**
     * Takes the next available chain and describes it in {@code iov} (readable entries first).
     * Notifications must be disabled ({@link #disableNotify}).
     *
     * @return the head index; {@code num} if the ring is empty; or {@code -errno} (EINVAL, EFAULT,
     *     ENOBUFS, E2BIG) with the reason in {@link #lastError()} and {@code iov} contents undefined
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_get_vq_desc")
    public int getVqDesc(Iov iov) {
        if (!ringsSet) {
            throw new IllegalStateException("vring addresses not set");
        }
        if (availIdx == lastAvailIdx) {
            int r = getAvailIdx();
            if (r < 0) {
                return r;
            }
            if (r == 0) {
                return num;
            }
        }
        int head = mem.getU16(availGpa + RING_RING + 2L * (lastAvailIdx & (num - 1)));
        if (head >= num) {
            return vqErr(VringError.HEAD_OUT_OF_RANGE);
        }
        iov.reset();
        int found = 0;
        int i = head;
        do {
            if (i >= num) {
                return vqErr(VringError.DESC_OUT_OF_RANGE);
            }
            if (++found > num) {
                return vqErr(VringError.DESC_LOOP);
            }
            // Read the descriptor once into locals; the guest may rewrite it concurrently (TOCTOU).
            long d = descGpa + (long) i * DESC_SIZE;
            long addr = mem.getU64(d + DESC_ADDR);
            int len = (int) mem.getU32(d + DESC_LEN);
            int flags = mem.getU16(d + DESC_FLAGS);
            int next = mem.getU16(d + DESC_NEXT);
            if ((flags & VRING_DESC_F_INDIRECT) != 0) {
                int r = getIndirect(iov, addr, len);
                if (r < 0) {
                    return r;
                }
            } else {
                int r = addBuffer(iov, addr, len, (flags & VRING_DESC_F_WRITE) != 0, VringError.OUT_AFTER_IN);
                if (r < 0) {
                    return r;
                }
            }
            i = (flags & VRING_DESC_F_NEXT) != 0 ? next : -1;
        } while (i != -1);
        lastAvailIdx = U16.add(lastAvailIdx, 1);
        descsFetched++;
        assert (usedFlags & VRING_USED_F_NO_NOTIFY) != 0 : "getVqDesc() with notifications enabled";
        return head;
    }

    /** Translates one buffer into {@code iov} and enforces "readable before writable". */
    private int addBuffer(Iov iov, long addr, int len, boolean write, VringError outAfterIn) {
        int r = translateDesc(addr, len, iov, write);
        if (r < 0) {
            return vqErr(r == -ENOBUFS ? VringError.IOV_OVERFLOW : VringError.TRANSLATION_FAULT);
        }
        if (!write && iov.in() != 0) {
            return vqErr(outAfterIn);
        }
        return 0;
    }

    /**
     * Maps {@code [addr, addr + len)} to iovecs: 0 for an empty buffer, 1 entry, {@code -ENOBUFS} if
     * {@code iov} is full, {@code -EFAULT} outside guest memory. SIM: guest memory is one region, so a
     * buffer never needs more than one iovec; no IOTLB (no EPERM / EAGAIN).
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "translate_desc")
    private int translateDesc(long addr, int len, Iov iov, boolean write) {
        long ulen = Integer.toUnsignedLong(len);
        if (ulen == 0) {
            return 0;
        }
        if (iov.count() >= iov.capacity()) {
            return -ENOBUFS;
        }
        if (!mem.contains(addr, ulen)) {
            return -EFAULT;
        }
        iov.append(addr, len, write);
        return 1;
    }

    /**
     * Walks an indirect table. Entries are consumed in table order, as the kernel reads the table
     * through a sequential iterator: their NEXT flag only says whether to go on, {@code next} is not
     * followed (only a well-formed table, where next = i + 1, makes the two readings agree).
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "get_indirect")
    private int getIndirect(Iov iov, long tableGpa, int tableLen) {
        long len = Integer.toUnsignedLong(tableLen);
        if (len % DESC_SIZE != 0) {
            return vqErr(VringError.INDIRECT_BAD_LEN);
        }
        // The table itself is translated first (SIM: one region, so only "inside memory" matters).
        if (len != 0 && !mem.contains(tableGpa, len)) {
            return vqErr(VringError.TRANSLATION_FAULT);
        }
        long count = len / DESC_SIZE;
        if (count > INDIRECT_MAX_ENTRIES) {
            return vqErr(VringError.INDIRECT_TOO_BIG);
        }
        long found = 0;
        int flags;
        do {
            if (++found > count) {
                return vqErr(VringError.INDIRECT_LOOP);
            }
            // One copy of the entry into device memory; it may be unaligned, hence the byte copy.
            indirectDesc.clear();
            mem.read(tableGpa + (found - 1) * DESC_SIZE, indirectDesc);
            long addr = indirectDesc.getLong(DESC_ADDR);
            int elen = indirectDesc.getInt(DESC_LEN);
            flags = Short.toUnsignedInt(indirectDesc.getShort(DESC_FLAGS));
            if ((flags & VRING_DESC_F_INDIRECT) != 0) {
                return vqErr(VringError.INDIRECT_NESTED);
            }
            int r = addBuffer(iov, addr, elen, (flags & VRING_DESC_F_WRITE) != 0, VringError.INDIRECT_OUT_AFTER_IN);
            if (r < 0) {
                return r;
            }
        } while ((flags & VRING_DESC_F_NEXT) != 0);
        return 0;
    }

    /** Gives back the last {@code n} fetched chains (rolls {@code last_avail_idx} back). */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_discard_vq_desc")
    public void discardVqDesc(int n) {
        lastAvailIdx = U16.sub(lastAvailIdx, n);
    }

    // ---- returning chains --------------------------------------------------------------------------

    /** Returns one chain with {@code len} bytes written. Returns 0. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_add_used")
    public int addUsed(int head, int len) {
        oneHead[0] = head;
        oneLen[0] = len;
        return addUsedN(oneHead, oneLen, 1);
    }

    /** Returns {@code count} chains at once (one used.idx update). Returns 0. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_add_used_n")
    public int addUsedN(int[] heads, int[] lens, int count) {
        int start = lastUsedIdx & (num - 1);
        int n = num - start;
        int off = 0;
        if (n < count) {
            putUsed(heads, lens, 0, n);
            off = n;
            count -= n;
        }
        putUsed(heads, lens, off, count);
        // smp_wmb: entries before the index. Paired with getU16Acquire() of used.idx in
        // VirtqueueSplit.moreUsed().
        mem.putU16Release(usedGpa + RING_IDX, lastUsedIdx);
        return 0;
    }

    /** Writes one contiguous run of used entries (ring area validated at setup, so it cannot fail). */
    @Linux(file = "drivers/vhost/vhost.c", fn = "__vhost_add_used_n")
    private void putUsed(int[] heads, int[] lens, int off, int count) {
        int start = lastUsedIdx & (num - 1);
        for (int k = 0; k < count; k++) {
            long e = usedGpa + RING_RING + (long) USED_ELEM_SIZE * (start + k);
            mem.putU32(e + USED_ELEM_ID, Integer.toUnsignedLong(heads[off + k]));
            mem.putU32(e + USED_ELEM_LEN, Integer.toUnsignedLong(lens[off + k]));
        }
        int old = lastUsedIdx;
        lastUsedIdx = U16.add(lastUsedIdx, count);
        usedAdded += count;
        // The used index ran past the last signalled value: that value no longer means anything.
        if (U16.sub(lastUsedIdx, signalledUsed) < U16.sub(lastUsedIdx, old)) {
            signalledUsedValid = false;
        }
    }

    // ---- notifications ------------------------------------------------------------------------------

    /** True if the driver wants an interrupt for the used entries published so far. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_notify")
    public boolean vhostNotify() {
        // smp_mb: used.idx before reading used_event / avail.flags. Paired with fullFence() in
        // VirtqueueSplit.getBuf() and VirtqueueSplit.poll().
        VarHandle.fullFence();
        if (VirtioRing.hasFeature(features, VIRTIO_F_NOTIFY_ON_EMPTY) && availIdx == lastAvailIdx) {
            return true;
        }
        if (!event) {
            return (mem.getU16(availGpa + RING_FLAGS) & VRING_AVAIL_F_NO_INTERRUPT) == 0;
        }
        int old = signalledUsed;
        boolean valid = signalledUsedValid;
        int now = lastUsedIdx;
        signalledUsed = now;
        signalledUsedValid = true;
        if (!valid) {
            return true;
        }
        int usedEvent = mem.getU16(availGpa + VirtioRing.usedEventOffset(num));
        return VirtioRing.vringNeedEvent(usedEvent, now, old);
    }

    /** Interrupts the driver if there is a call eventfd and {@link #vhostNotify} says so. */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_signal")
    public boolean signal() {
        if (call != null && vhostNotify()) {
            interrupts++;
            call.run();
            return true;
        }
        return false;
    }

    /**
     * Asks the driver to kick again; returns true if buffers arrived meanwhile (the caller should
     * {@link #disableNotify} and process them). False also if notifications were not disabled.
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_enable_notify")
    public boolean enableNotify() {
        if ((usedFlags & VRING_USED_F_NO_NOTIFY) == 0) {
            return false;
        }
        usedFlags &= ~VRING_USED_F_NO_NOTIFY;
        if (!event) {
            mem.putU16(usedGpa + RING_FLAGS, usedFlags);
        } else {
            mem.putU16(usedGpa + VirtioRing.availEventOffset(num), availIdx);
        }
        // smp_mb: publish the request before re-reading avail.idx. Paired with fullFence() in
        // VirtqueueSplit.kickPrepare().
        VarHandle.fullFence();
        int r = getAvailIdx();
        return r > 0;
    }

    /** Tells the driver not to kick (only the flag is written, and only without EVENT_IDX). */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_disable_notify")
    public void disableNotify() {
        if ((usedFlags & VRING_USED_F_NO_NOTIFY) != 0) {
            return;
        }
        usedFlags |= VRING_USED_F_NO_NOTIFY;
        if (!event) {
            mem.putU16(usedGpa + RING_FLAGS, usedFlags);
        }
    }

    /**
     * True if a handler has done its share: {@code pkts >= weight} or, with a byte weight,
     * {@code totalLen >= byteWeight} (vsock: 256 packets, 0x80000 bytes). The caller requeues itself.
     */
    @Linux(file = "drivers/vhost/vhost.c", fn = "vhost_exceeds_weight")
    public static boolean exceedsWeight(int pkts, long totalLen, int weight, long byteWeight) {
        return (byteWeight != 0 && totalLen >= byteWeight) || pkts >= weight;
    }

    // ---- errors and state ---------------------------------------------------------------------------

    /** Records a {@code vq_err} and returns its {@code -errno}. */
    @Linux(file = "drivers/vhost/vhost.h", fn = "vq_err")
    private int vqErr(VringError e) {
        errors++;
        errorCounts[e.ordinal()]++;
        lastError = e;
        // The kernel's vq_err is a pr_debug; a peer can repeat it at will, so it stays at DEBUG.
        if (LOG.isDebugEnabled()) {
            LOG.debug("vq_err {} at last_avail_idx {}", e, lastAvailIdx);
        }
        return -VringError.errno(e);
    }

    /** Number of {@code vq_err} reports so far. */
    public long errors() {
        return errors;
    }

    /** Reports of one reason. */
    public long errors(VringError e) {
        return errorCounts[e.ordinal()];
    }

    /** The latest reason, or null. */
    public VringError lastError() {
        return lastError;
    }

    /** Interrupts delivered through the call eventfd. */
    public long interrupts() {
        return interrupts;
    }

    /** Chains fetched successfully. */
    public long descsFetched() {
        return descsFetched;
    }

    /** Used entries published. */
    public long usedAdded() {
        return usedAdded;
    }

    /** Queue size, 0 until set. */
    public int num() {
        return num;
    }

    /** Next avail entry the device will take (u16). */
    public int lastAvailIdx() {
        return lastAvailIdx;
    }

    /** The cached avail.idx (u16). */
    public int availIdx() {
        return availIdx;
    }

    /** Next used entry the device will write (u16). */
    public int lastUsedIdx() {
        return lastUsedIdx;
    }

    /** Guest-physical address of the descriptor table ({@code vq->desc}); 0 until set. */
    public long descGpa() {
        return descGpa;
    }

    /** Guest-physical address of the avail ring ({@code vq->avail}); 0 until set. */
    public long availGpa() {
        return availGpa;
    }

    /** Guest-physical address of the used ring ({@code vq->used}); 0 until set. */
    public long usedGpa() {
        return usedGpa;
    }

    /** True while a backend is attached. */
    public boolean hasBackend() {
        return backend;
    }
}
