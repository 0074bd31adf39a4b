package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.user.nio.VsockSelectorProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proof by a real program: {@link RequestServer} (a single-threaded selector loop) and {@link RequestClient},
 * written only against NIO, run unchanged over JDK TCP loopback, guest→host over the simulated virtio path,
 * and simulated loopback (CID 1), with the same results.
 */
@Timeout(60)
class NioRequestResponseTest {
    private static final int CONNECTIONS = 4;
    private static final int REQUESTS = 25;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** What one run of the program produced. */
    record Outcome(List<String> blocking, String nonBlocking, int accepted, int answered) {
    }

    /**
     * Runs the server on {@code serverSide} bound to {@code bindTo} and the client on {@code clientSide},
     * which reaches the server at {@code reach.apply(server's local address)}.
     */
    private static Outcome run(SelectorProvider serverSide, SocketAddress bindTo, SelectorProvider clientSide,
            Function<SocketAddress, SocketAddress> reach) throws Exception {
        RequestServer server = new RequestServer(serverSide, bindTo);
        Thread loop = new Thread(server, "request-server");
        loop.start();
        try {
            RequestClient client = new RequestClient(clientSide, reach.apply(server.localAddress()));
            List<String> answers = client.runBlocking(CONNECTIONS, REQUESTS);
            String one = client.runNonBlocking("hello, selector");
            return new Outcome(answers, one, server.accepted, server.answered);
        } finally {
            server.stop();
            loop.join(10_000);
        }
    }

    private KernelContext kernel(String name, long memory) {
        return leaks.track(SimInternals.threadedKernel(name, memory));
    }

    @Test
    void shouldGiveTheSameResultsOverJdkTcpGuestToHostAndLoopback() throws Exception {
        Outcome tcp = run(SelectorProvider.provider(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                SelectorProvider.provider(), a -> a);

        Host host = SimInternals.newHost(kernel("host", 64L << 20), true);
        toClose.add(host);
        Guest guest = SimInternals.startGuest(host, 3, kernel("guest3", 32L << 20), Guest.Options.DEFAULTS);
        VsockSelectorProvider hostSide = VsockSelectorProvider.of(UserProcess.spawn(host, "server"));
        VsockSelectorProvider guestSide = VsockSelectorProvider.of(guest);
        toClose.add(hostSide.process());
        toClose.add(guestSide.process());
        Outcome virtio = run(hostSide, VsockAddress.ofAnyCIDPort(9000), guestSide,
                a -> VsockAddress.ofHostPort(((VsockAddress) a).port()));

        Machine local = Machine.virtualTime("local", 32L << 20);
        toClose.add(local);
        leaks.track(SimInternals.kernel(local));
        VsockSelectorProvider localSide = VsockSelectorProvider.of(local);
        toClose.add(localSide.process());
        Outcome loopback = run(VsockSelectorProvider.of(UserProcess.spawn(local, "server")), VsockAddress.ofAnyCIDPort(9000),
                localSide, a -> VsockAddress.ofLocalPort(((VsockAddress) a).port()));

        assertThat(tcp.blocking()).hasSize(CONNECTIONS * REQUESTS);
        assertThat(tcp.blocking().get(0)).isEqualTo("1:CONN0 REQ0");
        assertThat(tcp.blocking().get(CONNECTIONS * REQUESTS - 1)).isEqualTo(REQUESTS + ":CONN3 REQ24");
        assertThat(tcp.nonBlocking()).isEqualTo("1:HELLO, SELECTOR");
        assertThat(tcp.accepted()).isEqualTo(CONNECTIONS + 1);
        assertThat(tcp.answered()).isEqualTo(CONNECTIONS * REQUESTS + 1);
        assertThat(virtio).as("guest -> host over virtio").isEqualTo(tcp);
        assertThat(loopback).as("loopback, CID 1").isEqualTo(tcp);
    }
}
