package io.vsocksim.sim;

import static io.vsocksim.uapi.Epoll.EPOLLERR;
import static io.vsocksim.uapi.Epoll.EPOLLET;
import static io.vsocksim.uapi.Epoll.EPOLLEXCLUSIVE;
import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLLONESHOT;
import static io.vsocksim.uapi.Epoll.EPOLLOUT;
import static io.vsocksim.uapi.Epoll.EPOLLRDHUP;
import static io.vsocksim.uapi.Epoll.EPOLL_CLOEXEC;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_ADD;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_DEL;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_MOD;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EEXIST;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENOENT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.fs.EventPoll;
import io.vsocksim.uapi.Epoll.Event;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** epoll over sockets by descriptor (fs/eventpoll.c): ctl's rules, LT, ET, ONESHOT, EXCLUSIVE. */
@Timeout(60)
class ProcessEpollTest extends ProcessTestBase {

    private void sendOne(int[] p) {
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {7}), 0)).isEqualTo(1);
        m.quiesce(); // the loopback work delivered it
    }

    private int waitNow(int ep, Event[] out) {
        return server.epollWait(ep, out, out.length, 0);
    }

    @Test
    void shouldCheckEpollCtlArgumentsInTheKernelsOrder() {
        int[] p = t.connect(7000, false);
        assertThat(server.epollCreate1(0x1)).isEqualTo(-EINVAL);
        int ep = server.epollCreate1(EPOLL_CLOEXEC);
        assertThat(server.fcntl(ep, Fcntl.F_GETFD, 0)).isEqualTo(Fcntl.FD_CLOEXEC);
        Event in = new Event(EPOLLIN, 42);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], null)).isEqualTo(-EFAULT);
        assertThat(server.epollCtl(99, EPOLL_CTL_ADD, p[0], in)).isEqualTo(-EBADF);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, 99, in)).isEqualTo(-EBADF);
        assertThat(server.epollCtl(p[0], EPOLL_CTL_ADD, p[0], in)).as("not an epoll descriptor").isEqualTo(-EINVAL);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, ep, in)).as("itself").isEqualTo(-EINVAL);
        assertThat(server.epollCtl(ep, EPOLL_CTL_DEL, p[0], null)).isEqualTo(-ENOENT);
        assertThat(server.epollCtl(ep, EPOLL_CTL_MOD, p[0], in)).isEqualTo(-ENOENT);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 0)))
                .as("EPOLLRDHUP is not allowed with EPOLLEXCLUSIVE").isEqualTo(-EINVAL);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], in)).isZero();
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], in)).isEqualTo(-EEXIST);
        assertThat(server.epollCtl(ep, EPOLL_CTL_MOD, p[0], new Event(EPOLLIN | EPOLLEXCLUSIVE, 0))).isEqualTo(-EINVAL);
        assertThat(server.epollCtl(ep, 9, p[0], in)).isEqualTo(-EINVAL);
        assertThat(server.epollWait(ep, new Event[1], 0, 0)).isEqualTo(-EINVAL);
        assertThat(server.epollWait(p[0], new Event[1], 1, 0)).isEqualTo(-EINVAL);
        assertThat(server.epollCtl(ep, EPOLL_CTL_DEL, p[0], null)).isZero();
        assertThat(((EventPoll) UserInternals.files(server).peek(ep)).size()).isZero();
    }

    @Test
    void shouldReportALevelTriggeredSocketForAsLongAsItStaysReadable() {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN, 42))).isZero();
        Event[] out = new Event[4];
        assertThat(waitNow(ep, out)).isZero();
        sendOne(p);
        assertThat(waitNow(ep, out)).isEqualTo(1);
        assertThat(out[0].events).isEqualTo(EPOLLIN);
        assertThat(out[0].data).isEqualTo(42);
        assertThat(waitNow(ep, out)).as("still unread: reported again").isEqualTo(1);
        assertThat(server.recv(p[0], ByteBuffer.allocate(8), 0)).isEqualTo(1);
        assertThat(waitNow(ep, out)).isZero();
    }

    @Test
    void shouldReportAnEdgeTriggeredSocketOncePerWakeUp() {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN | EPOLLET, 1))).isZero();
        Event[] out = new Event[4];
        sendOne(p);
        assertThat(waitNow(ep, out)).isEqualTo(1);
        assertThat(waitNow(ep, out)).as("no new edge").isZero();
        sendOne(p);
        assertThat(waitNow(ep, out)).isEqualTo(1);
    }

    @Test
    void shouldDisableAOneShotItemUntilModRearmsIt() {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN | EPOLLONESHOT, 5))).isZero();
        Event[] out = new Event[4];
        sendOne(p);
        assertThat(waitNow(ep, out)).isEqualTo(1);
        sendOne(p);
        assertThat(waitNow(ep, out)).as("disabled").isZero();
        assertThat(server.epollCtl(ep, EPOLL_CTL_MOD, p[0], new Event(EPOLLIN | EPOLLONESHOT, 6))).isZero();
        assertThat(waitNow(ep, out)).isEqualTo(1);
        assertThat(out[0].data).isEqualTo(6);
    }

    @Test
    void shouldAlwaysReportErrorsAndWatchWritability() {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLOUT, 3))).isZero();
        Event[] out = new Event[4];
        assertThat(waitNow(ep, out)).isEqualTo(1);
        assertThat(out[0].events).isEqualTo(EPOLLOUT);
        assertThat(out[0].events & EPOLLERR).isZero();
    }

    @Test
    void shouldWakeABlockedWaiterAndTimeOutOnTheMachineClock() throws Exception {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN, 9))).isZero();
        Event[] out = new Event[2];
        Future<Integer> w = pool.submit(() -> server.epollWait(ep, out, 2, -1));
        TestMachine.clock(m).awaitSleepers(1);
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(out[0].data).isEqualTo(9);

        assertThat(server.recv(p[0], ByteBuffer.allocate(8), 0)).isEqualTo(1);
        Future<Integer> timed = pool.submit(() -> server.epollWait(ep, out, 2, 500));
        TestMachine.clock(m).awaitSleepers(1);
        TestMachine.clock(m).advance(TimeUnit.MILLISECONDS.toNanos(500));
        assertThat(timed.get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void shouldForgetAnItemWhenItsSocketIsReleased() {
        int[] p = t.connect(7000, false);
        int ep = server.epollCreate1(0);
        int copy = server.dup(p[0]);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN, 1))).isZero();
        EventPoll e = (EventPoll) UserInternals.files(server).peek(ep);
        assertThat(server.close(p[0])).isZero();
        assertThat(e.size()).as("the dup keeps the file, so the item stays").isEqualTo(1);
        assertThat(server.close(copy)).isZero();
        assertThat(e.size()).isZero();
    }

    @Test
    void shouldWakeOnlyTheFirstExclusiveWaiterWhenTwoInstancesWatchOneSocket() throws Exception {
        int[] p = t.connect(7000, false);
        int ep1 = server.epollCreate1(0);
        int ep2 = server.epollCreate1(0);
        assertThat(server.epollCtl(ep1, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN | EPOLLEXCLUSIVE, 1))).isZero();
        assertThat(server.epollCtl(ep2, EPOLL_CTL_ADD, p[0], new Event(EPOLLIN | EPOLLEXCLUSIVE, 2))).isZero();
        Event[] out1 = new Event[1];
        Event[] out2 = new Event[1];
        Future<Integer> w1 = pool.submit(() -> server.epollWait(ep1, out1, 1, 1000));
        Future<Integer> w2 = pool.submit(() -> server.epollWait(ep2, out2, 1, 1000));
        TestMachine.clock(m).awaitSleepers(2);
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        assertThat(w1.get(10, TimeUnit.SECONDS)).as("the first exclusive entry took the wake-up").isEqualTo(1);
        TestMachine.clock(m).advance(TimeUnit.MILLISECONDS.toNanos(1000));
        assertThat(w2.get(10, TimeUnit.SECONDS)).as("never woken, never on its ready list").isZero();
    }
}
