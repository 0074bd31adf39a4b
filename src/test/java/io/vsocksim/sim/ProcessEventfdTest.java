package io.vsocksim.sim;

import static io.vsocksim.fs.EventFd.EFD_CLOEXEC;
import static io.vsocksim.fs.EventFd.EFD_NONBLOCK;
import static io.vsocksim.fs.EventFd.EFD_SEMAPHORE;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Epoll;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** eventfd(2) by descriptor (fs/eventfd.c): counter, semaphore mode, blocking, poll and epoll readiness. */
@Timeout(60)
class ProcessEventfdTest extends ProcessTestBase {

    private static ByteBuffer u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
    }

    private long readValue(int fd) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long n = server.read(fd, b);
        return n < 0 ? n : b.getLong(0);
    }

    @Test
    void shouldAddWritesAndReturnAndResetTheCounterOnRead() {
        assertThat(server.eventfd(0, 0x4)).as("unknown flag").isEqualTo(-EINVAL);
        int efd = server.eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
        assertThat(server.fcntl(efd, Fcntl.F_GETFD, 0)).isEqualTo(Fcntl.FD_CLOEXEC);
        assertThat(server.fcntl(efd, Fcntl.F_GETFL, 0)).isEqualTo(Fcntl.O_RDWR | Fcntl.O_NONBLOCK);
        assertThat(server.write(efd, u64(4))).isEqualTo(8);
        ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 5);
        assertThat(server.write(efd, big)).as("8 bytes of a longer buffer").isEqualTo(8);
        assertThat(big.position()).isEqualTo(8);
        assertThat(readValue(efd)).isEqualTo(12);
        assertThat(readValue(efd)).as("empty, non-blocking").isEqualTo(-EAGAIN);
        assertThat(server.read(efd, ByteBuffer.allocate(7))).isEqualTo(-EINVAL);
        assertThat(server.write(efd, ByteBuffer.allocate(4))).isEqualTo(-EINVAL);
        assertThat(server.write(efd, u64(-1))).as("ULLONG_MAX").isEqualTo(-EINVAL);
        assertThat(server.write(efd, u64(-2))).isEqualTo(8);
        assertThat(server.write(efd, u64(1))).as("would reach ULLONG_MAX").isEqualTo(-EAGAIN);
        assertThat(server.close(efd)).isZero();
        assertThat(server.read(efd, ByteBuffer.allocate(8))).isEqualTo(-EBADF);
    }

    @Test
    void shouldTakeOneAtATimeInSemaphoreMode() {
        int efd = server.eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
        assertThat(readValue(efd)).isEqualTo(1);
        assertThat(readValue(efd)).isEqualTo(1);
        assertThat(readValue(efd)).isEqualTo(-EAGAIN);
    }

    @Test
    void shouldReportReadinessToPollAndEpoll() {
        int efd = server.eventfd(0, EFD_NONBLOCK);
        PollFd[] fds = {new PollFd(efd, POLLIN | POLLOUT)};
        assertThat(server.poll(fds, 1, 0)).isEqualTo(1);
        assertThat(fds[0].revents).isEqualTo((short) POLLOUT);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, Epoll.EPOLL_CTL_ADD, efd, new Epoll.Event(Epoll.EPOLLIN, 77))).isZero();
        Epoll.Event[] out = new Epoll.Event[2];
        assertThat(server.epollWait(ep, out, 2, 0)).isZero();
        assertThat(server.write(efd, u64(1))).isEqualTo(8);
        assertThat(server.epollWait(ep, out, 2, 0)).isEqualTo(1);
        assertThat(out[0].events).isEqualTo(Epoll.EPOLLIN);
        assertThat(out[0].data).isEqualTo(77);
        assertThat(readValue(efd)).isEqualTo(1);
        assertThat(server.epollWait(ep, out, 2, 0)).isZero();
    }

    @Test
    void shouldBlockAReaderUntilAWriteAndEndTheWaitWithEintrOnInterrupt() throws Exception {
        int efd = server.eventfd(0, 0);
        Future<Long> r = pool.submit(() -> readValue(efd));
        while (((io.vsocksim.fs.EventFd) UserInternals.files(server).peek(efd)).fileWaitQueue().waiters() == 0) {
            Thread.yield(); // the reader is on its way to sleep
        }
        assertThat(server.write(efd, u64(9))).isEqualTo(8);
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo(9);

        Thread[] reader = new Thread[1];
        Future<Long> blocked = pool.submit(() -> {
            reader[0] = Thread.currentThread();
            return readValue(efd);
        });
        while (((io.vsocksim.fs.EventFd) UserInternals.files(server).peek(efd)).fileWaitQueue().waiters() == 0) {
            Thread.yield();
        }
        reader[0].interrupt();
        assertThat(blocked.get(10, TimeUnit.SECONDS)).isEqualTo(-EINTR);
    }
}
