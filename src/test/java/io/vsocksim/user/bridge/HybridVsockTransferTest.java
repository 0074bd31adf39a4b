package io.vsocksim.user.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 16 MiB each way, checksummed, through the bridge, with a JDK client and with socat: host-initiated
 * (CONNECT, OK, then data) and guest-initiated (connect to CID 2 reaching {@code <path>_<port>}), each
 * direction ended by a half-close, after which the bridge closes both sides. Timings are printed for
 * information only.
 */
class HybridVsockTransferTest extends BridgeTestBase {
    private static final long BYTES = 16L << 20;

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(180)
    void shouldCarry16MiBEachWayWhenTheHostConnects(ExternalProgram program) throws Exception {
        BridgeTestContext.Connected c = t.connectFromHost(program, t.guestListen(1234));
        assertThat(c.guest().getpeername())
                .isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, BridgeTestContext.FIRST_HOST_PORT));

        long ms = t.exchange(c.unix(), c.guest(), 1, BYTES);
        System.out.printf("hybrid vsock, host-initiated, %s: 16 MiB each way in %d ms%n", program, ms);

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.hostPortsInUse()).isZero();
        assertThat(t.bridge.count(HybridVsock.Counter.HOST_CONNECTED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
        BridgeTestContext.assertExitedCleanly(c.unix());
    }

    @ParameterizedTest
    @EnumSource(ExternalProgram.class)
    @Timeout(180)
    void shouldCarry16MiBEachWayWhenTheGuestConnects(ExternalProgram program) throws Exception {
        BridgeTestContext.Connected c = t.connectFromGuest(program, 5000);

        long ms = t.exchange(c.unix(), c.guest(), 3, BYTES);
        System.out.printf("hybrid vsock, guest-initiated, %s: 16 MiB each way in %d ms%n", program, ms);

        BridgeTestContext.await(() -> t.bridge.connections() == 0);
        assertThat(t.bridge.count(HybridVsock.Counter.GUEST_FORWARDED)).isEqualTo(1);
        assertThat(t.bridge.count(HybridVsock.Counter.ABORTED)).isZero();
        BridgeTestContext.assertExitedCleanly(c.unix());
    }
}
