package io.vsocksim.user;

import static java.nio.channels.SelectionKey.OP_ACCEPT;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.TestMachine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Selector of the NIO face: epoll readiness, wakeup, timeouts, cancelled keys, close while selecting (the
 * last two beside a JDK TCP selector).
 */
@Timeout(60)
class VsockSelectorTest extends NioTestBase {

    @Test
    void shouldReportAcceptThenWriteThenReadReadiness() throws IOException {
        try (ServerSocketChannel l = t.listen(6000); Selector sel = t.server.openSelector()) {
            l.configureBlocking(false);
            SelectionKey lk = l.register(sel, OP_ACCEPT, "listener");
            assertThat(sel.selectNow()).isZero();
            SocketChannel c = t.client.openSocketChannel();
            c.connect(VsockAddress.ofLocalPort(6000));
            assertThat(sel.select()).isEqualTo(1);
            assertThat(sel.selectedKeys()).containsExactly(lk);
            assertThat(lk.readyOps()).isEqualTo(OP_ACCEPT);
            assertThat(lk.attachment()).isEqualTo("listener");
            sel.selectedKeys().clear();
            SocketChannel a = l.accept();
            a.configureBlocking(false);
            SelectionKey ak = a.register(sel, OP_READ | OP_WRITE);
            assertThat(sel.select()).isEqualTo(1);
            assertThat(ak.readyOps()).as("writable, nothing to read").isEqualTo(OP_WRITE);
            sel.selectedKeys().clear();
            c.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            ak.interestOps(OP_READ);
            assertThat(sel.select()).isEqualTo(1);
            assertThat(ak.readyOps()).isEqualTo(OP_READ);
            List<SelectionKey> seen = new ArrayList<>();
            assertThat(sel.select(seen::add)).as("select(Consumer) leaves the selected set alone").isEqualTo(1);
            assertThat(seen).containsExactly(ak);
            assertThat(sel.selectedKeys()).containsExactly(ak);
            a.close();
            c.close();
        }
    }

    /** Where a selector scenario runs: JDK TCP, or the NIO face with the test machine's manual clock. */
    private interface Side {
        SelectorProvider provider();

        /** A connected pair {client, accepted}, both blocking. */
        SocketChannel[] pair() throws IOException;

        /** Runs {@code call} on another thread, returning once it waits in a selection. */
        <T> Future<T> blockedInSelect(Callable<T> call) throws InterruptedException;

        /** Lets {@code ms} pass for a timed selection that is waiting. */
        void letPass(long ms);
    }

    private Side vsock() {
        return new Side() {
            @Override
            public SelectorProvider provider() {
                return t.server;
            }

            @Override
            public SocketChannel[] pair() throws IOException {
                return t.pair(6000);
            }

            @Override
            public <T> Future<T> blockedInSelect(Callable<T> call) throws InterruptedException {
                return t.blocked(call).future();
            }

            @Override
            public void letPass(long ms) {
                TestMachine.clock(t.m).advance(TimeUnit.MILLISECONDS.toNanos(ms));
            }
        };
    }

    private Side tcp() {
        return new Side() {
            @Override
            public SelectorProvider provider() {
                return SelectorProvider.provider();
            }

            @Override
            public SocketChannel[] pair() throws IOException {
                return NioTestContext.tcpPair();
            }

            @Override
            public <T> Future<T> blockedInSelect(Callable<T> call) throws InterruptedException {
                return t.blockedIn("EPoll.wait", call);
            }

            @Override
            public void letPass(long ms) {
                // the JDK's selector waits in real time
            }
        };
    }

    private static List<String> wakeUps(Side s) throws Exception {
        List<String> out = new ArrayList<>();
        try (Selector sel = s.provider().openSelector()) {
            Future<Integer> f = s.blockedInSelect(sel::select);
            sel.wakeup();
            sel.wakeup(); // a second one before the selector ran changes nothing
            out.add("woken " + f.get(10, TimeUnit.SECONDS));
            sel.wakeup();
            out.add("a wake-up before the select ends it at once " + sel.select());
            sel.wakeup();
            out.add("selectNow clears it " + sel.selectNow());
            Future<Integer> timed = s.blockedInSelect(() -> sel.select(100));
            s.letPass(100);
            out.add("nothing happened, the wake-up was consumed " + timed.get(10, TimeUnit.SECONDS));
            out.add("wakeup returns the selector " + (sel.wakeup() == sel));
        }
        return out;
    }

    @Test
    void shouldReturnFromABlockedSelectWhenWokenUpAndConsumeTheWakeUpAsTheJdkSelectorDoes() throws Exception {
        List<String> tcp = wakeUps(tcp());
        assertThat(wakeUps(vsock())).containsExactlyElementsOf(tcp);
        assertThat(tcp).containsExactly("woken 0", "a wake-up before the select ends it at once 0", "selectNow clears it 0",
                "nothing happened, the wake-up was consumed 0", "wakeup returns the selector true");
    }

    @Test
    void shouldRemoveACancelledKeyAtTheNextSelection() throws IOException {
        SocketChannel[] p = t.pair(6000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]; Selector sel = t.server.openSelector()) {
            a.configureBlocking(false);
            SelectionKey k = a.register(sel, OP_WRITE);
            assertThat(sel.selectNow()).isEqualTo(1);
            k.cancel();
            assertThat(k.isValid()).isFalse();
            assertThat(sel.keys()).as("until the next selection").containsExactly(k);
            assertThat(sel.selectNow()).isZero();
            assertThat(sel.keys()).isEmpty();
            assertThat(sel.selectedKeys()).isEmpty();
            assertThat(a.isRegistered()).isFalse();
            SelectionKey again = a.register(sel, OP_WRITE);
            assertThat(again).isNotSameAs(k);
            assertThat(sel.selectNow()).isEqualTo(1);
        }
    }

    @Test
    void shouldApplyInterestOpsChangedDuringASelectionAtTheNextOne() throws Exception {
        SocketChannel[] p = t.pair(6000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]; Selector sel = t.server.openSelector()) {
            a.configureBlocking(false);
            SelectionKey k = a.register(sel, OP_READ);
            Future<Integer> f = t.blocked(() -> sel.select()).future();
            k.interestOps(OP_WRITE); // queued: the blocked epoll_wait still watches POLLIN only
            sel.wakeup();
            assertThat(f.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(sel.selectNow()).isEqualTo(1);
            assertThat(k.readyOps()).isEqualTo(OP_WRITE);
        }
    }

    @Test
    void shouldCloseARegisteredChannelsDescriptorWhenTheSelectorLetsGo() throws Exception {
        SocketChannel[] p = t.pair(6000);
        try (SocketChannel c = p[0]; Selector sel = t.server.openSelector()) {
            SocketChannel a = p[1];
            a.configureBlocking(false);
            SelectionKey k = a.register(sel, OP_READ);
            int open = t.serverProc.files().openDescriptors().length;
            Future<Integer> f = t.blocked(() -> sel.select()).future();
            a.close();
            assertThat(k.isValid()).isFalse();
            assertThat(t.serverProc.files().openDescriptors()).as("held while registered").hasSize(open);
            assertThat(c.read(ByteBuffer.allocate(1))).as("but the peer sees the end of the stream now")
                    .isEqualTo(-1);
            sel.wakeup();
            assertThat(f.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(sel.selectNow()).isZero();
            assertThat(t.serverProc.files().openDescriptors()).as("deregistered: closed").hasSize(open - 1);
        }
    }

    private static List<String> closeWhileSelecting(Side s, Runnable afterClose) throws Exception {
        List<String> out = new ArrayList<>();
        SocketChannel[] p = s.pair();
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            Selector sel = s.provider().openSelector();
            a.configureBlocking(false);
            SelectionKey k = a.register(sel, OP_READ);
            Future<Integer> f = s.blockedInSelect(sel::select);
            sel.close();
            out.add("the selection ends with " + f.get(10, TimeUnit.SECONDS));
            out.add("key valid " + k.isValid() + ", channel registered " + a.isRegistered() + ", open " + a.isOpen());
            try {
                sel.selectNow();
                out.add("selectNow returned");
            } catch (ClosedSelectorException e) {
                out.add("selectNow " + e.getClass().getSimpleName());
            }
            afterClose.run();
            a.configureBlocking(true);
            c.write(ByteBuffer.wrap(new byte[] {9}));
            out.add("the channel still reads " + a.read(ByteBuffer.allocate(1)));
        }
        return out;
    }

    @Test
    void shouldEndASelectionWhenAnotherThreadClosesTheSelectorAsTheJdkSelectorDoes() throws Exception {
        List<String> tcp = closeWhileSelecting(tcp(), () -> { });
        List<String> vsock = closeWhileSelecting(vsock(), () -> assertThat(t.serverProc.files().openDescriptors())
                .as("epoll and eventfd closed; the channel stays").hasSize(1));
        assertThat(vsock).containsExactlyElementsOf(tcp);
        assertThat(tcp).containsExactly("the selection ends with 0", "key valid false, channel registered false, open true",
                "selectNow ClosedSelectorException", "the channel still reads 1");
    }
}
