package io.vsocksim.vsock.loopback;


import io.vsocksim.Linux;
import io.vsocksim.NotUpstream;
import io.vsocksim.kernel.Work;
import io.vsocksim.kernel.WorkQueue;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.VsockTransport;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.ZerocopySetting;
import io.vsocksim.vsock.virtio.SkbQueue;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioTransportRecv;
import io.vsocksim.vsock.virtio.VirtioTransportZerocopy;
import io.vsocksim.vsock.virtio.VsockSkb;

/**
 * The loopback transport ({@code struct vsock_loopback} with its {@code loopback_transport}): packets
 * a socket sends to CID 1 (or to its own machine) are queued and delivered by a work item to
 * {@link VirtioTransportRecv#recvPkt} on the same transport. Skbs are never split or copied on the
 * way: the receiver gets the sender's skb.
 *
 * <p>One per machine ({@code the_vsock_loopback} is a field of the machine's core here, not a global).
 * {@link #pktQueue} is guarded by its own lock; the work runs on the machine's system work queue.
 */
@Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "struct vsock_loopback")
public final class VsockLoopback extends VirtioTransport {
    private final WorkQueue workqueue;
    private final SkbQueue pktQueue = new SkbQueue();
    /** The work's private list; the work never runs concurrently with itself. */
    private final SkbQueue pkts = new SkbQueue();
    private final Work pktWork;

    private VsockLoopback(VsockCore core) {
        super(core);
        // SIM: the kernel allocates a "vsock-loopback" workqueue; the machine's system_wq stands in.
        this.workqueue = core.kernel().systemWq();
        this.pktWork = new Work("vsock-loopback", this::work);
    }

    /**
     * {@code vsock_loopback_init()}: creates the machine's loopback transport and registers it as the
     * local transport.
     *
     * @throws IllegalStateException if the machine already has a local transport
     */
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_init")
    public static VsockLoopback register(VsockCore core) {
        VsockLoopback t = new VsockLoopback(core);
        int rc = core.coreRegister(t, VsockTransport.VSOCK_TRANSPORT_F_LOCAL);
        if (rc != 0) {
            throw new IllegalStateException("local transport already registered: rc=" + rc);
        }
        return t;
    }

    /** {@code vsock_loopback_exit()}: unregisters, waits for the work, drops queued packets. */
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_exit")
    public void unregister() {
        core().coreUnregister(this);
        pktWork.flush();
        pktQueue.purge();
    }

    @Override
    public String name() {
        return "loopback";
    }

    @Override
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_get_local_cid")
    public int getLocalCid() {
        return VmSockets.VMADDR_CID_LOCAL;
    }

    /** Queues {@code skb} for the worker. Takes ownership of {@code skb}; returns its payload length. */
    @Override
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_send_pkt")
    public int sendPkt(VsockSkb skb) {
        int len = skb.len();
        pktQueue.queueTail(skb);
        workqueue.queueWork(pktWork);
        return len;
    }

    @Override
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_cancel_pkt")
    public int cancelPkt(VsockSock vsk) {
        purgeSkbs(vsk, pktQueue);
        return 0;
    }

    @Override
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_seqpacket_allow")
    public boolean seqpacketAllow(int remoteCid) {
        return true;
    }

    @Override
    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_msgzerocopy_allow")
    public boolean msgzerocopyAllow() {
        return true;
    }

    /**
     * Zerocopy receive: the receiver of a loopback packet is on this machine and maps the sender's
     * pages, so the sender allocates the payload as the machine's {@link ZerocopyPolicy} says.
     */
    @Override
    @NotUpstream("virtio/vsock zerocopy RX RFC: page-backed packets")
    protected VsockSkb allocTxSkb(int payloadLen) {
        return VirtioTransportZerocopy.allocPacket(pool(), ZerocopySetting.policy(core()), payloadLen);
    }

    /** Packets queued and not yet delivered (tests, diagnostics). */
    public int queued() {
        pktQueue.lock.lock();
        try {
            return pktQueue.len();
        } finally {
            pktQueue.lock.unlock();
        }
    }

    @Linux(file = "net/vmw_vsock/vsock_loopback.c", fn = "vsock_loopback_work")
    private void work() {
        pktQueue.lock.lock();
        try {
            pktQueue.spliceInitLocked(pkts);
        } finally {
            pktQueue.lock.unlock();
        }
        VsockSkb skb;
        while ((skb = pkts.dequeueLocked()) != null) {
            // The receiver frees the skb; only the sender's unsent count moves here.
            consumeSkbSent(skb, false);
            deliverTapPkt(skb);
            VirtioTransportRecv.recvPkt(this, skb);
        }
    }
}
