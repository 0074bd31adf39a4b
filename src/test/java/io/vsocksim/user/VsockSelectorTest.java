package io.vsocksim.user;

import static java.nio.channels.SelectionKey.OP_ACCEPT;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.TestMachine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Selector of the NIO face: epoll readiness, wakeup, timeouts, cancelled keys, close while selecting. */
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

    @Test
    void shouldReturnFromABlockedSelectWhenWokenUpAndConsumeTheWakeUp() throws Exception {
        try (Selector sel = t.server.openSelector()) {
            Future<Integer> f = t.blocked(() -> sel.select()).future();
            sel.wakeup();
            sel.wakeup(); // a second one before the selector ran changes nothing
            assertThat(f.get(10, TimeUnit.SECONDS)).isZero();
            sel.wakeup();
            assertThat(sel.select()).as("a wake-up before the select ends it at once").isZero();
            sel.wakeup();
            assertThat(sel.selectNow()).as("selectNow clears it").isZero();
            Future<Integer> timed = t.blocked(() -> sel.select(500)).future();
            TestMachine.clock(t.m).advance(TimeUnit.MILLISECONDS.toNanos(500));
            assertThat(timed.get(10, TimeUnit.SECONDS)).as("nothing happened; the wake-up was consumed").isZero();
        }
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

    @Test
    void shouldEndASelectionWhenAnotherThreadClosesTheSelector() throws Exception {
        SocketChannel[] p = t.pair(6000);
        try (SocketChannel c = p[0]; SocketChannel a = p[1]) {
            Selector sel = t.server.openSelector();
            a.configureBlocking(false);
            SelectionKey k = a.register(sel, OP_READ);
            Future<Integer> f = t.blocked(() -> sel.select()).future();
            sel.close();
            assertThat(f.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(k.isValid()).isFalse();
            assertThat(a.isRegistered()).isFalse();
            assertThatThrownBy(sel::selectNow).isInstanceOf(ClosedSelectorException.class);
            assertThat(t.serverProc.files().openDescriptors()).as("epoll and eventfd closed; the channel stays")
                    .containsExactly(((int[]) t.serverProc.files().openDescriptors())[0]);
            a.configureBlocking(true);
            c.write(ByteBuffer.wrap(new byte[] {9}));
            assertThat(a.read(ByteBuffer.allocate(1))).isEqualTo(1);
        }
    }
}
