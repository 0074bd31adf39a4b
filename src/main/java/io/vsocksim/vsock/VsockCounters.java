package io.vsocksim.vsock;

import io.vsocksim.uapi.VirtioVsockOp;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What a machine's vsock stack paid for, counted where it happens (SIM: the kernel keeps most of
 * this only in tracepoints). Updated on the hot path without allocation; read by tests, the
 * benchmark and the CLI.
 */
public final class VsockCounters extends io.vsocksim.kernel.EnumCounters<VsockCounters.Counter> {
    /** Counter indices. */
    public enum Counter {
        /** Payload bytes copied from user buffers into packets (send side, copy 1). */
        BYTES_COPIED_FROM_USER,
        /** Payload bytes sent from pinned user pages instead (MSG_ZEROCOPY, send side). */
        BYTES_PINNED_FROM_USER,
        /** Payload bytes copied from packets into user buffers (receive side, copy 3). */
        BYTES_COPIED_TO_USER,
        /**
         * Data pages inserted into user mappings by zerocopy receive (RFC, not upstream); pages whose
         * bytes had to be copied first also count in {@link #BYTES_COPIED_TO_USER}.
         */
        PAGES_MAPPED,
        /** Payload bytes copied by a device between memories (vhost, copy 2). */
        BYTES_COPIED_BY_DEVICE,
        /** Packets handed to a transport's send_pkt. */
        PKTS_SENT,
        /** Packets handed to virtio_transport_recv_pkt. */
        PKTS_RECEIVED,
        /** Payload bytes sent in OP_RW packets. */
        BYTES_SENT,
        /** Payload bytes received in OP_RW packets (enqueued). */
        BYTES_RECEIVED,
        /** OP_CREDIT_UPDATE packets sent. */
        CREDIT_UPDATES_SENT,
        /** OP_RST packets sent (any cause). */
        RST_SENT,
        /**
         * Packets virtio_transport_recv_pkt dropped before dispatch because no usable socket took them:
         * a type other than STREAM/SEQPACKET, no connected or bound socket, a socket of the other type,
         * a socket already DONE or failing the source check. Each is answered through reset_no_sock
         * (which stays silent for an RST), so the kernel's only trace is the RST it sends.
         */
        DROP_NO_SOCK,
        /** Connections reset because a packet did not fit (ENOBUFS). */
        RX_OVERFLOW_RESETS,
        /** Small payloads merged into the tail packet of a receive queue. */
        RX_MERGES,
        /** Receive-queue collapse runs. */
        RX_COLLAPSES,
        /** Packets dropped with no reply (wrong state, bad op in a connected state). */
        PKTS_DROPPED
    }

    private static final VirtioVsockOp[] OPS = VirtioVsockOp.values();
    private final AtomicLongArray sentByOp = new AtomicLongArray(OPS.length);
    private final AtomicLongArray receivedByOp = new AtomicLongArray(OPS.length);

    /** All counters at zero. */
    public VsockCounters() {
        super(Counter.class);
    }

    /** Counts a packet of wire op {@code op} handed to send_pkt. */
    public void sent(int op) {
        inc(Counter.PKTS_SENT);
        if (op >= 0 && op < OPS.length) {
            sentByOp.incrementAndGet(op);
        }
    }

    /** Counts a packet of wire op {@code op} received. */
    public void received(int op) {
        inc(Counter.PKTS_RECEIVED);
        if (op >= 0 && op < OPS.length) {
            receivedByOp.incrementAndGet(op);
        }
    }

    /** Packets sent with {@code op}. */
    public long sent(VirtioVsockOp op) {
        return sentByOp.get(op.value());
    }

    /** Packets received with {@code op}. */
    public long received(VirtioVsockOp op) {
        return receivedByOp.get(op.value());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(super.toString());
        sb.setLength(sb.length() - 1);
        sb.append(", ");
        for (VirtioVsockOp op : OPS) {
            sb.append("sent_").append(op.name().substring("VIRTIO_VSOCK_OP_".length()).toLowerCase(java.util.Locale.ROOT))
                    .append('=').append(sent(op)).append(", ");
        }
        sb.setLength(sb.length() - 2);
        return sb.append('}').toString();
    }
}
