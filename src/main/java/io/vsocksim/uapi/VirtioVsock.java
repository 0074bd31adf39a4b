package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * The remaining numbers of {@code include/uapi/linux/virtio_vsock.h} (flags, event queue, feature
 * bit, config space) and the device-level numbers the drivers use.
 */
@Linux(file = "include/uapi/linux/virtio_vsock.h", fn = "enum virtio_vsock_shutdown")
public final class VirtioVsock {
    /** OP_SHUTDOWN flag: the sender will receive no more. */
    public static final int VIRTIO_VSOCK_SHUTDOWN_RCV = 1;
    /** OP_SHUTDOWN flag: the sender will send no more (EOF for the receiver). */
    public static final int VIRTIO_VSOCK_SHUTDOWN_SEND = 2;
    /** Both shutdown bits. */
    public static final int VIRTIO_VSOCK_SHUTDOWN_MASK = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;

    /** OP_RW flag (SEQPACKET): last fragment of a message. */
    public static final int VIRTIO_VSOCK_SEQ_EOM = 1;
    /** OP_RW flag (SEQPACKET): message sent with MSG_EOR; set only together with EOM. */
    public static final int VIRTIO_VSOCK_SEQ_EOR = 2;

    /** {@code virtio_vsock_event.id}: the device lost all connections (e.g. after migration). */
    public static final int VIRTIO_VSOCK_EVENT_TRANSPORT_RESET = 0;
    /** sizeof(struct virtio_vsock_event): one __le32 id. */
    public static final int VIRTIO_VSOCK_EVENT_SIZE = 4;

    /** Feature bit: SOCK_SEQPACKET supported; the only vsock feature 6.12.117 defines. */
    public static final int VIRTIO_VSOCK_F_SEQPACKET = 1;

    /** Virtio device id of vsock (uapi virtio_ids.h). */
    public static final int VIRTIO_ID_VSOCK = 19;
    /** Offset of {@code __le64 guest_cid} in {@code struct virtio_vsock_config}. */
    public static final int VIRTIO_VSOCK_CONFIG_GUEST_CID = 0;

    /** Guest virtqueue numbers (include/linux/virtio_vsock.h: VSOCK_VQ_*). */
    public static final int VSOCK_VQ_RX = 0;
    public static final int VSOCK_VQ_TX = 1;
    public static final int VSOCK_VQ_EVENT = 2;
    public static final int VSOCK_VQ_MAX = 3;

    private VirtioVsock() {
    }
}
