package io.vsocksim.differential;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.user.UserProcess;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
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
 * the sockets a scenario opens (closed after the test), the recording program's process where
 * descriptor numbers matter ({@link #proc()}), and helper threads for blocking calls.
 */
abstract class TraceFixture {
    /** Base port of a scenario ("P" in the traces): arbitrary, only offsets matter. */
    static final int P = 20000;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    Machine m;
    private final List<VsockSocket> open = new ArrayList<>();
    private UserProcess proc;
    /** The sockets {@link #proc} opened: closed with it, their connect timers flushed at the end. */
    private final List<VsockSocket> procSockets = new ArrayList<>();
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
        if (proc != null) {
            proc.close(); // process exit: its descriptors are closed
        }
        open.forEach(VsockSocket::close);
        TestMachine.settle(m);
        // Virtual time is now past every connect timeout; a worker fires a due timer only when it
        // wakes, so wait for the non-blocking connects' timers (they hold a socket reference).
        open.forEach(s -> UserInternals.sock(s).connectWork.flush());
        procSockets.forEach(s -> UserInternals.sock(s).connectWork.flush());
        TestMachine.settle(m);
        helpers.shutdownNow();
        m.close();
    }

    /**
     * The process the recording program was, for the scenarios whose descriptor numbers the traces
     * record (socket, accept4): every socket such a scenario opened up to its last recorded number is
     * opened here, in the recorded order, so the numbers match. The recording program ran with stdin,
     * stdout and stderr open, so its first descriptor was 3; a pipe and a duplicate of its write end
     * take 0, 1 and 2 here for the same reason.
     */
    UserProcess proc() {
        if (proc == null) {
            proc = UserProcess.spawn(m, "trace");
            int[] stdio = new int[2];
            assertThat(proc.pipe2(stdio, 0)).isZero();
            assertThat(proc.dup(stdio[1])).isEqualTo(2);
        }
        return proc;
    }

    /** socket(AF_VSOCK, type, 0) in {@link #proc()}: the descriptor (type may carry SOCK_NONBLOCK/SOCK_CLOEXEC). */
    int socketFd(int type) throws ErrnoException {
        return opened(sys(proc().socket(VmSockets.AF_VSOCK, type, 0)));
    }

    /** accept4(2) in {@link #proc()}: the new descriptor. */
    int acceptFd(int listener, int flags) throws ErrnoException {
        return opened(sys(proc().accept4(listener, flags)));
    }

    /** A listening socket of {@link #proc()} bound to (ANY, {@code port}): its descriptor. */
    int listenerFd(int type, int port, int backlog) throws ErrnoException {
        int fd = socketFd(type);
        file(fd).bind(VMADDR_CID_ANY, port);
        file(fd).listen(backlog);
        return fd;
    }

    private int opened(int fd) {
        procSockets.add(file(fd));
        return fd;
    }

    /** The socket behind descriptor {@code fd} of {@link #proc()}. */
    VsockSocket file(int fd) {
        try {
            return proc().fdopen(fd); // a handle on the descriptor: the process's exit closes it
        } catch (ErrnoException e) {
            throw new AssertionError("descriptor " + fd + " of the trace's process", e);
        }
    }

    /** A C return value as the trace replays it: {@code -errno} becomes the errno, anything else the value. */
    static int sys(long ret) throws ErrnoException {
        if (ret < 0) {
            throw new ErrnoException((int) -ret, "syscall");
        }
        return (int) ret;
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
        return track(VsockSocket.open(m, type));
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
}
