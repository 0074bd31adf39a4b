package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Closing a channel on which another thread is blocked wakes that thread with
 * {@link AsynchronousCloseException}; interrupting it closes the channel with
 * {@link ClosedByInterruptException}. Afterwards the channel's descriptors are gone.
 */
@Timeout(60)
class NioCloseWhileBlockedTest extends NioTestBase {

    private static Throwable cause(Future<?> f) throws InterruptedException {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the blocked call was not woken", e);
        }
    }

    @Test
    void shouldWakeABlockedReadWithAsynchronousCloseException() throws Exception {
        SocketChannel[] p = t.pair(7000);
        try (SocketChannel c = p[0]) {
            SocketChannel a = p[1];
            Future<Integer> r = t.blocked(() -> a.read(ByteBuffer.allocate(8))).future();
            a.close();
            assertThat(cause(r)).isExactlyInstanceOf(AsynchronousCloseException.class);
            assertThat(t.serverProc.files().openDescriptors()).as("the last thread out closed it").isEmpty();
            assertThat(c.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        }
    }

    @Test
    void shouldWakeABlockedWriteWithAsynchronousCloseException() throws Exception {
        SocketChannel[] p = t.pair(7000);
        try (SocketChannel a = p[1]) {
            SocketChannel c = p[0];
            c.configureBlocking(false);
            assertThat(c.write(ByteBuffer.allocate(1 << 20))).as("the peer's whole buffer").isEqualTo(262144);
            assertThat(c.write(ByteBuffer.allocate(1))).as("no credit left").isZero();
            c.configureBlocking(true);
            Future<Integer> w = t.blocked(() -> c.write(ByteBuffer.allocate(1))).future();
            c.close();
            assertThat(cause(w)).isExactlyInstanceOf(AsynchronousCloseException.class);
            assertThat(t.clientProc.files().openDescriptors()).isEmpty();
        }
    }

    @Test
    void shouldWakeAThreadInTheSocketAdaptorsTimedReadWithAsynchronousCloseException() throws Exception {
        SocketChannel[] p = t.pair(7000);
        try (SocketChannel c = p[0]) {
            SocketChannel a = p[1];
            a.socket().setSoTimeout(60_000);
            Future<Integer> r = t.blocked(() -> a.socket().getInputStream().read()).future();
            a.close();
            assertThat(cause(r)).isExactlyInstanceOf(AsynchronousCloseException.class);
            assertThat(t.serverProc.files().openDescriptors()).as("the socket and the wake-up eventfd").isEmpty();
            assertThat(c.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        }
    }

    @Test
    void shouldWakeABlockedAcceptAndFreeThePort() throws Exception {
        ServerSocketChannel l = t.listen(7000);
        Future<SocketChannel> acc = t.blocked(() -> l.accept()).future();
        l.close();
        assertThat(cause(acc)).isExactlyInstanceOf(AsynchronousCloseException.class);
        assertThat(t.serverProc.files().openDescriptors()).as("listener and eventfd closed").isEmpty();
        t.listen(7000).close();
    }

    @Test
    void shouldCloseTheChannelWhenABlockedReaderIsInterrupted() throws Exception {
        SocketChannel[] p = t.pair(7000);
        try (SocketChannel c = p[0]) {
            SocketChannel a = p[1];
            boolean[] interrupted = new boolean[1];
            NioTestContext.Call<Integer> r = t.blocked(() -> {
                try {
                    return a.read(ByteBuffer.allocate(8));
                } finally {
                    interrupted[0] = Thread.interrupted();
                }
            });
            r.thread().interrupt();
            assertThat(cause(r.future())).isExactlyInstanceOf(ClosedByInterruptException.class);
            assertThat(interrupted[0]).as("the interrupt status stays set").isTrue();
            assertThat(a.isOpen()).isFalse();
            assertThat(t.serverProc.files().openDescriptors()).isEmpty();
        }
    }
}
