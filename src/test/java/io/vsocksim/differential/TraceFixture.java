package io.vsocksim.differential;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.sim.VsockSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A loopback-only machine like the one the traces were recorded on (threaded work, virtual clock),
 * the sockets a scenario opens (closed after the test), and helper threads for blocking calls.
 */
abstract class TraceFixture {
    /** Base port of a scenario ("P" in the traces): arbitrary, only offsets matter. */
    static final int P = 20000;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    Machine m;
    private final List<VsockSocket> open = new ArrayList<>();
    private final ExecutorService helpers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trace-helper");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void startMachine() {
        m = TestMachine.threaded("trace", leaks);
    }

    @AfterEach
    void stopMachine() {
        open.forEach(VsockSocket::close);
        TestMachine.settle(m);
        // Virtual time is now past every connect timeout; a worker fires a due timer only when it
        // wakes, so wait for the non-blocking connects' timers (they hold a socket reference).
        open.forEach(s -> s.sock().connectWork.flush());
        TestMachine.settle(m);
        helpers.shutdownNow();
        m.close();
    }

    VirtualClock clock() {
        return TestMachine.clock(m);
    }

    /** Tracks a socket so that it is closed when the test ends. */
    VsockSocket track(VsockSocket s) {
        open.add(s);
        return s;
    }

    VsockSocket sock(int type) throws ErrnoException {
        return track(m.socket(type));
    }

    VsockSocket listener(int type, int port, int backlog) throws ErrnoException {
        VsockSocket l = sock(type);
        l.bind(VMADDR_CID_ANY, port);
        l.listen(backlog);
        return l;
    }

    /** A connected pair over loopback through a listener on {@code port}: [client, accepted]. */
    VsockSocket[] pair(int type, int port) throws ErrnoException {
        VsockSocket l = listener(type, port, 8);
        VsockSocket c = sock(type);
        c.connect(VMADDR_CID_LOCAL, port);
        VsockSocket a = track(l.accept());
        l.close();
        return new VsockSocket[] {c, a};
    }

    /** Runs a blocking call on a helper thread. */
    <T> Future<T> background(java.util.concurrent.Callable<T> c) {
        return helpers.submit(c);
    }

    /** Waits until {@code n} threads sleep on the virtual clock (a blocking call is parked on its timeout). */
    void awaitSleepers(int n) throws InterruptedException {
        clock().awaitSleepers(n);
    }

    /**
     * Runs a call that blocks on a virtual-clock timeout (SO_RCVTIMEO, SO_SNDTIMEO, SO_LINGER) on a
     * helper thread, waits until it sleeps on the clock, moves virtual time by {@code nanos} and
     * hands back its outcome; asserts it had not returned before the time passed.
     */
    KernelTrace.Call afterVirtual(KernelTrace.Call c, long nanos) throws Exception {
        int before = clock().sleepers();
        Future<KernelTrace.Outcome> f = background(() -> KernelTrace.Scenario.run(c));
        awaitSleepers(before + 1);
        org.assertj.core.api.Assertions.assertThat(f.isDone()).as("call returned before its timeout passed").isFalse();
        clock().advance(nanos);
        KernelTrace.Outcome o = get(f);
        return () -> {
            if (o.errno != null) {
                throw new io.vsocksim.uapi.ErrnoException(io.vsocksim.uapi.Errno.valueOf(o.errno), "replayed");
            }
            return o.ret;
        };
    }

    static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    static CompletableFuture<Void> done() {
        return CompletableFuture.completedFuture(null);
    }

    /** fcntl(F_GETFL) as the traces recorded it: O_RDWR, plus O_NONBLOCK (04000) when set. */
    static long getfl(VsockSocket s) {
        return 2 | (s.sock().nonblock ? 04000 : 0);
    }
}
