package io.vsocksim.user.bridge;

import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockAddress;
import io.vsocksim.vsock.vhost.UnboundRequestHook;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * Guest-initiated connections, as Firecracker docs/vsock.md describes them: a guest's {@code connect(2, P)}
 * reaches the program listening on the Unix socket {@code <path>_<P>}, or is reset when nobody listens
 * there.
 *
 * <p>How the bridge learns of the request: the host kernel consults this object, as the guest device's
 * {@link UnboundRequestHook}, when a REQUEST from the guest finds no socket on the host (where Linux
 * would answer RST). On that kernel thread it connects to {@code <path>_<P>} without blocking, as
 * Firecracker's {@code handle_peer_request_pkt} connects before it answers; if that fails the hook
 * refuses and the kernel sends its RST. If it succeeds the hook names the bridge's own listener (bound
 * on the host CID to a port the kernel chose), keeps the Unix channel under the request's
 * {@code (guest port, P)}, and the kernel completes the handshake on that listener: the child's local
 * address is the request's destination {@code (2, P)}. The vsock loop accepts the child and joins it to
 * the Unix channel kept under its address.
 */
final class GuestInitiated implements UnboundRequestHook, SelectorLoop.Handler {
    private final HybridVsock bridge;
    private final ServerSocketChannel listener;
    private final int listenerPort;
    /** Unix channels connected for a request the kernel has not handed to the listener's accept yet. */
    private final Map<Long, SocketChannel> pending = new HashMap<>();
    private boolean closed;

    GuestInitiated(HybridVsock bridge, ServerSocketChannel listener) throws IOException {
        this.bridge = bridge;
        this.listener = listener;
        this.listenerPort = ((VsockAddress) listener.getLocalAddress()).port();
    }

    int listenerPort() {
        return listenerPort;
    }

    private static long key(int guestPort, int hostPort) {
        return (long) guestPort << 32 | (hostPort & 0xFFFF_FFFFL);
    }

    /** Host kernel context (vhost TX handler): connect to {@code <path>_<hostPort>} or refuse. */
    @Override
    public int listenerPort(int type, int guestPort, int hostPort) {
        synchronized (pending) {
            // SOCK_STREAM only: a SEQPACKET request is refused before anything is connected for it.
            if (closed || type != VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value() || !bridge.tryAcquireSlot()) {
                bridge.inc(HybridVsock.Counter.GUEST_REFUSED);
                return VmSockets.VMADDR_PORT_ANY;
            }
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.configureBlocking(false);
                // AF_UNIX connects at once or fails (EAGAIN when the backlog is full): never in progress.
                if (!ch.connect(UnixDomainSocketAddress.of(HybridVsock.portPath(bridge.path(), hostPort)))) {
                    throw new IOException("Unix connect in progress");
                }
            } catch (IOException | RuntimeException e) {
                HybridVsock.closeQuietly(ch);
                bridge.releaseSlot();
                bridge.inc(HybridVsock.Counter.GUEST_REFUSED);
                return VmSockets.VMADDR_PORT_ANY;
            }
            SocketChannel stale = pending.put(key(guestPort, hostPort), ch);
            if (stale != null) { // an earlier request of this pair never reached accept (e.g. backlog full)
                HybridVsock.closeQuietly(stale);
                bridge.releaseSlot();
            }
            return listenerPort;
        }
    }

    /** The listener is readable (vsock loop): accept and join every child. */
    @Override
    public void ready(SelectionKey key) {
        SelectorLoop.acceptEach(listener, this::join);
    }

    private void join(SocketChannel child) {
        SocketChannel uds = null;
        try {
            VsockAddress remote = (VsockAddress) child.getRemoteAddress();
            VsockAddress local = (VsockAddress) child.getLocalAddress();
            if (remote.cid() == bridge.guestCid()) {
                synchronized (pending) {
                    uds = pending.remove(key(remote.port(), local.port()));
                }
            }
        } catch (IOException e) {
            uds = null;
        }
        if (uds == null) {
            // A connect to the listener's own port, or a child reset before accept: not a bridged request.
            bridge.inc(HybridVsock.Counter.GUEST_STRAY);
            HybridVsock.closeQuietly(child);
            return;
        }
        bridge.inc(HybridVsock.Counter.GUEST_FORWARDED);
        Splice s = new Splice(HybridVsock.RING_BYTES);
        bridge.started(s, () -> { });
        s.start(bridge.udsLoop(), uds, null, bridge.vsockLoop(), child, null);
    }

    /** Refuses from now on and closes the Unix channels still waiting for their accept. */
    void close() {
        synchronized (pending) {
            closed = true;
            for (SocketChannel ch : pending.values()) {
                HybridVsock.closeQuietly(ch);
                bridge.releaseSlot();
            }
            pending.clear();
        }
    }

    /** Unix channels waiting for their child's accept. */
    int pending() {
        synchronized (pending) {
            return pending.size();
        }
    }
}
