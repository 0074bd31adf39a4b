package io.vsocksim.sim;

import static io.vsocksim.testing.Errnos.errnoOf;
import static io.vsocksim.uapi.Errno.EACCES;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Signal.SA_RESTART;
import static io.vsocksim.uapi.Signal.SIGUSR1;
import static io.vsocksim.uapi.Sock.MSG_CMSG_CLOEXEC;
import static io.vsocksim.uapi.Sock.SHUT_RD;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The object face sits on the descriptor face: a {@link VsockSocket} is a descriptor of its process,
 * and its calls are that process's calls, with its credentials, signals and the net/socket.c steps of
 * the calls by descriptor. Every wait is on an event, never on time.
 */
@Timeout(60)
class ObjectFaceTest extends ProcessTestBase {
    /** {listener, accepted, client}: a loopback connection made through the object face. */
    private VsockSocket[] connected(int port) throws ErrnoException {
        VsockSocket l = server.socket(SOCK_STREAM);
        l.bind(VMADDR_CID_ANY, port);
        l.listen(1);
        VsockSocket c = client.socket(SOCK_STREAM);
        c.connect(VMADDR_CID_LOCAL, port);
        return new VsockSocket[] {l, l.accept(), c};
    }

    @Test
    void shouldInstallTheLowestFreeDescriptorWhenAnObjectFaceSocketIsMade() throws Exception {
        int a = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        int b = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.close(a)).isZero();

        VsockSocket s = server.socket(SOCK_STREAM);
        assertThat(s.fd()).as("the lowest free number").isEqualTo(a).isZero();
        assertThat(UserInternals.files(server).openDescriptors()).containsExactly(0, b);
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM, 0)).as("the next call by descriptor skips it").isEqualTo(2);

        VsockSocket e = VsockSocket.open(m, SOCK_STREAM);
        assertThat(e.process()).as("a machine's socket belongs to its embedder process").isSameAs(UserProcess.embedder(m));
        assertThat(UserInternals.files(UserProcess.embedder(m)).openDescriptors()).contains(e.fd());
        e.close();
        assertThat(UserInternals.files(UserProcess.embedder(m)).openDescriptors()).doesNotContain(e.fd());
    }

    @Test
    void shouldRefuseAPrivilegedPortWithEaccesAfterTheProcessDropsRoot() throws Exception {
        VsockSocket s = server.socket(SOCK_STREAM);
        assertThat(server.setuid(65534)).isZero();
        assertThat(errnoOf(() -> s.bind(VMADDR_CID_ANY, 1000)))
                .as("CAP_NET_BIND_SERVICE is checked against the caller at bind time").isEqualTo(EACCES);
        s.bind(VMADDR_CID_ANY, 1024);
        assertThat(s.getsockname().port()).isEqualTo(1024);
    }

    @Test
    void shouldReportMsgCmsgCloexecInMsgFlagsWhenRecvmsgIsPassedIt() throws Exception {
        VsockSocket[] p = connected(6100);
        p[2].send(ByteBuffer.wrap(new byte[] {7}), 0);
        int[] flags = {-1};
        ByteBuffer in = ByteBuffer.allocate(8);
        assertThat(p[1].recvmsg(in, MSG_CMSG_CLOEXEC, flags)).isEqualTo(1);
        assertThat(flags[0]).as("____sys_recvmsg ORs it into msg_flags").isEqualTo(MSG_CMSG_CLOEXEC);
        assertThat(in.get(0)).isEqualTo((byte) 7);
    }

    @Test
    void shouldRestartABlockingObjectFaceRecvAfterAnSaRestartHandler() throws Exception {
        VsockSocket[] p = connected(6101);
        AtomicInteger handled = new AtomicInteger();
        assertThat(server.sigaction(SIGUSR1, sig -> handled.incrementAndGet(), SA_RESTART)).isZero();
        Future<Integer> r = pool.submit(() -> p[1].recv(ByteBuffer.allocate(16), 0));
        awaitSleeper(p[1]);

        assertThat(client.kill(server, SIGUSR1)).isZero();
        while (handled.get() == 0) {
            Thread.onSpinWait();
        }
        awaitSleeper(p[1]); // restarted: asleep again
        assertThat(r.isDone()).isFalse();
        p[2].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(handled.get()).isEqualTo(1);
    }

    @Test
    void shouldKeepTheSocketAliveThroughADupWhenTheHandleIsClosed() throws Exception {
        VsockSocket[] p = connected(6102);
        int copy = server.dup(p[1].fd());
        p[1].close();
        assertThat(UserInternals.files(server).peek(p[1].fd())).as("the handle's descriptor is closed").isNull();
        assertThat(errnoOf(() -> p[1].recv(ByteBuffer.allocate(1), 0))).isEqualTo(EBADF);
        assertThat(UserInternals.sock(p[1]).sockFlag(io.vsocksim.vsock.VsockSock.SOCK_DEAD)).as("the dup keeps the socket").isFalse();

        p[2].send(ByteBuffer.wrap(new byte[] {4, 5}), 0);
        assertThat(server.recv(copy, ByteBuffer.allocate(8), 0)).isEqualTo(2L);
        assertThat(server.close(copy)).isZero();
        assertThat(UserInternals.sock(p[1]).sockFlag(io.vsocksim.vsock.VsockSock.SOCK_DEAD)).as("the last descriptor released it").isTrue();
    }

    @Test
    void shouldFailWithEpipeAndLiveOnWhenAMachineSocketWritesToAClosedStream() throws Exception {
        VsockSocket l = VsockSocket.open(m, SOCK_STREAM);
        l.bind(VMADDR_CID_ANY, 6103);
        l.listen(1);
        VsockSocket c = VsockSocket.open(m, SOCK_STREAM);
        c.connect(VMADDR_CID_LOCAL, 6103);
        VsockSocket a = l.accept();
        try {
            a.shutdown(SHUT_RD);
            c.shutdown(io.vsocksim.uapi.Sock.SHUT_WR);
            assertThatThrownBy(() -> c.write(ByteBuffer.wrap(new byte[] {1})))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(EPIPE));
            assertThat(c.sigpipes()).as("sk_stream_error decided on SIGPIPE").isEqualTo(1);
            assertThat(UserProcess.embedder(m).exitSignal()).as("the embedder ignores SIGPIPE, as a JVM does").isZero();
            assertThat(UserInternals.files(UserProcess.embedder(m)).openDescriptors()).as("nothing was closed")
                    .contains(l.fd(), c.fd(), a.fd());
        } finally {
            a.close();
            c.close();
            l.close();
        }
    }

    /** Spins until a thread sleeps on {@code s}'s socket (no time involved). */
    private static void awaitSleeper(VsockSocket s) {
        while (UserInternals.sock(s).sleep.waiters() == 0) {
            Thread.onSpinWait();
        }
    }
}
