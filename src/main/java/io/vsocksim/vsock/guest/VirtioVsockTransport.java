package io.vsocksim.vsock.guest;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.VsockTransport;
import io.vsocksim.vsock.guest.VirtioVsockCounters.Counter;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest's virtio transport ({@code static struct virtio_transport virtio_transport} of
 * virtio_transport.c), registered as the machine's G2H transport, and the driver entry points
 * ({@code virtio_vsock_probe} / {@code virtio_vsock_remove}). {@link #theVirtioVsock} is the kernel's
 * RCU pointer {@code the_virtio_vsock}: null while no device is bound.
 */
@Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport")
public final class VirtioVsockTransport extends VirtioTransport {
    /**
     * Features the driver accepts: its feature table ({@code VIRTIO_VSOCK_F_SEQPACKET}) plus what the
     * virtio core and ring support (VERSION_1, EVENT_IDX, INDIRECT_DESC).
     */
    public static final long DRIVER_FEATURES = (1L << io.vsocksim.uapi.VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET)
            | (1L << VirtioRing.VIRTIO_F_VERSION_1) | (1L << VirtioRing.VIRTIO_RING_F_EVENT_IDX)
            | (1L << VirtioRing.VIRTIO_RING_F_INDIRECT_DESC);

    /** {@code the_virtio_vsock_mutex}. */
    private final ReentrantLock theVirtioVsockMutex = new Mutex();
    private volatile VirtioVsock theVirtioVsock;

    private VirtioVsockTransport(VsockCore core) {
        super(core);
    }

    /**
     * {@code virtio_vsock_init()}: creates the transport and registers it as G2H on {@code core}.
     *
     * @throws IllegalStateException if the machine already has a G2H transport
     */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_init")
    public static VirtioVsockTransport register(VsockCore core) {
        VirtioVsockTransport t = new VirtioVsockTransport(core);
        int rc = core.coreRegister(t, VsockTransport.VSOCK_TRANSPORT_F_G2H);
        if (rc != 0) {
            throw new IllegalStateException("G2H transport already registered: rc=" + rc);
        }
        return t;
    }

    /** {@code virtio_vsock_exit()}: unregisters (the device must be removed first). */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_exit")
    public void unregister() {
        core().coreUnregister(this);
    }

    /**
     * Binds the driver to {@code vdev}: negotiates features, creates and starts the queues. Returns
     * 0, {@code -EBUSY} if a device is already bound, or the queue setup error.
     */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_probe")
    public int probe(VirtioVsockDevice vdev, int queueSize) {
        theVirtioVsockMutex.lock();
        try {
            if (theVirtioVsock != null) {
                return -Errno.EBUSY;
            }
            VirtioVsock vsock = new VirtioVsock(this, vdev, queueSize, DRIVER_FEATURES);
            int ret = vsock.allocEventList();
            if (ret < 0) {
                // The kernel's probe frees what it took on this path (kfree of the vsock); here that
                // includes the indirect tables the constructor took.
                vsock.freeRings();
                return ret;
            }
            ret = vsock.vqsInit();
            if (ret < 0) {
                return ret;
            }
            theVirtioVsock = vsock;
            vsock.vqsStart();
            return 0;
        } finally {
            theVirtioVsockMutex.unlock();
        }
    }

    /** Unbinds the device: resets sockets, tears the queues down, flushes the works, frees everything. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_vsock_remove")
    public void remove() {
        theVirtioVsockMutex.lock();
        try {
            VirtioVsock vsock = theVirtioVsock;
            if (vsock == null) {
                return;
            }
            theVirtioVsock = null;
            vsock.vqsDel();
            vsock.txWork.flush();
            vsock.eventWork.flush();
            vsock.sendPktWork.flush();
            vsock.rxWork.flush();
            vsock.freeRings();
        } finally {
            theVirtioVsockMutex.unlock();
        }
    }

    /** The bound device, or null. */
    public VirtioVsock device() {
        return theVirtioVsock;
    }

    @Override
    public String name() {
        return "virtio";
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_get_local_cid")
    public int getLocalCid() {
        VirtioVsock vsock = theVirtioVsock;
        return vsock == null ? VmSockets.VMADDR_CID_ANY : vsock.guestCid;
    }

    /**
     * Takes ownership of {@code skb}: onto the TX vq at once if nothing is queued and {@code tx_lock} is
     * free, else onto {@code send_pkt_queue} for the send worker. Returns the payload length or
     * {@code -ENODEV} (no device, or addressed to this guest's own CID).
     */
    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_send_pkt")
    public int sendPkt(VsockSkb skb) {
        int len = skb.len();
        VirtioVsock vsock = theVirtioVsock;
        if (vsock == null || skb.hdr().dstCid() == Integer.toUnsignedLong(vsock.guestCid)) {
            if (vsock != null) {
                vsock.counters.inc(Counter.TX_ENODEV);
            }
            VsockLog.drop(VirtioVsock.LOG, core().kernel().name(), vsock != null ? Counter.TX_ENODEV.name() : "ENODEV",
                    vsock != null ? "addressed to the guest's own CID" : "no virtio-vsock device", skb.hdr());
            skb.kfreeSkb();
            return -Errno.ENODEV;
        }
        if (!vsock.sendPktQueue.isEmpty() || sendSkbFastPath(vsock, skb) != 0) {
            if (skb.isReply()) {
                vsock.queuedReplies.incrementAndGet();
            }
            vsock.counters.inc(Counter.TX_QUEUED);
            vsock.sendPktQueue.queueTail(skb);
            core().kernel().systemWq().queueWork(vsock.sendPktWork);
        } else {
            vsock.counters.inc(Counter.TX_FAST_PATH);
        }
        return len;
    }

    /** Try-locks {@code tx_lock}, adds, kicks. 0 if the vq took the skb, else {@code -errno}. */
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_send_skb_fast_path")
    private static int sendSkbFastPath(VirtioVsock vsock, VsockSkb skb) {
        if (!vsock.txLock.tryLock()) {
            return -Errno.EBUSY;
        }
        try {
            int ret = vsock.sendSkb(skb);
            if (ret == 0) {
                vsock.vqs[io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX].kick();
            }
            return ret;
        } finally {
            vsock.txLock.unlock();
        }
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_cancel_pkt")
    public int cancelPkt(VsockSock vsk) {
        VirtioVsock vsock = theVirtioVsock;
        if (vsock == null) {
            return -Errno.ENODEV;
        }
        int cnt = purgeSkbs(vsk, vsock.sendPktQueue);
        if (cnt != 0) {
            int size = vsock.vqs[VSOCK_VQ_RX].size();
            int newCnt = vsock.queuedReplies.addAndGet(-cnt);
            if (newCnt + cnt >= size && newCnt < size) {
                core().kernel().systemWq().queueWork(vsock.rxWork);
            }
        }
        return 0;
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_seqpacket_allow")
    public boolean seqpacketAllow(int remoteCid) {
        VirtioVsock vsock = theVirtioVsock;
        return vsock != null && vsock.seqpacketAllow;
    }

    /**
     * The TX vq must be able to hold the whole packet ({@code bufsNum} buffers: header plus one per
     * page), or a packet larger than the ring would be requeued forever. SIM: {@code num_max} is the
     * configured queue size (the simulated device offers no larger one).
     */
    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_can_msgzerocopy")
    protected boolean canMsgzerocopy(int bufsNum) {
        VirtioVsock vsock = theVirtioVsock;
        return vsock != null && bufsNum <= vsock.vqs[io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX].size();
    }

    @Override
    @Linux(file = "net/vmw_vsock/virtio_transport.c", fn = "virtio_transport_msgzerocopy_allow")
    public boolean msgzerocopyAllow() {
        return true;
    }
}
