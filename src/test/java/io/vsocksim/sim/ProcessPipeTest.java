package io.vsocksim.sim;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Fcntl.FD_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.F_GETFD;
import static io.vsocksim.uapi.Fcntl.F_GETFL;
import static io.vsocksim.uapi.Fcntl.F_SETFL;
import static io.vsocksim.uapi.Fcntl.O_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.O_DIRECT;
import static io.vsocksim.uapi.Fcntl.O_NONBLOCK;
import static io.vsocksim.uapi.Fcntl.O_RDONLY;
import static io.vsocksim.uapi.Fcntl.O_WRONLY;
import static io.vsocksim.uapi.Poll.POLLERR;
import static io.vsocksim.uapi.Poll.POLLHUP;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Poll.POLLRDNORM;
import static io.vsocksim.uapi.Poll.POLLWRNORM;
import static io.vsocksim.uapi.Signal.SA_RESTART;
import static io.vsocksim.uapi.Signal.SIGPIPE;
import static io.vsocksim.uapi.Signal.SIGUSR1;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.fs.Pipe;
import io.vsocksim.uapi.Epoll;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * pipe2(2) by descriptor, as fs/pipe.c has it: EPIPE with SIGPIPE, end of file, the 16-page ring and
 * PIPE_BUF atomicity on a non-blocking pipe, poll bits of each end, close-on-exec, packet mode, blocking
 * ends woken by the other side. Every wait is on an event (a sleeper on the pipe's queue), never on time.
 */
@Timeout(60)
class ProcessPipeTest extends ProcessTestBase {
    private static final int ALL = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
    private static final int PAGE = 4096;

    /** pipe2(flags) in {@code p}: {read end, write end}. */
    private static int[] pipe(UserProcess p, int flags) {
        int[] fds = new int[2];
        assertThat(p.pipe2(fds, flags)).isZero();
        return fds;
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String read(UserProcess p, int fd, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        long n = p.read(fd, b);
        return n < 0 ? "-" + io.vsocksim.uapi.Errno.name((int) -n) : new String(b.array(), 0, (int) n, StandardCharsets.US_ASCII);
    }

    private static int revents(UserProcess p, int fd) {
        PollFd[] fds = {new PollFd(fd, ALL)};
        p.poll(fds, 1, 0);
        return fds[0].revents & 0xffff;
    }

    /** Spins until a thread sleeps on the queue of {@code fd}'s pipe end (no time involved). */
    private static void awaitSleeper(UserProcess p, int fd) {
        while (UserInternals.files(p).peek(fd).fileWaitQueue().waiters() == 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void shouldFailWithEpipeAndRaiseSigpipeWhenTheReadEndIsClosed() {
        AtomicInteger sigpipes = new AtomicInteger();
        assertThat(server.sigaction(SIGPIPE, sig -> sigpipes.incrementAndGet(), 0)).isZero();
        int[] p = pipe(server, 0);
        assertThat(server.close(p[0])).isZero();
        assertThat(server.write(p[1], ByteBuffer.allocate(0))).as("a null write succeeds first").isZero();
        assertThat(sigpipes.get()).isZero();
        ByteBuffer b = bytes("x");
        assertThat(server.write(p[1], b)).isEqualTo(-EPIPE);
        assertThat(b.position()).isZero();
        assertThat(sigpipes.get()).isEqualTo(1);

        assertThat(client.sigaction(SIGPIPE, UserProcess.SIG_IGN, 0)).isZero();
        int[] q = pipe(client, 0);
        assertThat(client.close(q[0])).isZero();
        assertThat(client.write(q[1], bytes("x"))).as("ignored: EPIPE alone").isEqualTo(-EPIPE);
        assertThat(client.exitSignal()).isZero();
        assertThat(client.sigaction(SIGPIPE, UserProcess.SIG_DFL, 0)).isZero();
        assertThat(client.write(q[1], bytes("x"))).isEqualTo(-EPIPE);
        assertThat(client.exitSignal()).as("the default action ends the writer").isEqualTo(SIGPIPE);
    }

    @Test
    void shouldNotFailTheWriteWhileAForkedChildStillHoldsTheReadEnd() {
        int[] p = pipe(server, 0);
        UserProcess child = server.fork();
        try {
            assertThat(server.close(p[0])).isZero();
            assertThat(server.write(p[1], bytes("hi"))).isEqualTo(2);
            assertThat(read(child, p[0], 8)).isEqualTo("hi");
            child.close();
            assertThat(server.write(p[1], bytes("hi"))).isEqualTo(-EPIPE);
            assertThat(server.exitSignal()).isEqualTo(SIGPIPE);
        } finally {
            child.close();
        }
    }

    @Test
    void shouldReadWhatIsThereThenZeroWhenTheWriteEndIsClosed() {
        int[] p = pipe(server, 0);
        assertThat(server.write(p[1], bytes("abc"))).isEqualTo(3);
        assertThat(server.write(p[1], bytes("de"))).isEqualTo(2);
        assertThat(read(server, p[0], 4)).isEqualTo("abcd");
        assertThat(server.close(p[1])).isZero();
        assertThat(read(server, p[0], 4)).isEqualTo("e");
        assertThat(read(server, p[0], 4)).as("end of file").isEmpty();
        assertThat(server.read(p[0], ByteBuffer.allocate(0))).isZero();
    }

    @Test
    void shouldFailWithEagainWhenANonBlockingPipeIsFullAndWriteAtMostPipeBufBytesWholeOrNotAtAll() {
        int[] p = pipe(server, O_NONBLOCK);
        assertThat(read(server, p[0], 8)).isEqualTo("-EAGAIN");
        ByteBuffer big = ByteBuffer.allocate(70_000);
        assertThat(server.write(p[1], big)).as("16 pages, the rest left").isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
        assertThat(big.position()).isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
        assertThat(server.write(p[1], bytes("x"))).isEqualTo(-EAGAIN);
        assertThat(server.read(p[0], ByteBuffer.allocate(100))).isEqualTo(100);
        assertThat(server.write(p[1], bytes("x"))).as("the first page is not free yet").isEqualTo(-EAGAIN);
        assertThat(server.read(p[0], ByteBuffer.allocate(PAGE - 100))).isEqualTo(PAGE - 100);
        assertThat(server.write(p[1], ByteBuffer.allocate(PAGE + 1))).as("one free slot").isEqualTo(PAGE);

        int[] q = pipe(server, O_NONBLOCK);
        assertThat(server.write(q[1], ByteBuffer.allocate(Pipe.PIPE_DEF_BUFFERS * PAGE - 10)))
                .isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE - 10);
        assertThat(server.write(q[1], ByteBuffer.allocate(20))).as("PIPE_BUF: not 10 of the 20").isEqualTo(-EAGAIN);
        assertThat(server.write(q[1], ByteBuffer.allocate(10))).as("merged into the last page").isEqualTo(10);
        assertThat(((Pipe.PipeFile) UserInternals.files(server).peek(q[0])).pipe().bytes()).isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
    }

    @Test
    void shouldReportEachEndsPollBitsAsPipePollDoes() {
        int[] p = pipe(server, O_NONBLOCK);
        assertThat(Poll.names(revents(server, p[0]))).isEqualTo(Poll.names(0));
        assertThat(Poll.names(revents(server, p[1]))).isEqualTo(Poll.names(POLLOUT | POLLWRNORM));
        assertThat(server.write(p[1], ByteBuffer.allocate(Pipe.PIPE_DEF_BUFFERS * PAGE))).isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
        assertThat(Poll.names(revents(server, p[0]))).isEqualTo(Poll.names(POLLIN | POLLRDNORM));
        assertThat(Poll.names(revents(server, p[1]))).as("full").isEqualTo(Poll.names(0));
        assertThat(server.close(p[1])).isZero();
        assertThat(Poll.names(revents(server, p[0]))).isEqualTo(Poll.names(POLLIN | POLLRDNORM | POLLHUP));
        assertThat(server.read(p[0], ByteBuffer.allocate(Pipe.PIPE_DEF_BUFFERS * PAGE))).isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
        assertThat(Poll.names(revents(server, p[0]))).isEqualTo(Poll.names(POLLHUP));

        int[] q = pipe(server, 0);
        assertThat(server.close(q[0])).isZero();
        assertThat(Poll.names(revents(server, q[1]))).isEqualTo(Poll.names(POLLOUT | POLLWRNORM | POLLERR));
    }

    @Test
    void shouldWakeAnEdgeTriggeredEpollOnEveryWriteOnceThePipeWasPolled() {
        int[] p = pipe(server, O_NONBLOCK);
        int ep = server.epollCreate1(0);
        assertThat(server.epollCtl(ep, Epoll.EPOLL_CTL_ADD, p[0], new Epoll.Event(Epoll.EPOLLIN | Epoll.EPOLLET, 5))).isZero();
        Epoll.Event[] out = new Epoll.Event[1];
        assertThat(server.write(p[1], bytes("a"))).isEqualTo(1);
        assertThat(server.epollWait(ep, out, 1, 0)).isEqualTo(1);
        assertThat(server.epollWait(ep, out, 1, 0)).as("edge-triggered: reported once").isZero();
        assertThat(server.write(p[1], bytes("b"))).as("the pipe was not empty").isEqualTo(1);
        assertThat(server.epollWait(ep, out, 1, 0)).as("poll_usage: a wake-up anyway").isEqualTo(1);
        assertThat(out[0].events).isEqualTo(Epoll.EPOLLIN);
    }

    @Test
    void shouldOpenEndsReadOnlyAndWriteOnlyAndCloseThemOnExecWithOCloexec() {
        int[] p = pipe(server, O_CLOEXEC | O_NONBLOCK);
        int[] q = pipe(server, 0);
        assertThat(p).containsExactly(0, 1);
        assertThat(q).containsExactly(2, 3);
        assertThat(server.fcntl(p[0], F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(server.fcntl(p[1], F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(server.fcntl(q[0], F_GETFD, 0)).isZero();
        assertThat(server.fcntl(p[0], F_GETFL, 0)).isEqualTo(O_RDONLY | O_NONBLOCK);
        assertThat(server.fcntl(p[1], F_GETFL, 0)).isEqualTo(O_WRONLY | O_NONBLOCK);
        assertThat(server.fcntl(q[1], F_GETFL, 0)).isEqualTo(O_WRONLY);
        server.exec();
        assertThat(server.fcntl(p[0], F_GETFL, 0)).isEqualTo(-EBADF);
        assertThat(server.fcntl(p[1], F_GETFL, 0)).isEqualTo(-EBADF);
        assertThat(server.write(q[1], bytes("ok"))).isEqualTo(2);
        assertThat(read(server, q[0], 2)).isEqualTo("ok");
    }

    @Test
    void shouldRefuseUnknownFlagsAMissingArrayAndTheWrongDirection() {
        int[] fds = {-1, -1};
        assertThat(server.pipe2(fds, 0x1)).isEqualTo(-EINVAL);
        assertThat(server.pipe2(fds, Pipe.O_NOTIFICATION_PIPE)).isEqualTo(-EINVAL);
        assertThat(server.pipe2(null, 0)).isEqualTo(-EFAULT);
        assertThat(fds).containsExactly(-1, -1);
        int[] p = pipe(server, 0);
        assertThat(p).as("nothing was used up").containsExactly(0, 1);
        assertThat(server.write(p[0], bytes("x"))).isEqualTo(-EBADF);
        assertThat(server.read(p[1], ByteBuffer.allocate(1))).isEqualTo(-EBADF);
        assertThat(UserInternals.files(server).setRlimitNofile(3)).isZero();
        assertThat(server.pipe2(fds, 0)).as("one descriptor free").isEqualTo(-io.vsocksim.uapi.Errno.EMFILE);
        assertThat(UserInternals.files(server).openDescriptors()).containsExactly(0, 1);
    }

    @Test
    void shouldReadOnePacketPerReadInPacketMode() {
        int[] p = pipe(server, O_DIRECT | O_NONBLOCK);
        assertThat(server.write(p[1], bytes("ab"))).isEqualTo(2);
        assertThat(server.write(p[1], bytes("cde"))).isEqualTo(3);
        assertThat(read(server, p[0], 10)).isEqualTo("ab");
        assertThat(read(server, p[0], 1)).as("the rest of the packet is dropped").isEqualTo("c");
        assertThat(read(server, p[0], 10)).isEqualTo("-EAGAIN");
        assertThat(server.fcntl(p[1], F_SETFL, O_NONBLOCK)).as("back to a byte stream").isZero();
        assertThat(server.write(p[1], bytes("fg"))).isEqualTo(2);
        assertThat(server.write(p[1], bytes("h"))).isEqualTo(1);
        assertThat(read(server, p[0], 10)).isEqualTo("fgh");
        assertThat(server.fcntl(p[0], F_SETFL, O_DIRECT)).as("a FIFO may take O_DIRECT").isZero();
    }

    @Test
    void shouldBlockAReaderUntilDataAndAWriterUntilRoom() throws Exception {
        int[] p = pipe(server, 0);
        Future<String> r = pool.submit(() -> read(server, p[0], 8));
        awaitSleeper(server, p[0]);
        assertThat(server.write(p[1], bytes("wake"))).isEqualTo(4);
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo("wake");

        assertThat(server.write(p[1], ByteBuffer.allocate(Pipe.PIPE_DEF_BUFFERS * PAGE))).isEqualTo(Pipe.PIPE_DEF_BUFFERS * PAGE);
        Future<Long> w = pool.submit(() -> server.write(p[1], ByteBuffer.allocate(PAGE + 10)));
        awaitSleeper(server, p[1]);
        assertThat(server.read(p[0], ByteBuffer.allocate(2 * PAGE))).isEqualTo(2 * PAGE);
        assertThat(w.get(10, TimeUnit.SECONDS)).as("both parts once two slots are free").isEqualTo(PAGE + 10L);
    }

    @Test
    void shouldRestartABlockedReadAfterAnSaRestartHandlerAndFailWithEintrWithoutIt() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        int[] p = pipe(server, 0);
        assertThat(server.sigaction(SIGUSR1, sig -> handled.incrementAndGet(), 0)).isZero();
        Future<String> r = pool.submit(() -> read(server, p[0], 8));
        awaitSleeper(server, p[0]);
        assertThat(client.kill(server, SIGUSR1)).isZero();
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo("-" + io.vsocksim.uapi.Errno.name(EINTR));

        assertThat(server.sigaction(SIGUSR1, sig -> handled.incrementAndGet(), SA_RESTART)).isZero();
        Future<String> again = pool.submit(() -> read(server, p[0], 8));
        awaitSleeper(server, p[0]);
        assertThat(client.kill(server, SIGUSR1)).isZero();
        while (handled.get() < 2) {
            Thread.onSpinWait();
        }
        awaitSleeper(server, p[0]); // restarted: asleep again
        assertThat(server.write(p[1], bytes("late"))).isEqualTo(4);
        assertThat(again.get(10, TimeUnit.SECONDS)).isEqualTo("late");
    }
}
