package io.vsocksim.vsock.vhost;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;

import io.vsocksim.Linux;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockLog;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.VsockTransport;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's vhost transport ({@code static struct virtio_transport vhost_transport} of
 * drivers/vhost/vsock.c), registered as the machine's H2G transport (local CID 2), and the table of
 * {@link VhostVsock} instances by guest CID ({@code vhost_vsock_hash} with {@code vhost_vsock_mutex}).
 *
 * <p>SIM: the hash table is a copy-on-write array read without locks (the kernel's RCU hash); lookups
 * are a linear scan, allocation-free, fine for the handful of guests a test runs.
 */
@Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport")
public final class VhostTransport extends VirtioTransport {
    /** {@code VHOST_VSOCK_DEFAULT_HOST_CID}. */
    public static final int VHOST_VSOCK_DEFAULT_HOST_CID = 2;

    /** drivers/vhost/vsock.c's logger, shared with {@link VhostVsock}. */
    static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VHOST_VSOCK);

    /** {@code vhost_vsock_mutex}: guards writes of {@link #hash}. */
    final ReentrantLock vhostVsockMutex = new Mutex();
    /** {@code vhost_vsock_hash}: every instance with a CID. */
    volatile VhostVsock[] hash = new VhostVsock[0];

    private VhostTransport(VsockCore core) {
        super(core);
    }

    /**
     * {@code vhost_vsock_init()}: creates the transport and registers it as H2G.
     *
     * @throws IllegalStateException if the machine already has an H2G transport
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_init")
    public static VhostTransport register(VsockCore core) {
        VhostTransport t = new VhostTransport(core);
        int rc = core.coreRegister(t, VsockTransport.VSOCK_TRANSPORT_F_H2G);
        if (rc != 0) {
            throw new IllegalStateException("H2G transport already registered: rc=" + rc);
        }
        return t;
    }

    @Override
    public String name() {
        return "vhost";
    }

    @Override
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_get_local_cid")
    public int getLocalCid() {
        return VHOST_VSOCK_DEFAULT_HOST_CID;
    }

    /** The instance with {@code guestCid} (never one without a CID), or null. */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_get")
    public VhostVsock get(int guestCid) {
        for (VhostVsock v : hash) {
            int other = v.guestCid;
            if (other != 0 && other == guestCid) {
                return v;
            }
        }
        return null;
    }

    /**
     * SIM: asks the {@link UnboundRequestHook} of the guest the request came from (the vhost device with
     * {@code srcCid}), if its VMM installed one.
     */
    @Override
    protected int unboundRequestPort(int type, int srcCid, int srcPort, int dstPort) {
        VhostVsock v = get(srcCid);
        UnboundRequestHook hook = v == null ? null : v.unboundRequestHook();
        return hook == null ? VmSockets.VMADDR_PORT_ANY : hook.listenerPort(type, srcPort, dstPort);
    }

    /** Removes {@code vsock} from the table (release). */
    void unhash(VhostVsock vsock) {
        vhostVsockMutex.lock();
        try {
            VhostVsock[] h = hash;
            int at = Arrays.asList(h).indexOf(vsock);
            if (at >= 0) {
                VhostVsock[] n = new VhostVsock[h.length - 1];
                System.arraycopy(h, 0, n, 0, at);
                System.arraycopy(h, at + 1, n, at, h.length - at - 1);
                hash = n;
            }
        } finally {
            vhostVsockMutex.unlock();
        }
    }

    /** Runs {@link #resetOrphan} on every connected socket of this transport (release of {@code gone}). */
    void resetOrphans(VhostVsock gone) {
        core().forEachConnectedSocket(this, vsk -> {
            if (resetOrphan(vsk)) {
                gone.counters.inc(VhostVsockCounters.Counter.ORPHANS_RESET);
            }
        });
    }

    /**
     * A host socket whose guest is gone (and whose close timer is not pending) is finished: SOCK_DONE,
     * peer_shutdown 3, {@code sk_state = SS_UNCONNECTED} — numerically 1, i.e. TCP_ESTABLISHED, the
     * kernel's quirk kept as is — {@code sk_err = ECONNRESET}, error report. No socket lock, as in the
     * kernel.
     */
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_vsock_reset_orphans")
    private boolean resetOrphan(VsockSock vsk) {
        if (get(vsk.remoteAddr.cid()) != null) {
            return false;
        }
        if (vsk.closeWorkScheduled) {
            return false;
        }
        VsockLog.event(LOG, vsk, "reset", "the guest's device was released (ECONNRESET)");
        vsk.sockSetFlag(VsockSock.SOCK_DONE);
        vsk.peerShutdown = Sock.SHUTDOWN_MASK;
        vsk.setState(LOG, TcpState.TCP_ESTABLISHED); // SS_UNCONNECTED == 1 == TCP_ESTABLISHED
        vsk.skErr = Errno.ECONNRESET;
        vsk.errorReport();
        return true;
    }

    /**
     * Takes ownership of {@code skb}: queues it on the instance of its destination CID and schedules
     * the RX worker. Returns the payload length, or {@code -ENODEV} if no instance has that CID.
     */
    @Override
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_send_pkt")
    public int sendPkt(VsockSkb skb) {
        int len = skb.len();
        // le64 dst_cid passed to a u32 parameter: the upper half is dropped, as in the kernel.
        VhostVsock vsock = get((int) skb.hdr().dstCid());
        if (vsock == null) {
            VsockLog.drop(LOG, core().kernel().name(), "ENODEV", "no guest has the destination CID", skb.hdr());
            skb.kfreeSkb();
            return -Errno.ENODEV;
        }
        if (skb.isReply()) {
            vsock.queuedReplies.incrementAndGet();
        }
        vsock.sendPktQueue.queueTail(skb);
        core().kernel().systemWq().queueWork(vsock.sendPktWork);
        return len;
    }

    @Override
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_cancel_pkt")
    public int cancelPkt(VsockSock vsk) {
        VhostVsock vsock = get(vsk.remoteAddr.cid());
        if (vsock == null) {
            return -Errno.ENODEV;
        }
        int cnt = purgeSkbs(vsk, vsock.sendPktQueue);
        if (cnt != 0) {
            int num = vsock.vq(VSOCK_VQ_TX).num();
            int newCnt = vsock.queuedReplies.addAndGet(-cnt);
            if (newCnt + cnt >= num && newCnt < num) {
                core().kernel().systemWq().queueWork(vsock.txKickWork);
            }
        }
        return 0;
    }

    @Override
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_seqpacket_allow")
    public boolean seqpacketAllow(int remoteCid) {
        VhostVsock vsock = get(remoteCid);
        return vsock != null && vsock.seqpacketAllow;
    }

    @Override
    @Linux(file = "drivers/vhost/vsock.c", fn = "vhost_transport_msgzerocopy_allow")
    public boolean msgzerocopyAllow() {
        return true;
    }
}
