package io.vsocksim.uapi;

import io.vsocksim.NotUpstream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Flyweight over {@code struct virtio_vsock_usr_hdr} of the zerocopy receive RFC v1: the per-packet
 * entry that getsockopt(SO_VM_SOCKETS_ZEROCOPY) writes into page 0 of the user's mapping.
 *
 * <pre>
 *   0        4        8
 *   | length | flags  |     u32 each, little-endian (host order on x86-64), 8 bytes, packed
 * </pre>
 *
 * A header with {@code length == 0} ends the array when there is room for it. {@code flags} carries
 * the packet's SEQPACKET bits ({@link VirtioVsock#VIRTIO_VSOCK_SEQ_EOM}, {@code _EOR}).
 */
@NotUpstream("virtio/vsock zerocopy receive RFC v1 (struct virtio_vsock_usr_hdr)")
public final class VirtioVsockUsrHdr {
    /** sizeof(struct virtio_vsock_usr_hdr). */
    public static final int SIZE = 8;
    public static final int OFF_LENGTH = 0;
    public static final int OFF_FLAGS = 4;
    /** Entries that fit one 4 KiB header page. */
    public static final int PER_PAGE = 4096 / SIZE;

    /** A flyweight over nothing yet: {@link #wrap} it onto an entry before use. */
    public VirtioVsockUsrHdr() {
    }

    private static final VarHandle LE32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private ByteBuffer buf;
    private int base;

    /** Points at the entry starting at {@code offset}. */
    public VirtioVsockUsrHdr wrap(ByteBuffer buf, int offset) {
        if (offset < 0 || offset > buf.capacity() - SIZE) {
            throw new IndexOutOfBoundsException("user header does not fit: offset=" + offset + " capacity=" + buf.capacity());
        }
        this.buf = buf;
        this.base = offset;
        return this;
    }

    /** u32: payload bytes this entry describes. */
    public int length() {
        return (int) LE32.get(buf, base + OFF_LENGTH);
    }

    public VirtioVsockUsrHdr length(int v) {
        LE32.set(buf, base + OFF_LENGTH, v);
        return this;
    }

    /** u32: the packet's header flags. */
    public int flags() {
        return (int) LE32.get(buf, base + OFF_FLAGS);
    }

    public VirtioVsockUsrHdr flags(int v) {
        LE32.set(buf, base + OFF_FLAGS, v);
        return this;
    }
}
