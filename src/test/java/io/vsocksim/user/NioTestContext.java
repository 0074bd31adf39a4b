package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.user.nio.VsockSelectorProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A loopback test machine (threaded work, manual virtual clock) with a server and a client process, each
 * with its NIO provider, and a thread pool for calls that block. {@link #close()} stops the threads and ends
 * both processes, which closes whatever the test left open.
 */
final class NioTestContext implements AutoCloseable {
    final Machine m;
    final UserProcess serverProc;
    final UserProcess clientProc;
    final VsockSelectorProvider server;
    final VsockSelectorProvider client;
    final ExecutorService pool = Executors.newCachedThreadPool();

    NioTestContext(String name, LeakCheck leaks) {
        m = TestMachine.threaded(name, leaks);
        serverProc = UserProcess.spawn(m, "server");
        clientProc = UserProcess.spawn(m, "client");
        server = VsockSelectorProvider.of(serverProc);
        client = VsockSelectorProvider.of(clientProc);
    }

    /** A listening server channel on {@code port} (any CID). */
    ServerSocketChannel listen(int port) throws IOException {
        ServerSocketChannel l = server.openServerSocketChannel();
        l.bind(VsockAddress.ofAnyCIDPort(port));
        return l;
    }

    /** A connected pair over loopback: {client, accepted}; both blocking. */
    SocketChannel[] pair(int port) throws IOException {
        try (ServerSocketChannel l = listen(port)) {
            SocketChannel c = client.openSocketChannel();
            assertThat(c.connect(VsockAddress.ofLocalPort(port))).isTrue();
            SocketChannel a = l.accept();
            return new SocketChannel[] {c, a};
        }
    }

    /** A connected pair of JDK TCP channels over the loopback interface: {client, accepted}; both blocking. */
    static SocketChannel[] tcpPair() throws IOException {
        try (ServerSocketChannel l = ServerSocketChannel.open()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel c = SocketChannel.open(l.getLocalAddress());
            return new SocketChannel[] {c, l.accept()};
        }
    }

    /**
     * Runs {@code call} on a pool thread and returns once that thread is inside {@code frame}
     * ({@code "SimpleClassName.method"}, for a JDK channel or selector, which does not sleep in the simulator)
     * or the call is done.
     */
    <T> Future<T> blockedIn(String frame, Callable<T> call) throws InterruptedException {
        BlockingQueue<Thread> started = new ArrayBlockingQueue<>(1);
        Future<T> f = pool.submit(() -> {
            started.add(Thread.currentThread());
            return call.call();
        });
        Thread th = started.take();
        while (!f.isDone() && !inside(th, frame)) {
            Thread.yield();
        }
        return f;
    }

    private static boolean inside(Thread th, String frame) {
        for (StackTraceElement e : th.getStackTrace()) {
            String cls = e.getClassName();
            if ((cls.substring(cls.lastIndexOf('.') + 1) + "." + e.getMethodName()).equals(frame)) {
                return true;
            }
        }
        return false;
    }

    /** A call running on a pool thread. */
    record Call<T>(Future<T> future, Thread thread) {
    }

    /**
     * Runs {@code call} on a pool thread and returns once that thread sleeps in the simulator: parked on the
     * machine's clock (poll, epoll_wait) or on a wait queue (a blocked recv or send).
     */
    <T> Call<T> blocked(Callable<T> call) throws InterruptedException {
        BlockingQueue<Thread> started = new ArrayBlockingQueue<>(1);
        Future<T> f = pool.submit(() -> {
            started.add(Thread.currentThread());
            return call.call();
        });
        Thread th = started.take();
        while (!sleepsInSimulator(th) && !f.isDone()) {
            Thread.yield();
        }
        return new Call<>(f, th);
    }

    private static boolean sleepsInSimulator(Thread th) {
        Thread.State st = th.getState();
        if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : th.getStackTrace()) {
            if (e.getClassName().startsWith("io.vsocksim.")) {
                return e.getClassName().equals(VirtualClock.class.getName()) && e.getMethodName().equals("awaitUntil")
                        || e.getClassName().equals(WaitQueueHead.class.getName()) && e.getMethodName().startsWith("sleep");
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        serverProc.close();
        clientProc.close();
    }
}
