package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.kernel.Work;
import io.vsocksim.testing.Latches;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.VsockSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The clocks of {@code Host.threaded}, {@code Host.startGuest(cid)} and {@code Machine.threaded} run by
 * themselves: a call with a timeout ends even though no test moves the clock. The figures printed
 * show the modelled and the wall time each took (information, never asserted).
 */
@Timeout(60)
class SelfRunningTimeTest {
    /** Short timeouts keep the suite quick; the rule is the same for the kernel's 1-s or 2-s ones. */
    private static final long TIMEOUT_MS = 200;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private Host host;
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        if (host != null) {
            host.close();
        }
    }

    private Host host() {
        KernelContext k = Host.threadedKernel("host", 16L << 20);
        leaks.track(k);
        host = new Host(k, true);
        return host;
    }

    private Guest guest(Host h, long cid) throws ErrnoException {
        KernelContext k = Host.threadedKernel("guest" + cid, 16L << 20);
        leaks.track(k);
        return h.startGuest(cid, k, Guest.Options.DEFAULTS);
    }

    private static void report(String what, Clock clock, long clockStart, long wallStart) {
        System.out.printf("%s: modelled %.1f ms, wall %.1f ms%n", what, (clock.nanoTime() - clockStart) / 1e6,
                (System.nanoTime() - wallStart) / 1e6);
    }

    @Test
    void shouldUseSelfRunningClocksWhenMachinesAreBuiltByTheDefaultFactories() throws Exception {
        Host h = host();
        Guest g = guest(h, 3);
        assertThat(((VirtualClock) h.kernel().clock()).isSelfRunning()).isTrue();
        assertThat(((VirtualClock) g.kernel().clock()).isSelfRunning()).isTrue();
        try (Machine m = Machine.threaded("local", 8L << 20)) {
            assertThat(((VirtualClock) m.kernel().clock()).isSelfRunning()).isTrue();
        }
    }

    @Test
    void shouldReturnEagainWhenRecvTimesOutWithoutAnyoneMovingTheClock() throws Exception {
        Host h = host();
        Guest g = guest(h, 3);
        try (VsockSocket l = g.socket(Sock.SOCK_STREAM); VsockSocket cl = h.socket(Sock.SOCK_STREAM)) {
            l.bind(VmSockets.VMADDR_CID_ANY, 1234);
            l.listen(1);
            cl.connect(3, 1234);
            try (VsockSocket sv = l.accept()) {
                cl.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO, 0, TIMEOUT_MS * 1000);
                Clock clock = h.kernel().clock();
                long t0 = clock.nanoTime();
                long w0 = System.nanoTime();
                assertThatThrownBy(() -> cl.recv(ByteBuffer.allocate(8), 0)).isInstanceOf(ErrnoException.class)
                        .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.EAGAIN);
                assertThat(clock.nanoTime() - t0).as("the receive timeout passed on the host's clock")
                        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
                report("recv with SO_RCVTIMEO " + TIMEOUT_MS + " ms", clock, t0, w0);
            }
        }
    }

    @Test
    void shouldFailWithEtimedoutWhenConnectGetsNoAnswerWithoutAnyoneMovingTheClock() throws Exception {
        Host h = host();
        Guest g = guest(h, 3);
        // The guest's workers are busy: its driver never takes the request off the RX ring, so no answer comes.
        CountDownLatch parked = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            g.kernel().systemWq().queueWork(new Work("park" + i, () -> {
                parked.countDown();
                Latches.awaitUninterruptibly(release);
            }));
        }
        assertThat(parked.await(10, TimeUnit.SECONDS)).isTrue();
        try (VsockSocket cl = h.socket(Sock.SOCK_STREAM)) {
            cl.setsockoptTimeval(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, 0, TIMEOUT_MS * 1000);
            Clock clock = h.kernel().clock();
            long t0 = clock.nanoTime();
            long w0 = System.nanoTime();
            assertThatThrownBy(() -> cl.connect(3, 1234)).isInstanceOf(ErrnoException.class)
                    .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ETIMEDOUT);
            assertThat(clock.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
            report("connect with no answer, connect timeout " + TIMEOUT_MS + " ms", clock, t0, w0);
        }
        release.countDown();
    }
}
