package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EACCES;
import static io.vsocksim.uapi.Errno.EADDRINUSE;
import static io.vsocksim.uapi.Errno.EADDRNOTAVAIL;
import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ESOCKTNOSUPPORT;
import static io.vsocksim.uapi.VmSockets.LAST_RESERVED_PORT;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.uapi.VmSockets.VMADDR_FLAG_TO_HOST;
import static io.vsocksim.uapi.VmSockets.VMADDR_PORT_ANY;

import io.vsocksim.Linux;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.U32;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The af_vsock core of one machine: what af_vsock.c keeps in globals — the registered transports
 * ({@code transport_h2g}, {@code transport_g2h}, {@code transport_local}), the bound and connected
 * hash tables with {@code vsock_table_lock}, and the ephemeral port counter — plus socket creation and
 * destruction.
 *
 * <p>Tables are the kernel's: {@value #VSOCK_HASH_SIZE} buckets of intrusive lists (links live in
 * {@link VsockSock}), bound bucket {@code port % 251} plus one extra list for unbound sockets,
 * connected bucket {@code (remote_cid ^ local_port) % 251}; lookups allocate nothing. Each table entry
 * holds a socket reference.
 */
public final class VsockCore {
    /** {@code VSOCK_HASH_SIZE}. */
    public static final int VSOCK_HASH_SIZE = 251;
    /** {@code MAX_PORT_RETRIES}. */
    public static final int MAX_PORT_RETRIES = 24;
    /** {@code VSOCK_DEFAULT_CONNECT_TIMEOUT}: 2 s in jiffies. */
    public static final long VSOCK_DEFAULT_CONNECT_TIMEOUT = 2L * io.vsocksim.kernel.Clock.HZ;

    private static final Logger LOG = LoggerFactory.getLogger(LoggerNames.AF_VSOCK);

    private final KernelContext kernel;
    private final AfVsockTap taps = new AfVsockTap();
    private final ReentrantLock registerMutex = new Mutex();
    private volatile VsockTransport transportH2g;
    private volatile VsockTransport transportG2h;
    private volatile VsockTransport transportLocal;

    /** {@code vsock_table_lock}. */
    private final ReentrantLock tableLock = new Mutex();
    private final VsockSock[] boundTable = new VsockSock[VSOCK_HASH_SIZE + 1];
    private final VsockSock[] connectedTable = new VsockSock[VSOCK_HASH_SIZE];
    /** The ephemeral port counter: u32, guarded by the table lock. */
    private int port;

    private final VsockCounters counters = new VsockCounters();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final AtomicInteger live = new AtomicInteger();
    /** Woken whenever a socket is destructed (lets tools wait for a machine to quiesce). */
    private final io.vsocksim.kernel.WaitQueueHead liveWait;
    private volatile Consumer<VsockSock> connectTimeoutFn = vsk -> { };
    private final ConcurrentHashMap<Class<?>, Object> attachments = new ConcurrentHashMap<>();

    /**
     * @param kernel the machine
     * @param portSeed seed of the ephemeral port counter, standing for the random u32 above 1023 the kernel
     *     draws once per boot ({@code __vsock_bind_connectible}); machines draw it per boot unless told one
     */
    public VsockCore(KernelContext kernel, long portSeed) {
        this.kernel = kernel;
        this.liveWait = new io.vsocksim.kernel.WaitQueueHead(kernel.clock());
        long span = 0xFFFF_FFFFL - LAST_RESERVED_PORT;
        this.port = (int) (LAST_RESERVED_PORT + 1 + Math.floorMod(portSeed, span));
    }

    /** The machine this core belongs to. */
    public KernelContext kernel() {
        return kernel;
    }

    /** The machine's vsockmon taps ({@code vsock_tap_all}). */
    public AfVsockTap taps() {
        return taps;
    }

    /** The machine's vsock counters. */
    public VsockCounters counters() {
        return counters;
    }

    /**
     * Per-machine state of a layer built on the core (e.g. the virtio transports' skb pool), created by
     * {@code factory} on first use; one instance per {@code key} and machine.
     */
    public <T> T attachment(Class<T> key, Supplier<T> factory) {
        // Lock-free get first: the capturing lambda below would be allocated on every call, and some
        // callers (the zerocopy policy) ask once per packet.
        Object v = attachments.get(key);
        if (v == null) {
            v = attachments.computeIfAbsent(key, k -> factory.get());
        }
        return key.cast(v);
    }

    /** Sets what a socket's connect timer runs (af_vsock's {@code vsock_connect_timeout}). */
    void connectTimeoutFn(Consumer<VsockSock> fn) {
        this.connectTimeoutFn = fn;
    }

    // ---- transports --------------------------------------------------------------------------------

    /** Mirrors vsock_core_register(): one transport per role; a taken role is {@code -EBUSY}. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_core_register")
    public int coreRegister(VsockTransport t, int features) {
        registerMutex.lock();
        try {
            if ((features & VsockTransport.VSOCK_TRANSPORT_F_H2G) != 0 && transportH2g != null
                    || (features & VsockTransport.VSOCK_TRANSPORT_F_G2H) != 0 && transportG2h != null
                    || (features & VsockTransport.VSOCK_TRANSPORT_F_LOCAL) != 0 && transportLocal != null) {
                return -EBUSY;
            }
            if ((features & VsockTransport.VSOCK_TRANSPORT_F_H2G) != 0) {
                transportH2g = t;
            }
            if ((features & VsockTransport.VSOCK_TRANSPORT_F_G2H) != 0) {
                transportG2h = t;
            }
            if ((features & VsockTransport.VSOCK_TRANSPORT_F_LOCAL) != 0) {
                transportLocal = t;
            }
            return 0;
        } finally {
            registerMutex.unlock();
        }
    }

    /** Mirrors vsock_core_unregister(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_core_unregister")
    public void coreUnregister(VsockTransport t) {
        registerMutex.lock();
        try {
            if (transportH2g == t) {
                transportH2g = null;
            }
            if (transportG2h == t) {
                transportG2h = null;
            }
            if (transportLocal == t) {
                transportLocal = null;
            }
        } finally {
            registerMutex.unlock();
        }
    }

    /** The registered guest-to-host transport, or null. */
    public VsockTransport transportG2h() {
        return transportG2h;
    }

    /** The registered host-to-guest transport, or null. */
    public VsockTransport transportH2g() {
        return transportH2g;
    }

    /** The registered local (loopback) transport, or null. */
    public VsockTransport transportLocal() {
        return transportLocal;
    }

    /** Mirrors vsock_use_local_transport(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_use_local_transport")
    private boolean useLocalTransport(int remoteCid) {
        if (transportLocal == null) {
            return false;
        }
        if (remoteCid == VMADDR_CID_LOCAL) {
            return true;
        }
        VsockTransport g2h = transportG2h;
        return g2h != null ? remoteCid == g2h.getLocalCid() : remoteCid == VMADDR_CID_HOST;
    }

    /**
     * Mirrors vsock_assign_transport(): picks the transport for {@code vsk}'s remote address, releases
     * a different one it had, checks SEQPACKET support, and runs the new transport's init. Socket lock
     * held.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_assign_transport")
    public int assignTransport(VsockSock vsk, VsockSock psk) {
        int remoteCid = vsk.remoteAddr.cid();
        if (psk != null && U32.lt(VMADDR_CID_HOST, vsk.localAddr.cid()) && U32.lt(VMADDR_CID_HOST, remoteCid)) {
            SockaddrVm r = vsk.remoteAddr;
            vsk.remoteAddr = new SockaddrVm(r.cid(), r.port(), r.flags() | VMADDR_FLAG_TO_HOST);
        }
        int remoteFlags = vsk.remoteAddr.flags();
        VsockTransport newTransport;
        registerMutex.lock();
        try {
            if (vsk.type != Sock.SOCK_STREAM && vsk.type != Sock.SOCK_SEQPACKET) {
                return -ESOCKTNOSUPPORT;
            }
            if (useLocalTransport(remoteCid)) {
                newTransport = transportLocal;
            } else if (U32.le(remoteCid, VMADDR_CID_HOST) || transportH2g == null
                    || (remoteFlags & VMADDR_FLAG_TO_HOST) != 0) {
                newTransport = transportG2h;
            } else {
                newTransport = transportH2g;
            }
            if (vsk.transport != null && vsk.transport == newTransport) {
                return 0;
            }
            if (newTransport == null) {
                return -ENODEV;
            }
        } finally {
            registerMutex.unlock();
        }
        if (vsk.transport != null) {
            // Only connect() gets here; the old transport's state goes and the socket starts clean.
            vsk.transport.release(vsk);
            deassignTransport(vsk);
            vsk.sockResetFlag(VsockSock.SOCK_DONE);
            vsk.setState(LOG, TcpState.TCP_CLOSE);
            vsk.peerShutdown = 0;
        }
        if (vsk.type == Sock.SOCK_SEQPACKET && !newTransport.seqpacketAllow(remoteCid)) {
            return -ESOCKTNOSUPPORT;
        }
        int ret = newTransport.init(vsk, psk);
        if (ret != 0) {
            return ret;
        }
        vsk.transport = newTransport;
        return 0;
    }

    /** Mirrors vsock_deassign_transport(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_deassign_transport")
    void deassignTransport(VsockSock vsk) {
        VsockTransport t = vsk.transport;
        if (t == null) {
            return;
        }
        t.destruct(vsk);
        vsk.transport = null;
    }

    /** Mirrors vsock_find_cid(): is {@code cid} one of this machine's own CIDs? */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_find_cid")
    public boolean findCid(int cid) {
        VsockTransport g2h = transportG2h;
        if (g2h != null && cid == g2h.getLocalCid()) {
            return true;
        }
        if (transportH2g != null && cid == VMADDR_CID_HOST) {
            return true;
        }
        return transportLocal != null && cid == VMADDR_CID_LOCAL;
    }

    /**
     * Mirrors vsock_check_source(): a packet for a non-listening socket must come over the socket's
     * transport from its peer (port always; CID too, except on loopback where sources are always 1).
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_check_source")
    public static boolean checkSource(VsockSock vsk, VsockTransport transport, int srcCid, int srcPort) {
        if (vsk.transport != transport) {
            return false;
        }
        SockaddrVm remote = vsk.remoteAddr;
        if (srcPort != remote.port()) {
            return false;
        }
        if (srcCid == remote.cid()) {
            return true;
        }
        return transport.getLocalCid() == VMADDR_CID_LOCAL;
    }

    // ---- socket life ------------------------------------------------------------------------------

    /**
     * Mirrors __vsock_create() for a new user socket (no parent) and puts it on the unbound list
     * (vsock_insert_unbound). The caller owns the returned socket's initial reference.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_create")
    public VsockSock create(int type, long capEffective) {
        VsockSock vsk = newSock(type, capEffective);
        vsk.connectTimeout = VSOCK_DEFAULT_CONNECT_TIMEOUT;
        vsk.bufferSize = VsockSock.VSOCK_DEFAULT_BUFFER_SIZE;
        vsk.bufferMinSize = VsockSock.VSOCK_DEFAULT_BUFFER_MIN_SIZE;
        vsk.bufferMaxSize = VsockSock.VSOCK_DEFAULT_BUFFER_MAX_SIZE;
        insertUnbound(vsk);
        return vsk;
    }

    /**
     * Mirrors vsock_create_connected(): a child for an incoming request; it copies the listener's
     * credentials, connect timeout and buffer sizes, nothing else. Not in any table yet.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_create_connected")
    public VsockSock createConnected(VsockSock parent) {
        VsockSock vsk = newSock(parent.type, parent.capEffective);
        vsk.connectTimeout = parent.connectTimeout;
        vsk.bufferSize = parent.bufferSize;
        vsk.bufferMinSize = parent.bufferMinSize;
        vsk.bufferMaxSize = parent.bufferMaxSize;
        return vsk;
    }

    private VsockSock newSock(int type, long cap) {
        live.incrementAndGet();
        VsockSock[] self = new VsockSock[1];
        VsockSock vsk = new VsockSock(this, type, nextId.getAndIncrement(), cap, () -> connectTimeoutFn.accept(self[0]));
        self[0] = vsk;
        return vsk;
    }

    /** Mirrors vsock_sk_destruct(): the last reference is gone. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_sk_destruct")
    void destruct(VsockSock vsk) {
        UbufInfoMsgzc.purgeErrorQueue(vsk); // "Flush MSG_ZEROCOPY leftovers" (vsock_sk_destruct)
        deassignTransport(vsk);
        live.decrementAndGet();
        liveWait.wakeUp();
    }

    /**
     * Waits until at most {@code count} sockets are alive (SIM: a diagnostic for tools and tests).
     *
     * @return true if reached within {@code timeoutNanos} of the machine's clock
     */
    public boolean awaitLiveSockets(int count, long timeoutNanos) {
        return liveWait.waitEventInterruptibleTimeout(() -> live.get() <= count, timeoutNanos) > 0;
    }

    /** Sockets created and not yet destructed (a leak probe). */
    public int liveSockets() {
        return live.get();
    }

    /**
     * Mirrors vsock_enqueue_accept(): appends a ready child to the listener's accept queue (the queue
     * holds a reference to the child). Listener lock held.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_enqueue_accept")
    public void enqueueAccept(VsockSock listener, VsockSock connected) {
        assert listener.lock.isHeldByCurrentThread() : "lock_sock(listener)";
        connected.sockHold();
        connected.listener = listener;
        listener.acceptQueue.addLast(connected);
    }

    /**
     * Mirrors vsock_data_ready(): wakes readers only once {@code SO_RCVLOWAT} bytes are queued or the
     * connection is done.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_data_ready")
    public static void dataReady(VsockSock sk) {
        VsockTransport t = sk.transport;
        if (t != null && t.streamHasData(sk) >= sk.rcvlowat || sk.sockFlag(VsockSock.SOCK_DONE)) {
            sk.dataReady();
        }
    }

    // ---- tables -------------------------------------------------------------------------------------

    private static int boundHash(int port) {
        return (int) (U32.toLong(port) % VSOCK_HASH_SIZE);
    }

    private static int connHash(int remoteCid, int localPort) {
        return (int) (U32.toLong(remoteCid ^ localPort) % VSOCK_HASH_SIZE);
    }

    private void insertBoundLocked(int bucket, VsockSock vsk) {
        assert tableLock.isHeldByCurrentThread() : "vsock_table_lock";
        vsk.sockHold();
        vsk.boundBucket = bucket;
        vsk.boundPrev = null;
        vsk.boundNext = boundTable[bucket];
        if (vsk.boundNext != null) {
            vsk.boundNext.boundPrev = vsk;
        }
        boundTable[bucket] = vsk;
    }

    /** Unlinks from the bound table; returns true if it was there (the caller then drops the table's ref). */
    private boolean unlinkBoundLocked(VsockSock vsk) {
        assert tableLock.isHeldByCurrentThread() : "vsock_table_lock";
        if (vsk.boundBucket < 0) {
            return false;
        }
        if (vsk.boundPrev != null) {
            vsk.boundPrev.boundNext = vsk.boundNext;
        } else {
            boundTable[vsk.boundBucket] = vsk.boundNext;
        }
        if (vsk.boundNext != null) {
            vsk.boundNext.boundPrev = vsk.boundPrev;
        }
        vsk.boundBucket = -1;
        vsk.boundNext = null;
        vsk.boundPrev = null;
        return true;
    }

    private boolean unlinkConnectedLocked(VsockSock vsk) {
        assert tableLock.isHeldByCurrentThread() : "vsock_table_lock";
        if (vsk.connBucket < 0) {
            return false;
        }
        if (vsk.connPrev != null) {
            vsk.connPrev.connNext = vsk.connNext;
        } else {
            connectedTable[vsk.connBucket] = vsk.connNext;
        }
        if (vsk.connNext != null) {
            vsk.connNext.connPrev = vsk.connPrev;
        }
        vsk.connBucket = -1;
        vsk.connNext = null;
        vsk.connPrev = null;
        return true;
    }

    /** Mirrors vsock_insert_unbound(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_insert_unbound")
    private void insertUnbound(VsockSock vsk) {
        tableLock.lock();
        try {
            insertBoundLocked(VSOCK_HASH_SIZE, vsk);
        } finally {
            tableLock.unlock();
        }
    }

    /** Mirrors vsock_insert_connected(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_insert_connected")
    public void insertConnected(VsockSock vsk) {
        int bucket = connHash(vsk.remoteAddr.cid(), vsk.localAddr.port());
        tableLock.lock();
        try {
            vsk.sockHold();
            vsk.connBucket = bucket;
            vsk.connPrev = null;
            vsk.connNext = connectedTable[bucket];
            if (vsk.connNext != null) {
                vsk.connNext.connPrev = vsk;
            }
            connectedTable[bucket] = vsk;
        } finally {
            tableLock.unlock();
        }
    }

    /** Mirrors vsock_remove_bound(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_remove_bound")
    public void removeBound(VsockSock vsk) {
        boolean was;
        tableLock.lock();
        try {
            was = unlinkBoundLocked(vsk);
        } finally {
            tableLock.unlock();
        }
        if (was) {
            vsk.sockPut();
        }
    }

    /** Mirrors vsock_remove_connected(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_remove_connected")
    public void removeConnected(VsockSock vsk) {
        boolean was;
        tableLock.lock();
        try {
            was = unlinkConnectedLocked(vsk);
        } finally {
            tableLock.unlock();
        }
        if (was) {
            vsk.sockPut();
        }
    }

    /** Mirrors vsock_remove_sock(): the binding goes only when the socket is being released. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_remove_sock")
    public void removeSock(VsockSock vsk) {
        if (vsk.sockFlag(VsockSock.SOCK_DEAD)) {
            removeBound(vsk);
        }
        removeConnected(vsk);
    }

    /** True if {@code vsk} is in the connected table. */
    public boolean inConnectedTable(VsockSock vsk) {
        tableLock.lock();
        try {
            return vsk.connBucket >= 0;
        } finally {
            tableLock.unlock();
        }
    }

    /** Mirrors __vsock_find_bound_socket(); table lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_find_bound_socket")
    private VsockSock findBoundSocketLocked(int cid, int port) {
        assert tableLock.isHeldByCurrentThread() : "vsock_table_lock";
        for (VsockSock vsk = boundTable[boundHash(port)]; vsk != null; vsk = vsk.boundNext) {
            SockaddrVm local = vsk.localAddr;
            if (local.port() == port && (local.cid() == cid || local.cid() == VMADDR_CID_ANY || cid == VMADDR_CID_ANY)) {
                return vsk;
            }
        }
        return null;
    }

    /** Mirrors vsock_find_bound_socket(): the returned socket carries a reference for the caller. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_find_bound_socket")
    public VsockSock findBoundSocket(int cid, int port) {
        tableLock.lock();
        try {
            VsockSock vsk = findBoundSocketLocked(cid, port);
            if (vsk != null) {
                vsk.sockHold();
            }
            return vsk;
        } finally {
            tableLock.unlock();
        }
    }

    /**
     * Mirrors vsock_find_connected_socket(): matches the remote (src) address and the local port; the
     * destination CID is not compared. The returned socket carries a reference for the caller.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_find_connected_socket")
    public VsockSock findConnectedSocket(int srcCid, int srcPort, int dstPort) {
        tableLock.lock();
        try {
            for (VsockSock vsk = connectedTable[connHash(srcCid, dstPort)]; vsk != null; vsk = vsk.connNext) {
                SockaddrVm remote = vsk.remoteAddr;
                if (remote.cid() == srcCid && remote.port() == srcPort && vsk.localAddr.port() == dstPort) {
                    vsk.sockHold();
                    return vsk;
                }
            }
            return null;
        } finally {
            tableLock.unlock();
        }
    }

    /**
     * Mirrors __vsock_bind_connectible(): picks or checks the port and moves the socket from the
     * unbound list into its bound bucket. Socket lock held; takes the table lock.
     *
     * @return 0, -EADDRNOTAVAIL, -EACCES or -EADDRINUSE
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_bind_connectible")
    public int bindConnectible(VsockSock vsk, int cid, int requestedPort) {
        tableLock.lock();
        try {
            int chosen;
            if (requestedPort == VMADDR_PORT_ANY) {
                boolean found = false;
                chosen = 0;
                for (int i = 0; i < MAX_PORT_RETRIES; i++) {
                    if (port == VMADDR_PORT_ANY || U32.le(port, LAST_RESERVED_PORT)) {
                        port = LAST_RESERVED_PORT + 1;
                    }
                    chosen = port++;
                    if (findBoundSocketLocked(cid, chosen) == null) {
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    return -EADDRNOTAVAIL;
                }
            } else {
                if (U32.le(requestedPort, LAST_RESERVED_PORT)
                        && !io.vsocksim.kernel.Cred.capable(io.vsocksim.uapi.Capability.CAP_NET_BIND_SERVICE, vsk.capEffective)) {
                    return -EACCES;
                }
                if (findBoundSocketLocked(cid, requestedPort) != null) {
                    return -EADDRINUSE;
                }
                chosen = requestedPort;
            }
            vsk.localAddr = new SockaddrVm(cid, chosen);
            // The unbound-list entry's reference moves to the bound bucket (remove + insert in C).
            boolean was = unlinkBoundLocked(vsk);
            insertBoundLocked(boundHash(chosen), vsk);
            if (was) {
                vsk.sockPut();
            }
            return 0;
        } finally {
            tableLock.unlock();
        }
    }

    /**
     * Mirrors vsock_for_each_connected_socket(): runs {@code fn} on every connected socket of
     * {@code transport}. SIM: the kernel calls {@code fn} under the table lock; here the sockets are
     * collected first and {@code fn} runs without it (each holding a reference), so {@code fn} may take
     * socket locks.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_for_each_connected_socket")
    public void forEachConnectedSocket(VsockTransport transport, Consumer<VsockSock> fn) {
        List<VsockSock> found = new ArrayList<>();
        tableLock.lock();
        try {
            for (VsockSock head : connectedTable) {
                for (VsockSock vsk = head; vsk != null; vsk = vsk.connNext) {
                    if (vsk.transport == transport) {
                        vsk.sockHold();
                        found.add(vsk);
                    }
                }
            }
        } finally {
            tableLock.unlock();
        }
        for (VsockSock vsk : found) {
            try {
                fn.accept(vsk);
            } finally {
                vsk.sockPut();
            }
        }
    }
}
