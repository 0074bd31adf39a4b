package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** {@code enum virtio_vsock_op}: the {@code op} field of the packet header, with the kernel's numbers. */
@Linux(file = "include/uapi/linux/virtio_vsock.h", fn = "enum virtio_vsock_op")
public enum VirtioVsockOp {
    VIRTIO_VSOCK_OP_INVALID(0),
    /** Connection request; creates a child socket on a listener. */
    VIRTIO_VSOCK_OP_REQUEST(1),
    /** Accepts a connection request. */
    VIRTIO_VSOCK_OP_RESPONSE(2),
    /** Reset; never answered with another RST. */
    VIRTIO_VSOCK_OP_RST(3),
    /** Half or full close; direction in {@code flags}. */
    VIRTIO_VSOCK_OP_SHUTDOWN(4),
    /** Data. */
    VIRTIO_VSOCK_OP_RW(5),
    /** Carries only buf_alloc/fwd_cnt. */
    VIRTIO_VSOCK_OP_CREDIT_UPDATE(6),
    /** Asks the peer for a CREDIT_UPDATE; Linux never sends it. */
    VIRTIO_VSOCK_OP_CREDIT_REQUEST(7);

    private static final VirtioVsockOp[] BY_VALUE = values();

    private final int value;

    VirtioVsockOp(int value) {
        this.value = value;
    }

    /** The wire value. */
    public int value() {
        return value;
    }

    /** The op with wire value {@code v}, or {@code null} for an unknown value (a peer may send any u16). */
    public static VirtioVsockOp fromWire(int v) {
        return v >= 0 && v < BY_VALUE.length ? BY_VALUE[v] : null;
    }
}
