package io.vsocksim.vsock.guest;

import io.vsocksim.kernel.EnumCounters;

/**
 * What one guest virtio-vsock driver did (SIM: the kernel has no such counters; they replace per-packet
 * logs). Lock-free, allocation-free.
 */
public final class VirtioVsockCounters extends EnumCounters<VirtioVsockCounters.Counter> {
    /** Counter indices. */
    public enum Counter {
        /** Packets put on the TX vq. */
        TX_PKTS,
        /** Payload bytes put on the TX vq. */
        TX_BYTES,
        /** Packets that took the fast path. */
        TX_FAST_PATH,
        /** Packets that went through send_pkt_queue. */
        TX_QUEUED,
        /** TX buffers reclaimed by tx_work. */
        TX_RECLAIMED,
        /** Packets refused with ENODEV (no device, or to the guest's own CID). */
        TX_ENODEV,
        /** Packets handed to virtio_transport_recv_pkt. */
        RX_PKTS,
        /** Payload bytes received. */
        RX_BYTES,
        /** RX buffers posted to the device. */
        RX_BUFS_POSTED,
        /** RX buffers the device returned. */
        RX_BUFS_USED,
        /** RX buffers dropped: used length below 44 or beyond the buffer. */
        RX_DROP_SHORT_LONG,
        /** RX buffers dropped: {@code hdr.len > used len - 44}. */
        RX_DROP_BAD_LEN,
        /** RX buffers a refill could not allocate (the refill resumes after the next page free). */
        RX_FILL_NOMEM,
        /** RX work runs stopped by queued_replies back-pressure. */
        RX_STOPPED_REPLIES,
        /** Driver to device notifications (all queues). */
        KICKS,
        /** Device to driver interrupts (all queues). */
        INTERRUPTS,
        /** Event buffers the device returned. */
        EVENTS,
        /** TRANSPORT_RESET events handled. */
        TRANSPORT_RESETS,
        /** Sockets reset by virtio_vsock_reset_sock. */
        SOCKETS_RESET
    }

    /** All counters at zero. */
    public VirtioVsockCounters() {
        super(Counter.class);
    }
}
