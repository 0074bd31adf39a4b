package io.vsocksim.sim;

import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Errno.ESRCH;
import static io.vsocksim.uapi.Signal.SA_RESTART;
import static io.vsocksim.uapi.Signal.SIGKILL;
import static io.vsocksim.uapi.Signal.SIGPIPE;
import static io.vsocksim.uapi.Signal.SIGUSR1;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.SHUT_WR;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Signals between processes and what they do to a blocked call: handlers with and without
 * SA_RESTART, ignored signals, SIGPIPE from send, kill's checks. Every wait is on an event (a sleeper
 * on the socket's wait queue, a handler having run), never on time.
 */
@Timeout(60)
class ProcessSignalTest extends ProcessTestBase {
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final AtomicInteger handlerRuns = new AtomicInteger();

    /** {accepted, client} descriptors. */
    private int[] connected() {
        return t.connect(6000, false);
    }

    private void handler(int sig) {
        handled.add(Thread.currentThread().getName() + ":" + sig);
        handlerRuns.incrementAndGet();
    }

    /** Spins until a thread sleeps on the socket behind {@code fd} of {@code p} (no time involved). */
    private static void awaitSleeper(UserProcess p, int fd) {
        io.vsocksim.net.SocketFile s = (io.vsocksim.net.SocketFile) UserInternals.files(p).peek(fd);
        while (s.sock().sleep.waiters() == 0) {
            Thread.onSpinWait();
        }
    }

    private Future<Long> reader(int fd) {
        return pool.submit(() -> {
            Thread.currentThread().setName("reader");
            return server.recv(fd, ByteBuffer.allocate(16), 0);
        });
    }

    @Test
    void shouldRunTheHandlerAndRestartTheRecvWhenSaRestartIsSet() throws Exception {
        int[] p = connected();
        assertThat(server.sigaction(SIGUSR1, this::handler, SA_RESTART)).isZero();
        Future<Long> r = reader(p[0]);
        awaitSleeper(server, p[0]);

        assertThat(client.kill(server, SIGUSR1)).isZero();
        while (handlerRuns.get() == 0) {
            Thread.onSpinWait();
        }
        awaitSleeper(server, p[0]); // restarted: asleep again
        assertThat(r.isDone()).isFalse();
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1, 2, 3}), 0)).isEqualTo(3);
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo(3L);
        assertThat(handled).containsExactly("reader:" + SIGUSR1);
    }

    @Test
    void shouldFailWithEintrAfterTheHandlerWhenSaRestartIsNotSet() throws Exception {
        int[] p = connected();
        assertThat(server.sigaction(SIGUSR1, this::handler, 0)).isZero();
        Future<Long> r = reader(p[0]);
        awaitSleeper(server, p[0]);
        assertThat(client.kill(server, SIGUSR1)).isZero();
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo((long) -EINTR);
        assertThat(handled).containsExactly("reader:" + SIGUSR1);
    }

    @Test
    void shouldFailWithEintrEvenWithSaRestartWhenTheRecvHasATimeout() throws Exception {
        int[] p = connected();
        assertThat(server.sigaction(SIGUSR1, this::handler, SA_RESTART)).isZero();
        ByteBuffer tv = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 5).putLong(8, 0);
        VsockSocket s = server.fdopen(p[0]);
        s.setsockopt(io.vsocksim.uapi.Sock.SOL_SOCKET, io.vsocksim.uapi.Sock.SO_RCVTIMEO, tv, 16);
        Future<Long> r = reader(p[0]);
        awaitSleeper(server, p[0]);
        assertThat(client.kill(server, SIGUSR1)).isZero();
        assertThat(r.get(10, TimeUnit.SECONDS)).as("sock_intr_errno: EINTR for a finite timeout").isEqualTo((long) -EINTR);
        assertThat(handlerRuns.get()).isEqualTo(1);
    }

    @Test
    void shouldFailPollWithEintrWhenAHandlerRanWhateverSaRestart() throws Exception {
        int[] p = connected();
        assertThat(server.sigaction(SIGUSR1, this::handler, SA_RESTART)).isZero();
        PollFd[] fds = {new PollFd(p[0], Poll.POLLIN)};
        Future<Integer> r = pool.submit(() -> server.poll(fds, 1, -1));
        TestMachine.clock(m).awaitSleepers(1); // the poller sleeps on the clock
        assertThat(client.kill(server, SIGUSR1)).isZero();
        assertThat(r.get(10, TimeUnit.SECONDS)).as("ERESTARTNOHAND").isEqualTo(-EINTR);
    }

    @Test
    void shouldNotDisturbTheCallWhenTheSignalIsIgnored() throws Exception {
        int[] p = connected();
        assertThat(server.sigaction(SIGUSR1, UserProcess.SIG_IGN, 0)).isZero();
        Future<Long> r = reader(p[0]);
        awaitSleeper(server, p[0]);
        assertThat(client.kill(server, SIGUSR1)).isZero();
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {9}), 0)).isEqualTo(1);
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo(1L);
        assertThat(server.exitSignal()).isZero();
    }

    @Test
    void shouldEndTheProcessWithSigpipeWhenSendFailsWithEpipeUnderTheDefaultAction() {
        int[] p = connected();
        assertThat(client.shutdown(p[1], SHUT_WR)).isZero();
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), MSG_NOSIGNAL)).isEqualTo(-EPIPE);
        assertThat(client.exitSignal()).as("MSG_NOSIGNAL: no signal").isZero();

        assertThat(client.sigaction(SIGPIPE, this::handler, 0)).isZero();
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(-EPIPE);
        assertThat(handled).containsExactly(Thread.currentThread().getName() + ":" + SIGPIPE);

        assertThat(client.sigaction(SIGPIPE, UserProcess.SIG_IGN, 0)).isZero();
        assertThat(client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(-EPIPE);
        assertThat(client.exitSignal()).isZero();

        assertThat(client.sigaction(SIGPIPE, UserProcess.SIG_DFL, 0)).isZero();
        client.send(p[1], ByteBuffer.wrap(new byte[] {1}), 0);
        assertThat(client.exitSignal()).isEqualTo(SIGPIPE);
        assertThat(UserInternals.files(client).openDescriptors()).as("exit closed every descriptor").isEmpty();
        assertThat(server.kill(client, 0)).isEqualTo(-ESRCH);
    }

    @Test
    void shouldCheckSignalNumbersAndPermissionsWhenKilling() {
        assertThat(client.kill(server, 65)).isEqualTo(-EINVAL);
        assertThat(client.kill(server, -1)).isEqualTo(-EINVAL);
        assertThat(client.kill(server, 0)).isZero();
        assertThat(server.sigaction(SIGKILL, this::handler, 0)).isEqualTo(-EINVAL);
        assertThat(client.setuid(1000)).isZero();
        assertThat(client.kill(server, 0)).as("uid 1000 may not signal root").isEqualTo(-EPERM);
        assertThat(server.kill(client, 0)).as("root has CAP_KILL").isZero();
    }

    @Test
    void shouldNotRaiseSigpipeWhenASeqpacketSendFailsWithEpipe() {
        int l = server.socket(AF_VSOCK, io.vsocksim.uapi.Sock.SOCK_SEQPACKET, 0);
        assertThat(server.bind(l, io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY, 6001)).isZero();
        assertThat(server.listen(l, 1)).isZero();
        int c = client.socket(AF_VSOCK, io.vsocksim.uapi.Sock.SOCK_SEQPACKET, 0);
        assertThat(client.connect(c, io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL, 6001)).isZero();
        assertThat(server.accept4(l, 0)).isNotNegative();
        assertThat(client.shutdown(c, SHUT_WR)).isZero();
        assertThat(client.send(c, ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(-EPIPE);
        assertThat(client.exitSignal()).as("only sk_stream_error raises SIGPIPE").isZero();
    }
}
