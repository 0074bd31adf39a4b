package io.vsocksim.vsock.vhost;

import io.vsocksim.kernel.EnumCounters;

/**
 * What one vhost-vsock device did (SIM: vhost only logs through {@code vq_err}; these counters replace
 * per-packet logs and let tests see every drop). Lock-free, allocation-free.
 */
public final class VhostVsockCounters extends EnumCounters<VhostVsockCounters.Counter> {
    /** Counter indices. */
    public enum Counter {
        /** Guest→host packets accepted and handed to virtio_transport_recv_pkt. */
        TX_PKTS,
        /** Guest→host payload bytes accepted. */
        TX_BYTES,
        /** Host→guest RX buffers filled (fragments). */
        RX_PKTS,
        /** Host→guest payload bytes written into guest buffers. */
        RX_BYTES,
        /** Bytes the device copied between host and guest memory (headers and payload, both ways). */
        BYTES_COPIED,
        /** TX vq kicks from the driver. */
        TX_KICKS,
        /** RX vq kicks from the driver. */
        RX_KICKS,
        /** Guest RX buffers returned to the used ring. */
        RX_BUFS_USED,
        /** TX chains consumed but never returned: writable descriptor (vhost_vsock_alloc_skb). */
        DROP_TX_WRITABLE,
        /** TX chains consumed but never returned: length below 44 or above 65536 + 44. */
        DROP_TX_BAD_SIZE,
        /** TX chains consumed but never returned: {@code 44 + hdr.len} beyond the chain. */
        DROP_TX_BAD_HDR_LEN,
        /** TX chains consumed but never returned: no memory for the host skb. */
        DROP_TX_NOMEM,
        /** TX packets freed by the isolation check (src_cid not the guest's, or dst_cid not 2). */
        DROP_ISOLATION,
        /** Host packets dropped on a bad guest RX buffer (readable part or below 44 bytes); buffer kept. */
        DROP_RX_BAD_BUFFER,
        /** Packets refused by send_pkt because no instance has the destination CID. */
        DROP_NO_CID,
        /** vhost_get_vq_desc failures (the queue stalls on that chain). */
        VQ_ERRORS,
        /** TX runs stopped by queued_replies back-pressure. */
        TX_STOPPED_REPLIES,
        /** Handler runs that hit the weight and requeued themselves. */
        WEIGHT_REQUEUES,
        /** Host sockets reset by vhost_vsock_reset_orphans. */
        ORPHANS_RESET
    }

    /** All counters at zero. */
    public VhostVsockCounters() {
        super(Counter.class);
    }
}
