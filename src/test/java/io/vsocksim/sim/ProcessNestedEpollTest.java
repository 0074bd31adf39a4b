package io.vsocksim.sim;

import static io.vsocksim.uapi.Epoll.EPOLLEXCLUSIVE;
import static io.vsocksim.uapi.Epoll.EPOLLIN;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_ADD;
import static io.vsocksim.uapi.Epoll.EPOLL_CTL_DEL;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ELOOP;
import static io.vsocksim.uapi.Poll.POLLIN;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.fs.EventPoll;
import io.vsocksim.uapi.Epoll.Event;
import io.vsocksim.uapi.PollFd;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An epoll file watched by poll(2) and by another epoll instance (fs/eventpoll.c: ep_eventpoll_poll, ep_loop_check). */
@Timeout(60)
class ProcessNestedEpollTest extends ProcessTestBase {

    private int epollOn(int fd, long data) {
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, EPOLL_CTL_ADD, fd, new Event(EPOLLIN, data))).isZero();
        return ep;
    }

    @Test
    void anOuterInstanceReportsAnInnerOneWhenItsSocketBecomesReadable() throws Exception {
        int[] p = t.connect(7100, false);
        int inner = epollOn(p[0], 1);
        int outer = epollOn(inner, 2);
        Event[] out = new Event[2];
        assertThat(server.epollWait(outer, out, 2, 0)).isZero();
        Future<Integer> w = pool.submit(() -> server.epollWait(outer, out, 2, -1));
        TestMachine.clock(m).awaitSleepers(1);
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(out[0].data).isEqualTo(2);
        assertThat(out[0].events).isEqualTo(EPOLLIN);
        Event[] innerOut = new Event[1];
        assertThat(server.epollWait(inner, innerOut, 1, 0)).isEqualTo(1);
        assertThat(innerOut[0].data).isEqualTo(1);
        // Once the data is read the inner instance has nothing really ready: the outer reports nothing.
        assertThat(server.recv(p[0], ByteBuffer.allocate(8), 0)).isEqualTo(1);
        assertThat(server.epollWait(outer, out, 2, 0)).isZero();
    }

    @Test
    void pollOnAnEpollDescriptorWakesWhenAWatchedSocketBecomesReadable() throws Exception {
        int[] p = t.connect(7101, false);
        int ep = epollOn(p[0], 1);
        PollFd[] fds = {new PollFd(ep, POLLIN)};
        assertThat(server.poll(fds, 1, 0)).isZero();
        Future<Integer> w = pool.submit(() -> server.poll(fds, 1, -1));
        TestMachine.clock(m).awaitSleepers(1);
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(fds[0].revents & 0xFFFF).as("POLLRDNORM was not asked for").isEqualTo(POLLIN);
    }

    @Test
    void aCycleOrAChainDeeperThanEpMaxNestsIsEloop() {
        int[] p = t.connect(7102, false);
        int a = epollOn(p[0], 0);
        int b = epollOn(a, 0);
        assertThat(server.epollCtl(a, EPOLL_CTL_ADD, b, new Event(EPOLLIN, 0))).as("a -> b -> a").isEqualTo(-ELOOP);
        assertThat(server.epollCtl(a, EPOLL_CTL_ADD, b, new Event(EPOLLIN | EPOLLEXCLUSIVE, 0)))
                .as("EPOLLEXCLUSIVE on an epoll file, checked before the loop").isEqualTo(-EINVAL);
        // Four links, five instances: e4 -> e3 -> e2 -> b -> a is the deepest chain allowed.
        int e2 = epollOn(b, 0);
        int e3 = epollOn(e2, 0);
        assertThat(EventPoll.EP_MAX_NESTS).isEqualTo(4);
        int e4 = epollOn(e3, 0);
        int e5 = server.epollCreate1(0);
        assertThat(server.epollCtl(e5, EPOLL_CTL_ADD, e4, new Event(EPOLLIN, 0))).as("a fifth link").isEqualTo(-ELOOP);
        assertThat(server.epollCtl(a, EPOLL_CTL_ADD, e4, new Event(EPOLLIN, 0))).as("a cycle through five").isEqualTo(-ELOOP);
        // Dropping a link makes room again.
        assertThat(server.epollCtl(b, EPOLL_CTL_DEL, a, null)).isZero();
        assertThat(server.epollCtl(e5, EPOLL_CTL_ADD, e4, new Event(EPOLLIN, 0))).isZero();
        assertThat(server.epollCtl(b, EPOLL_CTL_ADD, a, new Event(EPOLLIN, 0))).as("e5 -> ... -> b -> a").isEqualTo(-ELOOP);
    }
}
