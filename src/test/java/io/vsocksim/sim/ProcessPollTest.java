package io.vsocksim.sim;

import static io.vsocksim.uapi.Errno.EINTR;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ERESTARTNOHAND;
import static io.vsocksim.uapi.Poll.POLLIN;
import static io.vsocksim.uapi.Poll.POLLNVAL;
import static io.vsocksim.uapi.Poll.POLLOUT;
import static io.vsocksim.uapi.Poll.POLLRDNORM;
import static io.vsocksim.uapi.Poll.POLLWRNORM;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.fs.Select;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** poll(2) over several descriptors of a process (fs/select.c do_poll), on a loopback machine. */
@Timeout(60)
class ProcessPollTest extends ProcessTestBase {

    private int[] connect(int port) {
        return t.connect(port, false);
    }

    @Test
    void shouldReportPollnvalForClosedDescriptorsAndSkipNegativeOnes() {
        int[] p = connect(5000);
        PollFd[] fds = {new PollFd(-1, POLLIN), new PollFd(77, POLLIN), new PollFd(p[0], POLLIN)};
        assertThat(server.poll(fds, 3, -1)).as("a closed descriptor is ready at once").isEqualTo(1);
        assertThat(fds[0].revents).isZero();
        assertThat(fds[1].revents).isEqualTo((short) POLLNVAL);
        assertThat(fds[2].revents).isZero();
    }

    @Test
    void shouldReturnEveryReadyDescriptorWithoutWaitingWhenSeveralAreReady() {
        int[] a = connect(5000);
        int[] b = connect(5001);
        PollFd[] fds = {new PollFd(a[0], POLLIN | POLLOUT), new PollFd(b[0], POLLIN | POLLOUT)};
        assertThat(server.poll(fds, 2, 0)).isEqualTo(2);
        assertThat(fds[0].revents).as("only what was asked for, with ERR and HUP").isEqualTo((short) POLLOUT);
        assertThat(fds[1].revents).isEqualTo((short) POLLOUT);
        PollFd[] norm = {new PollFd(a[0], POLLWRNORM)};
        assertThat(server.poll(norm, 1, 0)).isEqualTo(1);
        assertThat(norm[0].revents).isEqualTo((short) POLLWRNORM);

        PollFd[] in = {new PollFd(a[0], POLLIN), new PollFd(b[0], POLLIN)};
        assertThat(server.poll(in, 2, 0)).as("nothing to read, no wait").isZero();
    }

    @Test
    void shouldWakeOnTheDescriptorThatBecomesReadableWhenWaitingOnSeveral() throws Exception {
        int[] a = connect(5000);
        int[] b = connect(5001);
        PollFd[] fds = {new PollFd(a[0], POLLIN), new PollFd(b[0], POLLIN)};
        Future<Integer> poller = pool.submit(() -> server.poll(fds, 2, -1));
        assertThat(client.send(b[1], ByteBuffer.wrap(new byte[] {42}), 0)).isEqualTo(1);
        assertThat(poller.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(fds[0].revents).isZero();
        assertThat(fds[1].revents).isEqualTo((short) POLLIN);
        PollFd[] norm = {new PollFd(b[0], POLLIN | POLLRDNORM)};
        assertThat(server.poll(norm, 1, 0)).isEqualTo(1);
        assertThat(norm[0].revents).isEqualTo((short) (POLLIN | POLLRDNORM));
    }

    @Test
    void shouldReturnZeroWhenTheTimeoutPassesOnTheMachinesClock() throws Exception {
        int[] a = connect(5000);
        PollFd[] fds = {new PollFd(a[0], POLLIN)};
        Future<Integer> poller = pool.submit(() -> server.poll(fds, 1, 100));
        TestMachine.clock(m).awaitSleepers(1);
        TestMachine.clock(m).advance(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(poller.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(fds[0].revents).isZero();
    }

    @Test
    void shouldEndARestartedPollAtTheEndTimeOfItsFirstTry() throws Exception {
        VirtualClock clock = TestMachine.clock(m);
        assertThat(Select.pollEndTime(clock, 0)).isEqualTo(Select.NO_WAIT);
        assertThat(Select.pollEndTime(clock, -1)).isEqualTo(Select.NO_TIMEOUT);
        long end = Select.pollEndTime(clock, 100);
        assertThat(end).isEqualTo(clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100));
        int efd = server.eventfd(0, 0);
        PollFd[] fds = {new PollFd(efd, POLLIN)};
        Thread.currentThread().interrupt(); // a signal is pending: the first try ends before it sleeps
        assertThat(Select.poll(UserInternals.files(server), fds, 1, end, clock)).isEqualTo(-ERESTARTNOHAND);
        assertThat(Thread.interrupted()).isTrue();
        clock.advance(TimeUnit.MILLISECONDS.toNanos(100)); // the timeout passes before the restart
        // do_restart_poll hands do_sys_poll the same end time: one more pass, 0, no new wait (on this
        // manual clock a fresh 100-ms timeout would never end).
        Future<Integer> restarted = pool.submit(() -> Select.poll(UserInternals.files(server), fds, 1, end, clock));
        assertThat(restarted.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(fds[0].revents).isZero();
    }

    @Test
    void shouldFailWithEintrWhenThePollerIsInterruptedAndEinvalForTooManyDescriptors() throws Exception {
        int[] a = connect(5000);
        PollFd[] fds = {new PollFd(a[0], POLLIN)};
        Thread[] self = new Thread[1];
        Future<Integer> poller = pool.submit(() -> {
            self[0] = Thread.currentThread();
            int r = server.poll(fds, 1, -1);
            Thread.interrupted(); // the pending "signal" is handled
            return r;
        });
        TestMachine.clock(m).awaitSleepers(1);
        self[0].interrupt();
        assertThat(poller.get(10, TimeUnit.SECONDS)).isEqualTo(-EINTR);

        assertThat(UserInternals.files(server).setRlimitNofile(1)).isZero();
        PollFd[] two = {new PollFd(-1, POLLIN), new PollFd(-1, POLLIN)};
        assertThat(server.poll(two, 2, 0)).isEqualTo(-EINVAL);
        assertThat(UserInternals.files(server).setRlimitNofile(1024)).isZero();
    }

    @Test
    void shouldReplaceTheSetsWithTheReadyDescriptorsWhenSelecting() throws Exception {
        int[] a = connect(5000);
        int[] b = connect(5001);
        java.util.BitSet rd = new java.util.BitSet();
        rd.set(a[0]);
        rd.set(b[0]);
        java.util.BitSet wr = new java.util.BitSet();
        wr.set(a[0]);
        long[] tv = {0, 0};
        assertThat(server.select(64, rd, wr, null, tv)).as("only a[0] is writable").isEqualTo(1);
        assertThat(rd.isEmpty()).isTrue();
        assertThat(wr.get(a[0])).isTrue();

        assertThat(client.send(b[1], ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        rd.set(a[0]);
        rd.set(b[0]);
        Future<Integer> sel = pool.submit(() -> server.select(64, rd, null, null, null));
        assertThat(sel.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(rd.get(b[0])).isTrue();
        assertThat(rd.get(a[0])).isFalse();
    }

    @Test
    void shouldFailSelectWithEbadfForAClosedDescriptorAndEinvalForANegativeCount() {
        java.util.BitSet rd = new java.util.BitSet();
        rd.set(9);
        assertThat(server.select(10, rd, null, null, new long[] {0, 0})).isEqualTo(-io.vsocksim.uapi.Errno.EBADF);
        assertThat(rd.get(9)).as("sets untouched on error").isTrue();
        assertThat(server.select(9, rd, null, null, new long[] {0, 0})).as("fd 9 is not below n").isZero();
        assertThat(server.select(-1, null, null, null, null)).isEqualTo(-EINVAL);
        assertThat(server.select(0, null, null, null, new long[] {-1, 0})).isEqualTo(-EINVAL);
    }

    @Test
    void shouldReturnZeroAndLeaveNoTimeInTheTimevalWhenSelectTimesOut() throws Exception {
        int[] a = connect(5000);
        java.util.BitSet rd = new java.util.BitSet();
        rd.set(a[0]);
        long[] tv = {2, 500_000};
        Future<Integer> sel = pool.submit(() -> server.select(a[0] + 1, rd, null, null, tv));
        TestMachine.clock(m).awaitSleepers(1);
        TestMachine.clock(m).advance(TimeUnit.MILLISECONDS.toNanos(2500));
        assertThat(sel.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(rd.isEmpty()).isTrue();
        assertThat(tv).containsExactly(0, 0);
    }
}
