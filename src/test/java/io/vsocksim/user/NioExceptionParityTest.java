package io.vsocksim.user;

import static io.vsocksim.user.Outcome.describe;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same misuse and failure scenarios on JDK TCP loopback channels and on vsock channels, side by side:
 * every exception class and message (or returned value) must be the same.
 */
@Timeout(60)
class NioExceptionParityTest extends NioTestBase {
    /** One network: where servers bind and how a client reaches them. */
    interface Net {
        SelectorProvider serverSide();

        SelectorProvider clientSide();

        SocketAddress bindAddress();

        SocketAddress reach(ServerSocketChannel l) throws IOException;

        /** Lets a close on one side reach the other before the next step. */
        void settle();
    }

    private static final Net TCP = new Net() {
        @Override
        public SelectorProvider serverSide() {
            return SelectorProvider.provider();
        }

        @Override
        public SelectorProvider clientSide() {
            return SelectorProvider.provider();
        }

        @Override
        public SocketAddress bindAddress() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        }

        @Override
        public SocketAddress reach(ServerSocketChannel l) throws IOException {
            return l.getLocalAddress();
        }

        @Override
        public void settle() {
        }
    };

    private Net vsock() {
        return new Net() {
            @Override
            public SelectorProvider serverSide() {
                return t.server;
            }

            @Override
            public SelectorProvider clientSide() {
                return t.client;
            }

            @Override
            public SocketAddress bindAddress() {
                return VsockAddress.ofAnyPort();
            }

            @Override
            public SocketAddress reach(ServerSocketChannel l) throws IOException {
                return VsockAddress.ofLocalPort(((VsockAddress) l.getLocalAddress()).port());
            }

            @Override
            public void settle() {
                t.m.quiesce();
            }
        };
    }


    private static SocketChannel connected(SelectorProvider p, SocketAddress there) throws IOException {
        SocketChannel c = p.openSocketChannel();
        c.connect(there);
        return c;
    }

    private static List<String> scenarios(Net n) throws Exception {
        List<String> out = new ArrayList<>();
        SelectorProvider cp = n.clientSide();
        try (SocketChannel u = cp.openSocketChannel()) {
            out.add("read unconnected " + describe(() -> u.read(ByteBuffer.allocate(1))));
            out.add("write unconnected " + describe(() -> u.write(ByteBuffer.allocate(1))));
            out.add("finishConnect unconnected " + describe(u::finishConnect));
            out.add("shutdownInput unconnected " + describe(u::shutdownInput));
            out.add("addresses unconnected " + describe(() -> u.getLocalAddress() + "/" + u.getRemoteAddress()));
            out.add("connect foreign address " + describe(() -> u.connect(new SocketAddress() { })));
            out.add("unsupported option " + describe(() -> u.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true)));
            out.add("negative SO_RCVBUF " + describe(() -> u.setOption(StandardSocketOptions.SO_RCVBUF, -1)));
            out.add("null option " + describe(() -> u.setOption(null, 1)));
        }
        try (ServerSocketChannel l = n.serverSide().openServerSocketChannel()) {
            out.add("accept unbound " + describe(l::accept));
            l.bind(n.bindAddress());
            out.add("bind twice " + describe(() -> l.bind(n.bindAddress())));
            SocketAddress there = n.reach(l);
            try (SocketChannel c = cp.openSocketChannel(); Selector sel = cp.openSelector()) {
                out.add("connect " + describe(() -> c.connect(there)));
                SocketChannel a = l.accept();
                out.add("connect connected " + describe(() -> c.connect(there)));
                out.add("bind connected " + describe(() -> c.bind(null)));
                out.add("register blocking " + describe(() -> c.register(sel, SelectionKey.OP_READ)));
                c.configureBlocking(false);
                out.add("register OP_ACCEPT " + describe(() -> c.register(sel, SelectionKey.OP_ACCEPT)));
                SelectionKey k = c.register(sel, SelectionKey.OP_READ);
                out.add("blocking while registered " + describe(() -> c.configureBlocking(true)));
                k.cancel();
                out.add("interestOps cancelled " + describe(k::interestOps));
                out.add("readyOps cancelled " + describe(k::readyOps));
                out.add("register before deregistration " + describe(() -> c.register(sel, SelectionKey.OP_READ)));
                out.add("selectNow " + describe(sel::selectNow));
                out.add("register after " + describe(() -> c.register(sel, SelectionKey.OP_READ).interestOps()));
                out.add("selectedKeys add " + describe(() -> sel.selectedKeys().add(k)));
                out.add("keys remove " + describe(() -> sel.keys().remove(k)));
                c.keyFor(sel).cancel();
                sel.selectNow();
                c.configureBlocking(true);
                c.shutdownOutput();
                out.add("write after shutdownOutput " + describe(() -> c.write(ByteBuffer.allocate(1))));
                c.shutdownInput();
                out.add("read after shutdownInput " + describe(() -> c.read(ByteBuffer.allocate(1))));
                a.close();
                n.settle();
                try (SocketChannel c2 = connected(cp, there); SocketChannel a2 = l.accept()) {
                    a2.close();
                    n.settle();
                    out.add("read after the peer closed " + describe(() -> c2.read(ByteBuffer.allocate(1))));
                    out.add("writes after the peer closed " + describe(() -> {
                        for (int i = 0; i < 1_000_000; i++) {
                            c2.write(ByteBuffer.allocate(1));
                            Thread.yield(); // TCP answers the first write with a reset, asynchronously
                        }
                        return "no failure";
                    }));
                }
                c.close();
                out.add("read closed " + describe(() -> c.read(ByteBuffer.allocate(1))));
                out.add("getLocalAddress closed " + describe(c::getLocalAddress));
                try (SocketChannel c3 = connected(cp, there); SocketChannel a3 = l.accept()) {
                    Thread.currentThread().interrupt();
                    out.add("read interrupted " + describe(() -> c3.read(ByteBuffer.allocate(1))));
                    out.add("then open " + c3.isOpen() + ", interrupted " + Thread.interrupted());
                    Thread.currentThread().interrupt();
                    out.add("select interrupted " + describe(sel::select));
                    out.add("then interrupted " + Thread.interrupted());
                }
                sel.close();
                out.add("select closed " + describe(sel::select));
                out.add("keys closed " + describe(sel::keys));
                out.add("wakeup closed " + describe(() -> sel.wakeup() == sel));
            }
        }
        return out;
    }

    @Test
    void shouldThrowWhatJdkTcpChannelsThrowInTheSameSituations() throws Exception {
        List<String> tcp = scenarios(TCP);
        List<String> vsock = scenarios(vsock());
        assertThat(vsock).containsExactlyElementsOf(tcp);
        assertThat(vsock).contains(
                "read unconnected java.nio.channels.NotYetConnectedException: null",
                "finishConnect unconnected java.nio.channels.NoConnectionPendingException: null",
                "connect foreign address java.nio.channels.UnsupportedAddressTypeException: null",
                "connect connected java.nio.channels.AlreadyConnectedException: null",
                "write after shutdownOutput java.nio.channels.AsynchronousCloseException: null",
                "read after shutdownInput = -1",
                "read after the peer closed = -1",
                "writes after the peer closed java.io.IOException: Broken pipe",
                "read closed java.nio.channels.ClosedChannelException: null",
                "read interrupted java.nio.channels.ClosedByInterruptException: null",
                "then open false, interrupted true",
                "select interrupted = 0",
                "select closed java.nio.channels.ClosedSelectorException: null");
    }
}
