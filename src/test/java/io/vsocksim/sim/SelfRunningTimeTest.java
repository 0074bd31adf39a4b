package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.PageHold;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.uapi.Signal;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The clocks of {@code Host.threaded}, {@code Host.startGuest(cid)} and {@code Machine.threaded} run by
 * themselves: a call with a timeout ends even though no test moves the clock, and once everything is
 * idle the time jumps to the deadline. The figures printed show the modelled and the wall time each
 * took (information, never asserted).
 */
@Timeout(60)
class SelfRunningTimeTest {
    /**
     * The receive timeout the tests set, and the time a signal's sender waits first (the kernel's
     * connect timeout, 2 s, is left as it is).
     */
    private static final long TIMEOUT_MS = 1000;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private Host host;

    @AfterEach
    void tearDown() {
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
        return guest(h, cid, Guest.Options.DEFAULTS);
    }

    private Guest guest(Host h, long cid, Guest.Options options) throws ErrnoException {
        KernelContext k = Host.threadedKernel("guest" + cid, 16L << 20);
        leaks.track(k);
        return h.startGuest(cid, k, options);
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
        try (Machine m = Machine.virtualTime("local", 8L << 20)) {
            assertThat(((VirtualClock) m.kernel().clock()).isSelfRunning()).isTrue();
        }
    }

    @Test
    void shouldReturnEagainWhenRecvTimesOutWithoutAnyoneMovingTheClock() throws Exception {
        Host h = host();
        Guest g = guest(h, 3);
        try (VsockSocket l = VsockSocket.open(g, Sock.SOCK_STREAM); VsockSocket cl = VsockSocket.open(h, Sock.SOCK_STREAM)) {
            l.bind(VmSockets.VMADDR_CID_ANY, 1234);
            l.listen(1);
            cl.connect(3, 1234);
            try (VsockSocket sv = l.accept()) {
                cl.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO, TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000);
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

    /**
     * The signal comes from a thread of another process of the guest that first waits
     * {@link #TIMEOUT_MS} on the guest's clock (a poll of no descriptor), so the modelled time is that
     * wait, jumped over while both threads sleep.
     */
    @Test
    void shouldEndABlockedRecvWithEintrOrRestartItBySaRestartWhenASignalArrives() throws Exception {
        Host h = host();
        Guest g = guest(h, 3);
        UserProcess srv = UserProcess.spawn(g, "server");
        UserProcess sender = UserProcess.spawn(g, "sender");
        UserProcess cli = UserProcess.spawn(h, "client");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            int l = srv.socket(VmSockets.AF_VSOCK, Sock.SOCK_STREAM, 0);
            assertThat(srv.bind(l, VmSockets.VMADDR_CID_ANY, 1234)).isZero();
            assertThat(srv.listen(l, 1)).isZero();
            int c = cli.socket(VmSockets.AF_VSOCK, Sock.SOCK_STREAM, 0);
            assertThat(cli.connect(c, 3, 1234)).isZero();
            int a = srv.accept4(l, 0);
            VsockSocket sock = srv.fdopen(a);
            AtomicInteger handled = new AtomicInteger();
            Clock clock = g.kernel().clock();
            for (int flags : new int[] {0, Signal.SA_RESTART}) {
                assertThat(srv.sigaction(Signal.SIGUSR1, sig -> handled.incrementAndGet(), flags)).isZero();
                int before = handled.get();
                long t0 = clock.nanoTime();
                long w0 = System.nanoTime();
                Future<Long> r = pool.submit(() -> srv.recv(a, ByteBuffer.allocate(8), 0));
                while (UserInternals.sock(sock).sleep.waiters() == 0) {
                    Thread.onSpinWait();
                }
                Future<Integer> kill = pool.submit(() -> {
                    int waited = sender.poll(new PollFd[0], 0, TIMEOUT_MS);
                    return waited != 0 ? waited : sender.kill(srv, Signal.SIGUSR1);
                });
                assertThat(kill.get(10, TimeUnit.SECONDS)).isZero(); // parked meanwhile: the time may jump
                if (flags == 0) {
                    assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo((long) -Errno.EINTR);
                } else {
                    while (handled.get() == before || UserInternals.sock(sock).sleep.waiters() == 0) {
                        Thread.onSpinWait(); // the handler ran and the restarted recv sleeps again
                    }
                    assertThat(cli.send(c, ByteBuffer.wrap(new byte[] {1, 2}), 0)).isEqualTo(2);
                    assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo(2L);
                }
                assertThat(handled.get()).isEqualTo(before + 1);
                assertThat(clock.nanoTime() - t0).as("the sender's wait passed on the guest's clock")
                        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
                report(flags == 0 ? "recv interrupted by a handler after " + TIMEOUT_MS + " ms (EINTR)"
                        : "recv restarted by SA_RESTART after " + TIMEOUT_MS + " ms, then data", clock, t0, w0);
            }
        } finally {
            pool.shutdownNow();
            srv.close();
            sender.close();
            cli.close();
        }
    }

    @Test
    void shouldFailWithEtimedoutAfterTheConnectTimeoutWhenConnectGetsNoAnswer() throws Exception {
        Host h = host();
        Guest g = guest(h, 3, new Guest.Options(true, true, true, true, 2)); // two RX buffers
        try (VsockSocket l = VsockSocket.open(g, Sock.SOCK_STREAM); VsockSocket cl = VsockSocket.open(h, Sock.SOCK_STREAM)) {
            l.bind(VmSockets.VMADDR_CID_ANY, 1234);
            l.listen(1);
            cl.connect(3, 1234);
            try (VsockSocket sv = l.accept()) {
                // The guest runs out of memory and its two RX buffers fill up: whatever the host sends
                // next waits in vhost, so a new connection gets no answer and nothing is busy.
                // Every free page and every free slab object: the RX refill's kmalloc fails too.
                PageHold held = new PageHold(g.kernel().pages(), Long.MAX_VALUE);
                for (int i = 0; i < 3; i++) {
                    assertThat(cl.send(ByteBuffer.wrap(new byte[] {(byte) i}), 0)).isEqualTo(1);
                }
                try (VsockSocket silent = VsockSocket.open(h, Sock.SOCK_STREAM)) {
                    Clock clock = h.kernel().clock();
                    long t0 = clock.nanoTime();
                    long w0 = System.nanoTime();
                    assertThatThrownBy(() -> silent.connect(3, 1234)).isInstanceOf(ErrnoException.class)
                            .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ETIMEDOUT);
                    assertThat(clock.nanoTime() - t0).as("the 2-s connect timeout passed on the host's clock")
                            .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
                    report("connect with no answer (2-s connect timeout)", clock, t0, w0);
                } finally {
                    held.close();
                }
                ByteBuffer got = ByteBuffer.allocate(3);
                while (got.hasRemaining()) {
                    sv.recv(got, 0);
                }
                assertThat(got.array()).containsExactly(0, 1, 2);
            }
        }
    }
}
