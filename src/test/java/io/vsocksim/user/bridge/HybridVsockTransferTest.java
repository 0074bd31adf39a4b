package io.vsocksim.user.bridge;

import static io.vsocksim.user.bridge.BridgeTestContext.FIRST_HOST_PORT;
import static io.vsocksim.user.bridge.BridgeTestContext.GUEST_CID;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Guest;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockSocket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * 16 MiB each way, checksummed, through the bridge: host-initiated (CONNECT, OK, then data) and
 * guest-initiated (connect to CID 2 reaching {@code <path>_<port>}), each direction ended by a half-close.
 * Timings are printed for information only.
 */
class HybridVsockTransferTest {
    private static final long BYTES = 16L << 20;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @TempDir
    Path dir;
    BridgeTestContext t;

    @BeforeEach
    void setUp() throws Exception {
        assertThat(BridgeTestContext.bridgeThreads()).as("bridge threads before").isZero();
        t = new BridgeTestContext(leaks, dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        t.close();
    }

    @Test
    @Timeout(120)
    void shouldCarry16MiBEachWayWhenTheHostConnects() throws Exception {
        VsockSocket l = t.guestListen(1234);
        SocketChannel c = t.unixConnect();
        BridgeTestContext.write(c, "CONNECT 1234\n");
        VsockSocket g = t.machines.track(l.accept());
        assertThat(BridgeTestContext.readLine(c)).isEqualTo("OK " + FIRST_HOST_PORT + "\n");
        assertThat(g.getpeername()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, FIRST_HOST_PORT));

        long start = System.nanoTime();
        Future<BridgeTestContext.Sum> toGuest = t.async(() -> BridgeTestContext.unixSend(c, 1, BYTES));
        Future<BridgeTestContext.Sum> fromHost = t.async(() -> BridgeTestContext.guestRecv(g));
        Future<BridgeTestContext.Sum> toHost = t.async(() -> BridgeTestContext.guestSend(g, 2, BYTES));
        BridgeTestContext.Sum fromGuest = BridgeTestContext.unixRecv(c);
        assertThat(fromHost.get()).isEqualTo(toGuest.get()).isEqualTo(BridgeTestContext.expected(1, BYTES));
        assertThat(fromGuest).isEqualTo(toHost.get()).isEqualTo(BridgeTestContext.expected(2, BYTES));
        System.out.printf("hybrid vsock, host-initiated: 16 MiB each way in %d ms%n",
                (System.nanoTime() - start) / 1_000_000);

        // Both directions half-closed and drained: the bridge closes both sides and frees the port.
        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.hostPortsInUse()).isZero();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_CONNECTED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
    }

    @Test
    @Timeout(120)
    void shouldCarry16MiBEachWayWhenTheGuestConnects() throws Exception {
        ServerSocketChannel server = t.unixListen(5000);
        Guest guest = t.guest;
        VsockSocket g = t.machines.track(guest.socket(Sock.SOCK_STREAM));
        g.connect(VmSockets.VMADDR_CID_HOST, 5000);
        SocketChannel c = t.unixTrack(server.accept());
        assertThat(g.getpeername()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, 5000));

        long start = System.nanoTime();
        Future<BridgeTestContext.Sum> toGuest = t.async(() -> BridgeTestContext.unixSend(c, 3, BYTES));
        Future<BridgeTestContext.Sum> fromHost = t.async(() -> BridgeTestContext.guestRecv(g));
        Future<BridgeTestContext.Sum> toHost = t.async(() -> BridgeTestContext.guestSend(g, 4, BYTES));
        BridgeTestContext.Sum fromGuest = BridgeTestContext.unixRecv(c);
        assertThat(fromHost.get()).isEqualTo(toGuest.get()).isEqualTo(BridgeTestContext.expected(3, BYTES));
        assertThat(fromGuest).isEqualTo(toHost.get()).isEqualTo(BridgeTestContext.expected(4, BYTES));
        System.out.printf("hybrid vsock, guest-initiated: 16 MiB each way in %d ms%n",
                (System.nanoTime() - start) / 1_000_000);

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_FORWARDED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
        assertThat(GUEST_CID).isEqualTo(guest.cid());
    }
}
