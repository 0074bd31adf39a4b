package io.vsocksim.user.bridge;

import io.vsocksim.user.VsockAddress;
import java.io.IOException;
import java.net.BindException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Host-initiated connections, as Firecracker docs/vsock.md describes them: a program connects to the
 * bridge's Unix socket and writes {@code CONNECT <port>\n}; the bridge connects a host vsock socket, bound
 * to a port of {@link HostPorts}, to that port of the guest; when the guest's listener accepts, the
 * program reads {@code OK <host port>\n} and then the guest's bytes. If the guest refuses (no listener:
 * RST; or the 2-s connect timeout), the Unix connection is closed without a word, as Firecracker closes
 * it.
 *
 * <p>The Unix socket's accept and the command line run on the Unix loop; the vsock connect and its
 * completion on the vsock loop.
 */
final class HostInitiated implements SelectorLoop.Handler {
    private final HybridVsock bridge;
    private final ServerSocketChannel server;

    HostInitiated(HybridVsock bridge, ServerSocketChannel server) {
        this.bridge = bridge;
        this.server = server;
    }

    /** The Unix listener is readable: accept every pending client. */
    @Override
    public void ready(SelectionKey key) {
        SelectorLoop.acceptEach(server, c -> {
            if (!bridge.tryAcquireSlot()) {
                // Firecracker too accepts and drops a connection over its limit.
                bridge.inc(HybridVsock.Counter.HOST_TOO_MANY);
                HybridVsock.closeQuietly(c);
                return;
            }
            bridge.inc(HybridVsock.Counter.HOST_ACCEPTED);
            try {
                c.configureBlocking(false);
                c.register(key.selector(), SelectionKey.OP_READ, new CommandReader(c));
            } catch (IOException e) {
                HybridVsock.closeQuietly(c);
                bridge.releaseSlot();
            }
        });
    }

    /** Collects one client's CONNECT line (Unix loop). */
    private final class CommandReader implements SelectorLoop.Handler {
        private final SocketChannel c;
        private final ConnectCommand cmd = new ConnectCommand();

        CommandReader(SocketChannel c) {
            this.c = c;
        }

        @Override
        public void ready(SelectionKey key) {
            int n;
            try {
                n = c.read(cmd.buffer());
            } catch (IOException e) {
                n = -1;
            }
            if (n < 0) {
                drop(HybridVsock.Counter.HOST_GONE_BEFORE_COMMAND);
                return;
            }
            switch (cmd.scan()) {
                case INCOMPLETE:
                    return;
                case MALFORMED:
                    drop(HybridVsock.Counter.HOST_MALFORMED);
                    return;
                case OVERSIZED:
                    drop(HybridVsock.Counter.HOST_OVERSIZED);
                    return;
                default:
                    break;
            }
            key.interestOps(0); // the client's next bytes are for the guest, once it accepts
            Splice s = new Splice(HybridVsock.RING_BYTES);
            byte[] early = cmd.leftover();
            s.toGuest.put(early, 0, early.length);
            int port = cmd.port();
            bridge.vsockLoop().execute(() -> connect(s, c, key, port));
        }

        private void drop(HybridVsock.Counter why) {
            bridge.inc(why);
            bridge.releaseSlot();
            HybridVsock.closeQuietly(c);
        }
    }

    /** On the vsock loop: a host socket on the next host port, connecting to the guest's {@code guestPort}. */
    private void connect(Splice s, SocketChannel uds, SelectionKey udsKey, int guestPort) {
        SocketChannel vs = null;
        int port = -1;
        try {
            vs = bridge.nio().openSocketChannel();
            vs.configureBlocking(false);
            port = bindPort(vs);
            Connecting c = new Connecting(s, uds, udsKey, vs, port);
            if (vs.connect(VsockAddress.of(bridge.guestCid(), guestPort))) {
                c.established(null);
            } else {
                vs.register(bridge.vsockLoop().selector(), SelectionKey.OP_CONNECT, c);
            }
        } catch (IOException e) {
            refused(uds, vs, port);
        }
    }

    /** Binds {@code vs} to the next free port of the range; a port another host program holds is skipped. */
    private int bindPort(SocketChannel vs) throws IOException {
        for (int tries = 0; tries < 64; tries++) {
            int p = bridge.ports().allocate();
            try {
                vs.bind(VsockAddress.of(VsockAddress.CID_HOST, p));
                return p;
            } catch (BindException e) {
                bridge.ports().free(p);
            }
        }
        throw new BindException("no free host port in [2^30, 2^31)");
    }

    /** The guest refused (or the host socket failed): the Unix client is closed without a word. */
    private void refused(SocketChannel uds, SocketChannel vs, int port) {
        bridge.inc(HybridVsock.Counter.HOST_REFUSED);
        HybridVsock.closeQuietly(vs);
        if (port != -1) {
            bridge.ports().free(port);
        }
        bridge.releaseSlot();
        HybridVsock.closeQuietly(uds); // last: the client's EOF finds the bridge's books already straight
    }

    /** A vsock connect in progress (vsock loop). */
    private final class Connecting implements SelectorLoop.Handler {
        private final Splice s;
        private final SocketChannel uds;
        private final SelectionKey udsKey;
        private final SocketChannel vs;
        private final int port;

        Connecting(Splice s, SocketChannel uds, SelectionKey udsKey, SocketChannel vs, int port) {
            this.s = s;
            this.uds = uds;
            this.udsKey = udsKey;
            this.vs = vs;
            this.port = port;
        }

        @Override
        public void ready(SelectionKey key) {
            try {
                if (vs.finishConnect()) {
                    established(key);
                }
            } catch (IOException e) {
                refused(uds, vs, port);
            }
        }

        /** The guest accepted: OK first, then the bytes both ways (Firecracker apply_conn_mutation). */
        void established(SelectionKey vsKey) {
            byte[] ok = ("OK " + Integer.toUnsignedString(port) + "\n").getBytes(StandardCharsets.US_ASCII);
            s.toHost.put(ok, 0, ok.length);
            bridge.inc(HybridVsock.Counter.HOST_CONNECTED);
            bridge.started(s, () -> bridge.ports().free(port));
            s.start(bridge.udsLoop(), uds, udsKey, bridge.vsockLoop(), vs, vsKey);
        }
    }
}
