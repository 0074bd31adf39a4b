package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.Work;
import io.vsocksim.testing.Latches;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.vhost.VhostVsockCounters;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A system call runs only its own machine's kernel code: what it makes another machine do (a vhost
 * interrupt into a guest, a guest kick into vhost) runs on that machine's workers, so a host call never
 * waits on a guest's lock and the reverse. Every worker of a machine is parked in a blocker work here,
 * so a work that must not run on the caller's thread stays visibly pending; nothing waits on time.
 */
@Timeout(60)
class MachineBoundaryTest {
    /** Workers per machine in {@link Host#threadedKernel}. */
    private static final int WORKERS = 2;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        c.close();
    }

    /** Parks every worker of {@code m} until {@link #release} opens; returns once all are parked. */
    private void parkWorkers(Machine m) throws InterruptedException {
        CountDownLatch parked = new CountDownLatch(WORKERS);
        for (int i = 0; i < WORKERS; i++) {
            m.kernel().systemWq().queueWork(new Work("park" + i, () -> {
                parked.countDown();
                Latches.awaitUninterruptibly(release);
            }));
        }
        assertThat(parked.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shouldLeaveGuestWorkToGuestWorkersWhenHostRecvSendsCreditUpdate() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = c.connect(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, 1234);
        assertThat(p[0].send(ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0))
                .isEqualTo(5);
        c.drain();
        long guestRx = g.driverCounters().get(VirtioVsockCounters.Counter.RX_PKTS);
        long hostTx = g.deviceCounters().get(VhostVsockCounters.Counter.RX_PKTS);
        parkWorkers(c.host);
        parkWorkers(g);

        // Reading everything sends a credit update: vhost's send work can only run on this thread
        // (the host's workers are parked); the interrupt it raises must not run the guest's RX work here.
        ByteBuffer buf = ByteBuffer.allocate(16);
        assertThat(p[1].recv(buf, MSG_DONTWAIT)).isEqualTo(5);

        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.RX_PKTS))
                .as("vhost put the credit update in the guest's RX ring during the call").isEqualTo(hostTx + 1);
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.RX_PKTS))
                .as("the guest's RX work did not run on the host's thread").isEqualTo(guestRx);

        release.countDown();
        c.drain();
        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.RX_PKTS)).isEqualTo(guestRx + 1);
    }

    @Test
    void shouldLeaveVhostWorkToHostWorkersWhenGuestSends() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = c.connect(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, 1235);
        c.drain();
        long deviceTx = g.deviceCounters().get(VhostVsockCounters.Counter.TX_PKTS);
        long driverTx = g.driverCounters().get(VirtioVsockCounters.Counter.TX_PKTS);
        parkWorkers(c.host);
        parkWorkers(g);

        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), MSG_DONTWAIT)).isEqualTo(3);

        assertThat(g.driverCounters().get(VirtioVsockCounters.Counter.TX_PKTS))
                .as("the guest's send work put the packet on its TX ring during the call").isEqualTo(driverTx + 1);
        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.TX_PKTS))
                .as("vhost's TX handler did not run on the guest's thread").isEqualTo(deviceTx);

        release.countDown();
        c.drain();
        assertThat(g.deviceCounters().get(VhostVsockCounters.Counter.TX_PKTS)).isEqualTo(deviceTx + 1);
        assertThat(p[1].recv(ByteBuffer.allocate(8), 0)).isEqualTo(3);
    }
}
