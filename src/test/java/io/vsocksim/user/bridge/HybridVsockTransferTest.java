package io.vsocksim.user.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.sim.VsockSocket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 16 MiB each way, checksummed, through the bridge: host-initiated (CONNECT, OK, then data) and
 * guest-initiated (connect to CID 2 reaching {@code <path>_<port>}), each direction ended by a half-close,
 * after which the bridge closes both sides. Timings are printed for information only.
 */
class HybridVsockTransferTest extends BridgeTestBase {
    private static final long BYTES = 16L << 20;

    @Test
    @Timeout(120)
    void shouldCarry16MiBEachWayWhenTheHostConnects() throws Exception {
        BridgeTestContext.Connected c = t.connectFromHost(t.guestListen(1234));
        assertThat(c.guest().getpeername())
                .isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, BridgeTestContext.FIRST_HOST_PORT));

        long ms = t.exchange(c.unix(), c.guest(), 1, BYTES);
        System.out.printf("hybrid vsock, host-initiated: 16 MiB each way in %d ms%n", ms);

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.hostPortsInUse()).isZero();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_CONNECTED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
    }

    @Test
    @Timeout(120)
    void shouldCarry16MiBEachWayWhenTheGuestConnects() throws Exception {
        ServerSocketChannel server = t.unixListen(5000);
        VsockSocket g = t.machines.track(t.guest.socket(Sock.SOCK_STREAM));
        g.connect(VmSockets.VMADDR_CID_HOST, 5000);
        SocketChannel c = t.unixTrack(server.accept());
        assertThat(g.getpeername()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, 5000));

        long ms = t.exchange(c, g, 3, BYTES);
        System.out.printf("hybrid vsock, guest-initiated: 16 MiB each way in %d ms%n", ms);

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_FORWARDED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
    }
}
