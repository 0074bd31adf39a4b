package io.vsocksim.vsock.guest;

import io.vsocksim.Linux;
import io.vsocksim.virtio.VringAddrs;

/**
 * What the guest driver sees of its virtio-vsock device: the {@code virtio_config_ops} of the transport
 * (PCI or MMIO) plus the device's config space. The VMM that backs the device (in the simulator:
 * {@code io.vsocksim.sim}, wiring the queues to the host's vhost-vsock) implements it.
 *
 * <p>SIM: the virtio core's probe sequence (status bits, feature negotiation, {@code find_vqs}) is
 * collapsed into these few calls; ring memory is allocated by the driver from guest pages and handed
 * over with {@link #setupVq}.
 */
@Linux(file = "include/linux/virtio_config.h", fn = "struct virtio_config_ops")
public interface VirtioVsockDevice {
    /** Feature bits the device offers ({@code get_features}). */
    long deviceFeatures();

    /** The driver accepted {@code features} (subset of the offer); {@code finalize_features}. */
    void finalizeFeatures(long features);

    /** Writes the device status byte ({@code set_status}). */
    void setStatus(int status);

    /** Reads {@code virtio_vsock_config.guest_cid} (u64 little-endian in config space). */
    long readGuestCid();

    /**
     * Tells the device where queue {@code index} lives (rx 0, tx 1, event 2); {@code find_vqs}. Returns
     * 0 or {@code -errno}.
     */
    int setupVq(int index, VringAddrs addrs);

    /** Notifies the device that queue {@code index} has new buffers ({@code vq->notify}). */
    boolean notify(int index);

    /** {@code virtio_reset_device}: the device stops using every queue. */
    void reset();

    /** {@code del_vqs}: the device forgets the queues. */
    void delVqs();
}
