package io.vsocksim.vsock.virtio;

import io.vsocksim.NotUpstream;
import io.vsocksim.vsock.VsockSock;

/**
 * A snapshot of one socket's virtio credit and receive-queue state ({@code struct virtio_vsock_sock}),
 * for users and tests. Linux 6.12.117 has no SIOCINQ for vsock and no sock_diag attribute for these
 * counters, so this view stands in for them (SIM).
 *
 * <p>u32 fields are Java {@code int}s with the kernel's wrapping; read them with
 * {@link Integer#toUnsignedLong} where the value may exceed 2^31 − 1.
 *
 * @param txCnt u32 {@code tx_cnt}: payload bytes ever granted credit
 * @param peerFwdCnt u32 {@code peer_fwd_cnt}: the peer's {@code fwd_cnt} from its last header
 * @param peerBufAlloc u32 {@code peer_buf_alloc}: the peer's window from its last header
 * @param bytesUnsent {@code bytes_unsent}: granted but not yet taken by the device or worker
 * @param fwdCnt u32 {@code fwd_cnt}: payload bytes of fully consumed skbs
 * @param lastFwdCnt u32 {@code last_fwd_cnt}: {@code fwd_cnt} as last advertised
 * @param rxBytes u32 {@code rx_bytes}: unread payload bytes
 * @param bufAlloc u32 {@code buf_alloc}: own receive window
 * @param bufUsed u32 {@code buf_used}: payload bytes held by queued skbs
 * @param rxQueueLen number of skbs in {@code rx_queue}
 * @param msgCount {@code msg_count}: complete SEQPACKET messages queued
 */
@NotUpstream("SIM diagnostic view of virtio_vsock_sock; no upstream counterpart in 6.12.117")
public record VirtioSockDiag(int txCnt, int peerFwdCnt, int peerBufAlloc, long bytesUnsent, int fwdCnt,
        int lastFwdCnt, int rxBytes, int bufAlloc, int bufUsed, int rxQueueLen, int msgCount) {

    /**
     * Takes a snapshot of {@code vsk}'s transport state under the socket lock, then {@code tx_lock}, then
     * {@code rx_lock} (the latter two are leaves and are taken one after the other, never nested), so
     * the values are consistent with each other: the receive path and every dequeue run under the
     * socket lock too. Must not be called by a thread that holds another socket's lock.
     *
     * @return the snapshot, or null if the socket has no virtio transport state (no transport yet,
     *     another transport, or already released)
     */
    public static VirtioSockDiag of(VsockSock vsk) {
        vsk.lockSock();
        try {
            if (!(vsk.trans instanceof VirtioVsockSock vvs)) {
                return null;
            }
            int txCnt;
            int peerFwdCnt;
            int peerBufAlloc;
            long bytesUnsent;
            vvs.txLock.lock();
            try {
                txCnt = vvs.txCnt;
                peerFwdCnt = vvs.peerFwdCnt;
                peerBufAlloc = vvs.peerBufAlloc;
                bytesUnsent = vvs.bytesUnsent;
            } finally {
                vvs.txLock.unlock();
            }
            vvs.rxLock.lock();
            try {
                return new VirtioSockDiag(txCnt, peerFwdCnt, peerBufAlloc, bytesUnsent, vvs.fwdCnt, vvs.lastFwdCnt,
                        vvs.rxBytes, vvs.bufAlloc, vvs.bufUsed, vvs.rxQueue.len(), vvs.msgCount);
            } finally {
                vvs.rxLock.unlock();
            }
        } finally {
            vsk.releaseSock();
        }
    }

    /**
     * Send credit as {@code virtio_transport_has_space} computes it: {@code min(peer_buf_alloc,
     * buf_alloc) − (tx_cnt − peer_fwd_cnt)}, at least 0.
     */
    public long credit() {
        long window = Math.min(Integer.toUnsignedLong(peerBufAlloc), Integer.toUnsignedLong(bufAlloc));
        long inFlight = Integer.toUnsignedLong(txCnt - peerFwdCnt);
        return Math.max(0, window - inFlight);
    }
}
