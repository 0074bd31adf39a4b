package io.vsocksim.vsock.virtio;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.vsock.VsockSock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct virtio_vsock_sock}: the per-socket credit and receive state of the virtio transports
 * ({@code vsk->trans}).
 *
 * <p>Created by {@code VirtioTransport.init} (do_socket_init), freed by {@code destruct}. Fields are
 * grouped by the lock that protects them; both locks are leaves (the spinlocks of the kernel): nothing
 * else is taken while one is held, and user copies happen with them dropped. u32 fields are Java
 * {@code int}s that wrap like the kernel's.
 */
@Linux(file = "include/linux/virtio_vsock.h", fn = "struct virtio_vsock_sock")
public final class VirtioVsockSock {
    /** Back pointer ({@code vvs->vsk}). */
    public final VsockSock vsk;
    /** {@code tx_lock}. */
    public final ReentrantLock txLock = new Mutex();
    /** {@code rx_lock}. */
    public final ReentrantLock rxLock = new Mutex();

    // ---- Protected by txLock ----
    /** u32, wraps: payload bytes ever granted credit. */
    public int txCnt;
    /** u32, wraps: the peer's {@code fwd_cnt} from its last header. */
    public int peerFwdCnt;
    /** u32: the peer's {@code buf_alloc} from its last header. */
    public int peerBufAlloc;
    /** Bytes granted credit but not yet taken by the device / worker ({@code size_t}). */
    public long bytesUnsent;

    // ---- Protected by rxLock (the queue also by the socket lock for collapse) ----
    /** u32, wraps: payload bytes of fully consumed skbs. */
    public int fwdCnt;
    /** u32, wraps: {@code fwd_cnt} as last advertised. */
    public int lastFwdCnt;
    /** u32: unread payload bytes. */
    public int rxBytes;
    /** u32: own receive window. */
    public int bufAlloc;
    /** u32: payload bytes held by queued skbs. */
    public int bufUsed;
    /** Received skbs; guarded by {@link #rxLock}, not by the queue's own lock. */
    public final SkbQueue rxQueue = new SkbQueue();
    /** u32: queued skbs carrying SEQ_EOM. */
    public int msgCount;

    /** Scratch list of the receive-queue collapse (socket lock held), reused to stay allocation-free. */
    final SkbQueue collapseQueue = new SkbQueue();

    VirtioVsockSock(VsockSock vsk) {
        this.vsk = vsk;
    }

    @Override
    public String toString() {
        return "VirtioVsockSock{tx_cnt=" + Integer.toUnsignedString(txCnt) + " peer_fwd_cnt=" + Integer.toUnsignedString(peerFwdCnt)
                + " peer_buf_alloc=" + Integer.toUnsignedString(peerBufAlloc) + " bytes_unsent=" + bytesUnsent
                + " fwd_cnt=" + Integer.toUnsignedString(fwdCnt) + " last_fwd_cnt=" + Integer.toUnsignedString(lastFwdCnt)
                + " rx_bytes=" + Integer.toUnsignedString(rxBytes) + " buf_alloc=" + Integer.toUnsignedString(bufAlloc)
                + " buf_used=" + Integer.toUnsignedString(bufUsed) + " rx_queue=" + rxQueue.len() + " msg_count=" + msgCount + "}";
    }
}
