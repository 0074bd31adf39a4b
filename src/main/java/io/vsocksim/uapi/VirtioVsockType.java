package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** {@code enum virtio_vsock_type}: the {@code type} field of the packet header. */
@Linux(file = "include/uapi/linux/virtio_vsock.h", fn = "enum virtio_vsock_type")
public enum VirtioVsockType {
    VIRTIO_VSOCK_TYPE_STREAM(1),
    VIRTIO_VSOCK_TYPE_SEQPACKET(2);

    private final int value;

    VirtioVsockType(int value) {
        this.value = value;
    }

    /** The wire value. */
    public int value() {
        return value;
    }

    /** The type with wire value {@code v}, or {@code null} (the kernel answers such packets with RST). */
    public static VirtioVsockType fromWire(int v) {
        switch (v) {
            case 1:
                return VIRTIO_VSOCK_TYPE_STREAM;
            case 2:
                return VIRTIO_VSOCK_TYPE_SEQPACKET;
            default:
                return null;
        }
    }
}
