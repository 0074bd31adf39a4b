package io.vsocksim.uapi;

import io.vsocksim.Linux;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Flyweight over {@code struct virtio_vsock_hdr}: the 44-byte, packed, little-endian header in front
 * of every virtio-vsock packet.
 *
 * <pre>
 *   0               8               16      20      24      28  30  32      36      40      44
 *   +---------------+---------------+-------+-------+-------+---+---+-------+-------+-------+
 *   |    src_cid    |    dst_cid    |src_prt|dst_prt|  len  |typ|op | flags |buf_alc|fwd_cnt|
 *   +---------------+---------------+-------+-------+-------+---+---+-------+-------+-------+
 *        u64             u64          u32     u32     u32   u16 u16   u32     u32     u32
 * </pre>
 *
 * <p>{@link #wrap} points the flyweight at a buffer and offset; every accessor is an absolute,
 * little-endian access that ignores the buffer's own byte order and position, so wrapping and reading
 * allocate nothing. One flyweight is reused per queue or per context, never per packet. It is not
 * thread-safe: each context owns its own.
 *
 * <p>u32 fields are returned as Java {@code int}s that wrap like C's u32 (compare them with
 * {@link U32}); u16 fields as non-negative ints; CIDs as {@code long} (u64 on the wire).
 */
@Linux(file = "include/uapi/linux/virtio_vsock.h", fn = "struct virtio_vsock_hdr")
public final class VirtioVsockHdr {
    /** sizeof(struct virtio_vsock_hdr); also VIRTIO_VSOCK_SKB_HEADROOM. */
    public static final int SIZE = 44;
    public static final int OFF_SRC_CID = 0;
    public static final int OFF_DST_CID = 8;
    public static final int OFF_SRC_PORT = 16;
    public static final int OFF_DST_PORT = 20;
    public static final int OFF_LEN = 24;
    public static final int OFF_TYPE = 28;
    public static final int OFF_OP = 30;
    public static final int OFF_FLAGS = 32;
    public static final int OFF_BUF_ALLOC = 36;
    public static final int OFF_FWD_CNT = 40;

    /** A flyweight over nothing yet: {@link #wrap} it onto a header before use. */
    public VirtioVsockHdr() {
    }

    private static final VarHandle LE16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private ByteBuffer buf;
    private int base;

    /**
     * Points this flyweight at the header starting at {@code offset} of {@code buf}.
     *
     * @return this, for chaining
     * @throws IndexOutOfBoundsException if fewer than {@link #SIZE} bytes follow {@code offset}
     */
    public VirtioVsockHdr wrap(ByteBuffer buf, int offset) {
        if (offset < 0 || offset > buf.capacity() - SIZE) {
            throw new IndexOutOfBoundsException("header does not fit: offset=" + offset + " capacity=" + buf.capacity());
        }
        this.buf = buf;
        this.base = offset;
        return this;
    }

    /** Copies the 44 bytes of {@code src} over this header (the two may live anywhere in their buffers). */
    public VirtioVsockHdr copyFrom(VirtioVsockHdr src) {
        buf.put(base, src.buf, src.base, SIZE);
        return this;
    }

    /** The wrapped buffer. */
    public ByteBuffer buffer() {
        return buf;
    }

    /** Offset of the header inside {@link #buffer()}. */
    public int offset() {
        return base;
    }

    public long srcCid() {
        return (long) LE64.get(buf, base + OFF_SRC_CID);
    }

    public VirtioVsockHdr srcCid(long v) {
        LE64.set(buf, base + OFF_SRC_CID, v);
        return this;
    }

    public long dstCid() {
        return (long) LE64.get(buf, base + OFF_DST_CID);
    }

    public VirtioVsockHdr dstCid(long v) {
        LE64.set(buf, base + OFF_DST_CID, v);
        return this;
    }

    /** u32. */
    public int srcPort() {
        return (int) LE32.get(buf, base + OFF_SRC_PORT);
    }

    public VirtioVsockHdr srcPort(int v) {
        LE32.set(buf, base + OFF_SRC_PORT, v);
        return this;
    }

    /** u32. */
    public int dstPort() {
        return (int) LE32.get(buf, base + OFF_DST_PORT);
    }

    public VirtioVsockHdr dstPort(int v) {
        LE32.set(buf, base + OFF_DST_PORT, v);
        return this;
    }

    /** Payload length, u32. */
    public int len() {
        return (int) LE32.get(buf, base + OFF_LEN);
    }

    public VirtioVsockHdr len(int v) {
        LE32.set(buf, base + OFF_LEN, v);
        return this;
    }

    /** Raw {@code type} (u16); see {@link VirtioVsockType#fromWire(int)}. */
    public int type() {
        return Short.toUnsignedInt((short) LE16.get(buf, base + OFF_TYPE));
    }

    public VirtioVsockHdr type(int v) {
        LE16.set(buf, base + OFF_TYPE, (short) v);
        return this;
    }

    /** Raw {@code op} (u16); see {@link VirtioVsockOp#fromWire(int)}. */
    public int op() {
        return Short.toUnsignedInt((short) LE16.get(buf, base + OFF_OP));
    }

    public VirtioVsockHdr op(int v) {
        LE16.set(buf, base + OFF_OP, (short) v);
        return this;
    }

    /** u32. */
    public int flags() {
        return (int) LE32.get(buf, base + OFF_FLAGS);
    }

    public VirtioVsockHdr flags(int v) {
        LE32.set(buf, base + OFF_FLAGS, v);
        return this;
    }

    /** u32, the sender's receive window. */
    public int bufAlloc() {
        return (int) LE32.get(buf, base + OFF_BUF_ALLOC);
    }

    public VirtioVsockHdr bufAlloc(int v) {
        LE32.set(buf, base + OFF_BUF_ALLOC, v);
        return this;
    }

    /** u32, wraps: bytes the sender's reader has released. */
    public int fwdCnt() {
        return (int) LE32.get(buf, base + OFF_FWD_CNT);
    }

    public VirtioVsockHdr fwdCnt(int v) {
        LE32.set(buf, base + OFF_FWD_CNT, v);
        return this;
    }

    /** Zeroes all 44 bytes. */
    public VirtioVsockHdr clear() {
        LE64.set(buf, base + OFF_SRC_CID, 0L);
        LE64.set(buf, base + OFF_DST_CID, 0L);
        LE64.set(buf, base + OFF_SRC_PORT, 0L);
        LE64.set(buf, base + OFF_LEN, 0L);
        LE64.set(buf, base + OFF_FLAGS, 0L);
        LE32.set(buf, base + OFF_FWD_CNT, 0);
        return this;
    }

    /** Copies the 44 header bytes to {@code dst} at {@code dstOffset} (the TOCTOU-safe snapshot). */
    public void copyTo(ByteBuffer dst, int dstOffset) {
        dst.put(dstOffset, buf, base, SIZE);
    }

    /** Human-readable form for logs and test failures (allocates; never call it per packet). */
    @Override
    public String toString() {
        if (buf == null) {
            return "VirtioVsockHdr{unwrapped}";
        }
        VirtioVsockOp o = VirtioVsockOp.fromWire(op());
        VirtioVsockType t = VirtioVsockType.fromWire(type());
        return "VirtioVsockHdr{" + srcCid() + ":" + U32.toString(srcPort()) + " -> " + dstCid() + ":"
                + U32.toString(dstPort()) + ", op=" + (o == null ? "?" + op() : o.name())
                + ", type=" + (t == null ? "?" + type() : t.name()) + ", len=" + U32.toString(len())
                + ", flags=0x" + Integer.toHexString(flags()) + ", buf_alloc=" + U32.toString(bufAlloc())
                + ", fwd_cnt=" + U32.toString(fwdCnt()) + "}";
    }
}
