package io.vsocksim.vsock;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Fixture of the loopback (CID 1) scenario tests: one test machine, the sockets a test opened (closed
 * and settled at the end so {@link LeakCheck} sees every page and socket back), connected pairs for the
 * threaded and the manual machine, and small syscall helpers.
 */
final class LoopbackTestContext implements AutoCloseable {
    final Machine m;
    final boolean manual;
    private final List<VsockSocket> open = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private int nextPort = 5000;

    private LoopbackTestContext(Machine m, boolean manual) {
        this.m = m;
        this.manual = manual;
    }

    /** A context on a machine with real worker threads and a virtual clock. */
    static LoopbackTestContext threaded(String name, LeakCheck leaks) {
        return new LoopbackTestContext(TestMachine.threaded(name, leaks), false);
    }

    /** A context on a fully deterministic machine: nothing runs until {@link #drain()}. */
    static LoopbackTestContext manual(String name, LeakCheck leaks) {
        return new LoopbackTestContext(TestMachine.manual(name, leaks), true);
    }

    VirtualClock clock() {
        return TestMachine.clock(m);
    }

    VsockCounters counters() {
        return SimInternals.counters(m);
    }

    long counter(VsockCounters.Counter c) {
        return SimInternals.counters(m).get(c);
    }

    /** Runs (manual) or waits for (threaded) all queued work, not timers. */
    void drain() {
        TestMachine.drain(m);
    }

    VsockSocket sock(int type) throws ErrnoException {
        VsockSocket s = VsockSocket.open(m, type);
        open.add(s);
        return s;
    }

    /** Registers an accepted socket for closing at the end. */
    VsockSocket adopt(VsockSocket s) {
        open.add(s);
        return s;
    }

    int freshPort() {
        return nextPort++;
    }

    VsockSocket listener(int type, int port) throws ErrnoException {
        VsockSocket l = sock(type);
        l.bind(VMADDR_CID_ANY, port);
        l.listen(64);
        return l;
    }

    /** A connected pair {@code [client, accepted child]} over loopback; the listener stays open. */
    VsockSocket[] pair(int type) throws ErrnoException {
        return pair(type, listener(type, freshPort()));
    }

    /** Connects a new client to {@code l} and accepts it: {@code [client, child]}. */
    VsockSocket[] pair(int type, VsockSocket l) throws ErrnoException {
        VsockSocket c = sock(type);
        int port = l.getsockname().port();
        if (manual) {
            c.setNonBlocking(true);
            assertErrno(() -> c.connect(VMADDR_CID_LOCAL, port), Errno.EINPROGRESS);
            drain();
            c.setNonBlocking(false);
            l.setNonBlocking(true);
            VsockSocket a = adopt(l.accept());
            l.setNonBlocking(false);
            return new VsockSocket[] {c, a};
        }
        c.connect(VMADDR_CID_LOCAL, port);
        return new VsockSocket[] {c, adopt(l.accept())};
    }

    /** Starts {@code body} on a new daemon thread (a second process); its result is the future's. */
    <T> Future<T> spawn(String name, java.util.concurrent.Callable<T> body) {
        FutureTask<T> f = new FutureTask<>(body);
        Thread t = new Thread(f, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return f;
    }

    /** The errno a finished call failed with, or throws if it succeeded or failed otherwise. */
    static int errnoOf(Future<?> f) throws InterruptedException {
        try {
            Object v = f.get();
            throw new AssertionError("expected an errno, call returned " + v);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ErrnoException ee) {
                return ee.errno();
            }
            throw new AssertionError("unexpected failure", e.getCause());
        }
    }

    static void assertErrno(ThrowingCallable call, int errno) {
        io.vsocksim.testing.Errnos.assertErrno(call, errno);
    }

    /** SO_LINGER {onoff, seconds}. */
    static void setLinger(VsockSocket s, boolean on, int seconds) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, on ? 1 : 0).putInt(4, seconds);
        s.setsockopt(Sock.SOL_SOCKET, Sock.SO_LINGER, b, 8);
    }

    static int soError(VsockSocket s) throws ErrnoException {
        return s.getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR);
    }

    /** Current poll revents, without waiting. */
    static int revents(VsockSocket s) throws ErrnoException {
        return s.poll(0xFFFF, 0);
    }

    @Override
    public void close() {
        for (VsockSocket s : open) {
            s.close();
        }
        TestMachine.settle(m);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        m.close();
    }
}
