package io.vsocksim.user;

import static io.vsocksim.user.Outcome.thrown;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.NetWorlds.World;
import io.vsocksim.user.internal.JdkErrors;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Calls that wait, side by side on JDK TCP and the vsock face: SO_TIMEOUT on read and accept, connect
 * timeouts, close() ending a blocked call, and {@code Thread.interrupt()} not ending one.
 */
class JavaNetBlockingTest extends NetTestBase {
    /** SO_TIMEOUT and connect timeouts the tests set (never compared with elapsed time). */
    private static final int TIMEOUT_MS = 200;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() throws Exception {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    private List<World> allWorlds() throws Exception {
        return List.of(worlds.tcp(), worlds.guestToHost(), worlds.loopback());
    }

    @Test
    void shouldThrowReadTimedOutAndStayUsableWhenSoTimeoutPasses() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            p[0].setSoTimeout(TIMEOUT_MS);
            InputStream in = p[0].getInputStream();
            assertThat(Outcome.of(in::read)).isEqualTo(thrown(SocketTimeoutException.class, "Read timed out"));
            p[1].getOutputStream().write(42);
            assertThat(in.read()).as("still usable after the timeout").isEqualTo(42);
            assertThat(p[0].getSoTimeout()).isEqualTo(TIMEOUT_MS);
        }
    }

    @Test
    void shouldThrowAcceptTimedOutAndStayUsableWhenSoTimeoutPasses() throws Exception {
        for (World w : allWorlds()) {
            ServerSocket l = w.listen();
            l.setSoTimeout(TIMEOUT_MS);
            assertThat(Outcome.of(() -> worlds.track(l.accept()))).isEqualTo(thrown(SocketTimeoutException.class, "Accept timed out"));
            Socket c = w.socket();
            c.connect(w.addressOf(l));
            Socket a = worlds.track(l.accept());
            a.getOutputStream().write(7);
            assertThat(c.getInputStream().read()).isEqualTo(7);
        }
    }

    /**
     * Guest 3 connects to the hypervisor's CID (0): the host's vhost drops packets not addressed to
     * it, so no answer ever comes. TCP is not run: an address that never answers (a non-routable
     * one) is not reliable on a CI machine, so the JDK's message is asserted on vsock alone.
     */
    @Test
    void shouldThrowConnectTimedOutWhenTheGuestsPeerNeverAnswers() throws Exception {
        Socket s = worlds.guestNet().socket();
        assertThat(Outcome.of(() -> s.connect(VsockAddress.ofHypervisorPort(1234), TIMEOUT_MS)))
                .isEqualTo(thrown(SocketTimeoutException.class, JdkErrors.CONNECT_TIMED_OUT));
        assertThat(s.isConnected()).isFalse();
        assertThat(Outcome.of(() -> s.connect(VsockAddress.ofHypervisorPort(1234))))
                .as("the failed connect closed the impl, as NioSocketImpl's does")
                .isEqualTo(thrown(SocketException.class, "Socket closed"));
    }

    @Test
    void shouldThrowConnectionTimedOutWhenVsocksOwnConnectTimeoutComesFirst() throws Exception {
        // SO_VM_SOCKETS_CONNECT_TIMEOUT is 2 s: it ends a blocking connect, and a timed one that would wait longer
        Socket blocking = worlds.guestNet().socket();
        assertThat(Outcome.of(() -> blocking.connect(VsockAddress.ofHypervisorPort(1234))))
                .isEqualTo(thrown(ConnectException.class, "Connection timed out"));
        Socket timed = worlds.guestNet().socket();
        assertThat(Outcome.of(() -> timed.connect(VsockAddress.ofHypervisorPort(1234), 10_000)))
                .isEqualTo(thrown(ConnectException.class, "Connection timed out"));
    }

    /** Runs {@code body} on a pool thread, returning once that thread ({@code thread}) is inside one of {@code frames}. */
    private <T> Future<T> blockedIn(java.util.concurrent.Callable<T> body, CompletableFuture<Thread> thread,
            String... frames) throws Exception {
        Future<T> f = pool.submit(() -> {
            thread.complete(Thread.currentThread());
            return body.call();
        });
        Outcome.awaitInside(thread.get(), frames);
        return f;
    }

    /** What a thread blocked in accept on {@code w}'s listener ends with when another closes it. */
    private Outcome acceptEndedByClose(World w) throws Exception {
        ServerSocket l = w.listen();
        CompletableFuture<Thread> t = new CompletableFuture<>();
        Future<Outcome> accept = blockedIn(() -> Outcome.of(() -> worlds.track(l.accept())), t,
                "Net.accept", "VsockFd.accept");
        l.close();
        return accept.get();
    }

    @Test
    void shouldThrowSocketClosedInTheThreadBlockedInAcceptWhenTheServerSocketIsClosed() throws Exception {
        for (World w : allWorlds()) {
            assertThat(acceptEndedByClose(w)).isEqualTo(thrown(SocketException.class, "Socket closed"));
        }
    }

    @Test
    void shouldThrowSocketClosedInTheThreadBlockedInReadWhenTheSocketIsClosed() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            InputStream in = p[0].getInputStream();
            CompletableFuture<Thread> t = new CompletableFuture<>();
            Future<Outcome> read = blockedIn(() -> Outcome.of(in::read), t, "SocketDispatcher.read0", "VsockFd.read");
            p[0].close();
            assertThat(read.get()).isEqualTo(thrown(SocketException.class, "Socket closed"));
            assertThat(t.get().isInterrupted()).as("close() leaves no interrupt behind").isFalse();
        }
    }

    @Test
    void shouldKeepBlockingInReadAndKeepTheInterruptWhenTheThreadIsInterrupted() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            InputStream in = p[0].getInputStream();
            CompletableFuture<Thread> t = new CompletableFuture<>();
            Future<int[]> read = blockedIn(() -> new int[] {in.read(), Thread.currentThread().isInterrupted() ? 1 : 0},
                    t, "SocketDispatcher.read0", "VsockFd.read");
            t.get().interrupt();
            p[1].getOutputStream().write(9);
            assertThat(read.get()).as("{byte read, interrupt status after}").containsExactly(9, 1);
        }
    }

    @Test
    void shouldReadEndOfStreamAtThePeerAndStillReceiveWhenOutputIsShutDown() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            p[0].getOutputStream().write(new byte[] {1, 2});
            p[0].shutdownOutput();
            InputStream peerIn = p[1].getInputStream();
            assertThat(peerIn.readAllBytes()).containsExactly(1, 2);
            assertThat(peerIn.read()).isEqualTo(-1);
            p[1].getOutputStream().write(3); // the other direction is still open
            assertThat(p[0].getInputStream().read()).isEqualTo(3);
            assertThat(p[0].isOutputShutdown()).isTrue();
            assertThat(p[0].isInputShutdown()).isFalse();
        }
    }

    @Test
    void shouldReadEndOfStreamAndRefuseTheStreamAfterShutdownInput() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            InputStream in = p[0].getInputStream();
            p[0].shutdownInput();
            assertThat(in.read()).isEqualTo(-1);
            assertThat(p[0].isInputShutdown()).isTrue();
            assertThat(Outcome.of(p[0]::getInputStream)).isEqualTo(thrown(SocketException.class, "Socket input is shutdown"));
            assertThat(Outcome.of(p[0]::shutdownInput)).isEqualTo(thrown(SocketException.class, "Socket input is already shutdown"));
        }
    }

    @Test
    void shouldReportTheBytesLeftAsAvailable() throws Exception {
        for (World w : allWorlds()) {
            Socket[] p = NetWorlds.connect(worlds, w);
            InputStream in = p[0].getInputStream();
            assertThat(in.available()).isZero();
            p[1].getOutputStream().write(new byte[] {1, 2, 3, 4, 5});
            assertThat(in.read()).isEqualTo(1); // waits for the bytes, which came in one write
            assertThat(in.available()).isEqualTo(4);
            assertThat(in.readNBytes(4)).containsExactly(2, 3, 4, 5);
            assertThat(in.available()).isZero();
        }
    }
}
