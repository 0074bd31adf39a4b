package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.testing.Settle;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The places a java.net test runs the same scenario: JDK TCP over 127.0.0.1, and the simulated vsock
 * face guest→host (virtio and vhost) and on one machine (loopback, CID 1). The simulated machines
 * have self-running clocks (timeouts end in wall time, sooner when all is idle), are built as
 * {@code Host.threaded} and {@code startGuest} build them and tracked by a {@link LeakCheck} from their
 * first page. {@link #close()} (from {@code @AfterEach}) closes every socket made here, ends the
 * processes, lets the close timeouts run out, checks that every vsock socket was destructed, then
 * shuts the machines down.
 */
final class NetWorlds implements AutoCloseable {
    /** Where a scenario runs: how it makes listening and client sockets and where nobody listens. */
    interface World {
        /** A bound, listening server socket on a free port. */
        ServerSocket listen() throws IOException;

        /** An unconnected client socket. */
        Socket socket() throws IOException;

        /** The address a client of this world reaches {@code server} at. */
        SocketAddress addressOf(ServerSocket server);

        /** An address where nobody listens. */
        SocketAddress nobodyListens() throws IOException;
    }

    private final LeakCheck leaks;
    private final List<Closeable> open = new ArrayList<>();
    private Host host;
    private Guest guest;
    private Machine local;
    private VsockNet hostNet;
    private VsockNet guestNet;
    private VsockNet localNet;

    NetWorlds(LeakCheck leaks) {
        this.leaks = leaks;
    }

    /** Keeps {@code c} to close at the end of the test, and returns it. */
    <T extends Closeable> T track(T c) {
        synchronized (open) {
            open.add(c);
        }
        return c;
    }

    /** JDK sockets over TCP on the loopback interface. */
    World tcp() {
        InetAddress lo = InetAddress.getLoopbackAddress();
        return new World() {
            @Override
            public ServerSocket listen() throws IOException {
                return track(new ServerSocket(0, 50, lo));
            }

            @Override
            public Socket socket() {
                return track(new Socket());
            }

            @Override
            public SocketAddress addressOf(ServerSocket server) {
                return new InetSocketAddress(lo, server.getLocalPort());
            }

            @Override
            public SocketAddress nobodyListens() throws IOException {
                try (ServerSocket s = new ServerSocket(0, 1, lo)) {
                    return new InetSocketAddress(lo, s.getLocalPort()); // free again once closed
                }
            }
        };
    }

    /** The host's face (process "java" on CID 2), booting the host on first use. */
    VsockNet hostNet() {
        if (hostNet == null) {
            KernelContext k = leaks.track(SimInternals.threadedKernel("host", 64L << 20));
            host = SimInternals.newHost(k, true);
            hostNet = VsockNet.of(host);
        }
        return hostNet;
    }

    /** Guest 3's face, booting the host and the guest on first use. */
    VsockNet guestNet() throws IOException {
        if (guestNet == null) {
            hostNet();
            KernelContext k = leaks.track(SimInternals.threadedKernel("guest3", 32L << 20));
            guest = SimInternals.startGuest(host, 3, k, Guest.Options.DEFAULTS);
            guestNet = VsockNet.of(guest);
        }
        return guestNet;
    }

    /** The guest, once {@link #guestNet()} booted it. */
    Guest guest() {
        return guest;
    }

    /** The host, once booted. */
    Host host() {
        return host;
    }

    /** A loopback-only machine's face, booting it on first use. */
    VsockNet localNet() {
        if (localNet == null) {
            local = Machine.virtualTime("local", 32L << 20);
            leaks.track(SimInternals.kernel(local));
            localNet = VsockNet.of(local);
        }
        return localNet;
    }

    /** Clients in guest 3, servers on the host. */
    World guestToHost() throws IOException {
        return vsock(guestNet(), hostNet(), VsockAddress.CID_HOST);
    }

    /** Clients and servers on one machine, over loopback. */
    World loopback() {
        VsockNet n = localNet();
        return vsock(n, n, VsockAddress.CID_LOCAL);
    }

    private World vsock(VsockNet clients, VsockNet servers, int serverCid) {
        return new World() {
            @Override
            public ServerSocket listen() throws IOException {
                return track(servers.serverSocket(VsockAddress.ofAnyPort(), 50));
            }

            @Override
            public Socket socket() throws IOException {
                return track(clients.socket());
            }

            @Override
            public SocketAddress addressOf(ServerSocket server) {
                return VsockAddress.of(serverCid, server.getLocalPort());
            }

            @Override
            public SocketAddress nobodyListens() {
                return VsockAddress.of(serverCid, 9); // the discard port: nothing binds it here
            }
        };
    }

    /**
     * Lets every booted machine finish what is in flight (packets, kicks, interrupts): what happens
     * between two steps of a test that a real program would take milliseconds apart.
     */
    void settle() {
        Settle.drain(guest, host, local);
    }

    /** A connected pair in {@code w}: {client, accepted}. */
    static Socket[] connect(NetWorlds worlds, World w) throws IOException {
        ServerSocket l = w.listen();
        Socket c = w.socket();
        c.connect(w.addressOf(l));
        Socket a = worlds.track(l.accept());
        return new Socket[] {c, a};
    }

    @Override
    public void close() throws IOException {
        try {
            synchronized (open) {
                for (int i = open.size() - 1; i >= 0; i--) {
                    open.get(i).close();
                }
                open.clear();
            }
            for (VsockNet n : new VsockNet[] {guestNet, hostNet, localNet}) {
                if (n != null) {
                    n.close();
                }
            }
            // A close on one machine queues work on the other, which may queue more on the first: drain
            // them together, then let the close timeouts run out, one machine at a time.
            Settle.closeTimeouts(guest, host, local);
            for (Machine m : new Machine[] {guest, host, local}) {
                if (m != null) {
                    assertThat(m.liveSockets()).as("vsock sockets left on " + SimInternals.kernel(m).name() + ": " + describe(m)).isZero();
                }
            }
        } finally {
            if (host != null) {
                host.close(); // and its guest
            }
            if (local != null) {
                local.close();
            }
        }
    }

    /** The sockets still in the machine's connected table, for a leak's message. */
    private static String describe(Machine m) {
        java.util.List<String> socks = new java.util.ArrayList<>();
        io.vsocksim.vsock.VsockCore core = SimInternals.core(m);
        for (io.vsocksim.vsock.VsockTransport t : new io.vsocksim.vsock.VsockTransport[] {core.transportG2h(),
                core.transportH2g(), core.transportLocal()}) {
            if (t != null) {
                core.forEachConnectedSocket(t, sk -> socks.add(sk.toString()));
            }
        }
        StringBuilder threads = new StringBuilder();
        if (m.liveSockets() > 0) { // who may still hold a socket: threads inside a simulated call
            for (java.util.Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                for (StackTraceElement f : e.getValue()) {
                    if (f.getClassName().startsWith("io.vsocksim.user.UserProcess")) {
                        threads.append("\n  ").append(e.getKey().getName()).append(": ")
                                .append(java.util.Arrays.toString(java.util.Arrays.copyOf(e.getValue(), 12)));
                        break;
                    }
                }
            }
        }
        return socks + threads.toString();
    }
}
