package io.vsocksim.kernel;

/**
 * The SLF4J logger names of the kernel model, one per kernel source file: {@code vsocksim.} followed by
 * the file's path with {@code /} as {@code .} and without {@code .c}. Every Java class that models (part
 * of) a file logs through that file's name, so one name turns on one file's messages and the prefix
 * {@code vsocksim.net.vmw_vsock} turns on the whole socket layer. What each level shows is in
 * {@code docs/logging.md}.
 *
 * <p>Levels: DEBUG for events of one connection or one device (state changes, resets, dropped
 * packets, stopped rings, connect timeouts, transport resets), TRACE for every packet. Nothing a peer
 * can cause logs above DEBUG; {@link KernelWarnings} alone logs at WARN, for the kernel's
 * {@code WARN_ONCE}.
 */
public final class LoggerNames {
    /** The parent of every name below: one level for all of them. */
    public static final String ROOT = "vsocksim";
    /** The prefix every name below starts with. */
    public static final String PREFIX = ROOT + ".";
    /** net/vmw_vsock/af_vsock.c: socket state changes of the socket layer, connect timeouts. */
    public static final String AF_VSOCK = PREFIX + "net.vmw_vsock.af_vsock";
    /**
     * net/vmw_vsock/virtio_transport_common.c: state changes of the virtio transports, RSTs sent and
     * received, packets the receive path drops, and (TRACE) every packet sent or received.
     */
    public static final String VIRTIO_TRANSPORT_COMMON = PREFIX + "net.vmw_vsock.virtio_transport_common";
    /** net/vmw_vsock/virtio_transport.c: the guest driver's drops, transport resets and socket resets. */
    public static final String VIRTIO_TRANSPORT = PREFIX + "net.vmw_vsock.virtio_transport";
    /** drivers/vhost/vsock.c: vhost-vsock's drops, stopped queues and orphan resets. */
    public static final String VHOST_VSOCK = PREFIX + "drivers.vhost.vsock";
    /** drivers/vhost/vhost.c: every {@code vq_err} of a device-side ring. */
    public static final String VHOST = PREFIX + "drivers.vhost.vhost";
    /** drivers/virtio/virtio_ring.c: a driver-side ring marked broken ({@code BAD_RING}). */
    public static final String VIRTIO_RING = PREFIX + "drivers.virtio.virtio_ring";
    /**
     * The VMM's side of the device, QEMU's hw/virtio/vhost-vsock-common.c (not a kernel file): the
     * TRANSPORT_RESET events it sends, misses or drops.
     */
    public static final String VMM_VHOST_VSOCK = PREFIX + "qemu.hw.virtio.vhost_vsock_common";

    private LoggerNames() {
    }
}
