package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.ECONNRESET;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.internal.UserInternals;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * listen()'s backlog as the syscall layer passes it on (net/socket.c:__sys_listen_socket): compared
 * unsigned with net.core.somaxconn and lowered to it, so -1 and INT_MAX both become somaxconn; the
 * listener then refuses a request once {@code ack_backlog > max_ack_backlog} (sk_acceptq_is_full), i.e.
 * it queues backlog + 1 connections.
 */
@Timeout(30)
class ListenBacklogTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext ctx;

    @BeforeEach
    void setUp() {
        ctx = LoopbackTestContext.threaded("m", leaks);
    }

    @AfterEach
    void tearDown() {
        ctx.close();
    }

    private VsockSocket listening(int type, int backlog) throws ErrnoException {
        VsockSocket l = ctx.sock(type);
        l.bind(VMADDR_CID_ANY, ctx.freshPort());
        l.listen(backlog);
        return l;
    }

    /** Connects {@code n} clients that must be queued, then one that must be refused. */
    private void assertQueuesExactly(VsockSocket l, int type, int n) throws ErrnoException {
        int port = l.getsockname().port();
        for (int i = 0; i < n; i++) {
            ctx.sock(type).connect(VMADDR_CID_LOCAL, port);
        }
        assertErrno(() -> ctx.sock(type).connect(VMADDR_CID_LOCAL, port), ECONNRESET);
        assertThat(UserInternals.sock(l).ackBacklog).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            ctx.adopt(l.accept());
        }
    }

    @Test
    @DisplayName("net.core.somaxconn is 4096 (SOMAXCONN) on a new machine")
    void shouldDefaultSomaxconnTo4096() {
        assertThat(ctx.m.somaxconn()).isEqualTo(KernelContext.SOMAXCONN).isEqualTo(4096);
    }

    @Test
    @DisplayName("listen(-1) takes the backlog somaxconn (4096), not -1")
    void shouldClampNegativeBacklogToSomaxconn() throws Exception {
        assertThat(UserInternals.sock(listening(SOCK_STREAM, -1)).maxAckBacklog).isEqualTo(4096);
    }

    @Test
    @DisplayName("listen(INT_MAX) takes the backlog somaxconn (4096)")
    void shouldClampHugeBacklogToSomaxconn() throws Exception {
        assertThat(UserInternals.sock(listening(SOCK_STREAM, Integer.MAX_VALUE)).maxAckBacklog).isEqualTo(4096);
        assertThat(UserInternals.sock(listening(SOCK_STREAM, 4097)).maxAckBacklog).isEqualTo(4096);
        assertThat(UserInternals.sock(listening(SOCK_STREAM, 4096)).maxAckBacklog).isEqualTo(4096);
        assertThat(UserInternals.sock(listening(SOCK_STREAM, 4095)).maxAckBacklog).isEqualTo(4095);
    }

    @Test
    @DisplayName("listen(-1) accepts connections up to the clamped backlog + 1, then ECONNRESET")
    void shouldQueueUpToClampedBacklogWhenBacklogNegative() throws Exception {
        ctx.m.setSomaxconn(2);
        assertQueuesExactly(listening(SOCK_STREAM, -1), SOCK_STREAM, 3);
    }

    @Test
    @DisplayName("listen(INT_MAX) is bounded by somaxconn: backlog + 1 queued, then ECONNRESET")
    void shouldBoundHugeBacklogBySomaxconn() throws Exception {
        ctx.m.setSomaxconn(2);
        assertQueuesExactly(listening(SOCK_SEQPACKET, Integer.MAX_VALUE), SOCK_SEQPACKET, 3);
    }

    @Test
    @DisplayName("somaxconn 0: listen(5) becomes listen(0), which still queues one (ack_backlog > max)")
    void shouldQueueOneWhenSomaxconnZero() throws Exception {
        ctx.m.setSomaxconn(0);
        assertQueuesExactly(listening(SOCK_STREAM, 5), SOCK_STREAM, 1);
    }

    @Test
    @DisplayName("a backlog at or below somaxconn is passed unchanged: listen(1) queues two")
    void shouldKeepBacklogBelowSomaxconn() throws Exception {
        ctx.m.setSomaxconn(2);
        assertQueuesExactly(listening(SOCK_STREAM, 1), SOCK_STREAM, 2);
    }

    @Test
    @DisplayName("a listener keeps its clamped backlog when somaxconn changes later")
    void shouldKeepBacklogWhenSomaxconnChangesAfterListen() throws Exception {
        VsockSocket l = listening(SOCK_STREAM, -1);
        ctx.m.setSomaxconn(1);
        assertThat(UserInternals.sock(l).maxAckBacklog).isEqualTo(4096);
        assertThat(UserInternals.sock(listening(SOCK_STREAM, -1)).maxAckBacklog).isEqualTo(1);
    }

    @Test
    @DisplayName("sysctl net.core.somaxconn=-1 → EINVAL, value unchanged")
    void shouldRefuseNegativeSomaxconn() throws Exception {
        assertErrno(() -> ctx.m.setSomaxconn(-1), EINVAL);
        assertThat(ctx.m.somaxconn()).isEqualTo(4096);
        ctx.m.setSomaxconn(Integer.MAX_VALUE);
        assertThat(UserInternals.sock(listening(SOCK_STREAM, -1)).maxAckBacklog).isEqualTo(Integer.MAX_VALUE);
    }
}
