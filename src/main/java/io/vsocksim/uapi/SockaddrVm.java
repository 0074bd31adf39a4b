package io.vsocksim.uapi;

import static io.vsocksim.uapi.Errno.EAFNOSUPPORT;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct sockaddr_vm} as a value: a CID, a port and the flags byte. CID and port are u32 in
 * Java {@code int}s ({@code -1} is {@link VmSockets#VMADDR_CID_ANY} / {@link VmSockets#VMADDR_PORT_ANY}).
 *
 * <p>The 16-byte C layout, host byte order (little-endian on x86-64), is available through
 * {@link #encode} and {@link #decode}:
 * <pre>
 *   0        2        4          8          12    13       16
 *   | family | rsvd1  |   port   |   cid    |flags| zero[3] |
 * </pre>
 *
 * @param cid   {@code svm_cid}, u32
 * @param port  {@code svm_port}, u32
 * @param flags {@code svm_flags}: 0 or {@link VmSockets#VMADDR_FLAG_TO_HOST}
 */
@Linux(file = "include/uapi/linux/vm_sockets.h", fn = "struct sockaddr_vm")
public record SockaddrVm(int cid, int port, int flags) {
    /** sizeof(struct sockaddr_vm). */
    public static final int SIZE = 16;

    /** An address without flags. */
    public SockaddrVm(int cid, int port) {
        this(cid, port, 0);
    }

    /** {@code svm_cid} as an unsigned value. */
    public long cidUnsigned() {
        return U32.toLong(cid);
    }

    /** {@code svm_port} as an unsigned value. */
    public long portUnsigned() {
        return U32.toLong(port);
    }

    /** Mirrors vsock_addr_bound(): bound iff the port is not VMADDR_PORT_ANY. */
    @Linux(file = "net/vmw_vsock/vsock_addr.c", fn = "vsock_addr_bound")
    public boolean isBound() {
        return port != VmSockets.VMADDR_PORT_ANY;
    }

    /** Mirrors vsock_addr_validate() for a decoded address: only VMADDR_FLAG_TO_HOST may be set. */
    @Linux(file = "net/vmw_vsock/vsock_addr.c", fn = "vsock_addr_validate")
    public int validate() {
        return (flags & ~VmSockets.VMADDR_FLAG_TO_HOST) != 0 ? -EINVAL : 0;
    }

    /** Writes the 16-byte C struct at {@code offset} (family AF_VSOCK, reserved and zero bytes 0). */
    public void encode(ByteBuffer dst, int offset) {
        ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(offset, (short) VmSockets.AF_VSOCK);
        b.putShort(offset + 2, (short) 0);
        b.putInt(offset + 4, port);
        b.putInt(offset + 8, cid);
        b.put(offset + 12, (byte) flags);
        b.put(offset + 13, (byte) 0).put(offset + 14, (byte) 0).put(offset + 15, (byte) 0);
    }

    /** The 16-byte C struct. */
    public byte[] toBytes() {
        byte[] out = new byte[SIZE];
        encode(ByteBuffer.wrap(out), 0);
        return out;
    }

    /**
     * Decodes and validates a user-supplied {@code struct sockaddr_vm} of {@code addrLen} bytes, as
     * vsock_addr_cast() and vsock_addr_validate() do: too short → {@code -EFAULT}; family other than
     * AF_VSOCK → {@code -EAFNOSUPPORT}; unknown flag bits → {@code -EINVAL}. (bind and connect turn
     * every such failure into EINVAL.)
     *
     * @param out receives the address on success ({@code out[0]})
     * @return 0 or -errno
     */
    @Linux(file = "net/vmw_vsock/vsock_addr.c", fn = "vsock_addr_cast")
    public static int decode(ByteBuffer src, int offset, int addrLen, SockaddrVm[] out) {
        if (addrLen < SIZE || src.capacity() - offset < SIZE) {
            return -EFAULT;
        }
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (Short.toUnsignedInt(b.getShort(offset)) != VmSockets.AF_VSOCK) {
            return -EAFNOSUPPORT;
        }
        SockaddrVm addr = new SockaddrVm(b.getInt(offset + 8), b.getInt(offset + 4), Byte.toUnsignedInt(b.get(offset + 12)));
        int rc = addr.validate();
        if (rc < 0) {
            return rc;
        }
        out[0] = addr;
        return 0;
    }

    @Override
    public String toString() {
        return U32.toString(cid) + ":" + U32.toString(port) + (flags != 0 ? " flags=0x" + Integer.toHexString(flags) : "");
    }
}
