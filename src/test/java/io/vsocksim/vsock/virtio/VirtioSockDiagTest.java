package io.vsocksim.vsock.virtio;

import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Machine;
import io.vsocksim.sim.TestMachine;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link VirtioSockDiag} over loopback on a deterministic machine: every field against hand-computed values. */
@Timeout(30)
class VirtioSockDiagTest {
    private static final int WINDOW = 256 * 1024;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private Machine m;
    private final List<VsockSocket> open = new ArrayList<>();

    @BeforeEach
    void setUp() {
        m = TestMachine.manual("diag", leaks);
    }

    @AfterEach
    void tearDown() {
        open.forEach(VsockSocket::close);
        TestMachine.settle(m);
        m.close();
    }

    private VsockSocket sock(int type) throws Exception {
        VsockSocket s = VsockSocket.open(m, type | Sock.SOCK_NONBLOCK);
        open.add(s);
        return s;
    }

    private VsockSocket[] pair(int type) throws Exception {
        VsockSocket l = sock(type);
        l.bind(VMADDR_CID_ANY, 1234);
        l.listen(4);
        VsockSocket c = sock(type);
        try {
            c.connect(VMADDR_CID_LOCAL, 1234);
        } catch (io.vsocksim.uapi.ErrnoException e) {
            assertThat(e.errnoName()).isEqualTo("EINPROGRESS");
        }
        TestMachine.drain(m);
        VsockSocket a = l.accept();
        open.add(a);
        return new VsockSocket[] {c, a};
    }

    @Test
    void shouldReturnNullWhenSocketHasNoTransport() throws Exception {
        assertThat(VirtioSockDiag.of(UserInternals.sock(sock(SOCK_STREAM)))).isNull();
    }

    @Test
    void shouldShowFreshWindowsWhenJustConnected() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        VirtioSockDiag d = VirtioSockDiag.of(UserInternals.sock(p[0]));
        assertThat(d).isEqualTo(new VirtioSockDiag(0, 0, WINDOW, 0, 0, 0, 0, WINDOW, 0, 0, 0));
        assertThat(d.credit()).isEqualTo(WINDOW);
    }

    @Test
    void shouldTrackCreditAndQueueWhenDataIsSentQueuedAndRead() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        assertThat(p[0].send(ByteBuffer.allocate(100_000), 0)).isEqualTo(100_000);
        // Granted but the loopback worker has not run yet.
        VirtioSockDiag tx = VirtioSockDiag.of(UserInternals.sock(p[0]));
        assertThat(tx.txCnt()).isEqualTo(100_000);
        assertThat(tx.bytesUnsent()).isEqualTo(100_000);
        assertThat(tx.credit()).isEqualTo(WINDOW - 100_000);
        TestMachine.drain(m);
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0])).bytesUnsent()).isZero();
        // 65536 + 34464: two skbs queued at the receiver.
        VirtioSockDiag rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
        assertThat(rx.rxBytes()).isEqualTo(100_000);
        assertThat(rx.bufUsed()).isEqualTo(100_000);
        assertThat(rx.rxQueueLen()).isEqualTo(2);
        // A partial read of the first skb lowers rx_bytes only.
        assertThat(p[1].recv(ByteBuffer.allocate(1000), 0)).isEqualTo(1000);
        rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
        assertThat(rx.rxBytes()).isEqualTo(99_000);
        assertThat(rx.bufUsed()).isEqualTo(100_000);
        assertThat(rx.fwdCnt()).isZero();
        // Finishing the first skb returns its whole length to fwd_cnt.
        assertThat(p[1].recv(ByteBuffer.allocate(64_536), 0)).isEqualTo(64_536);
        rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
        assertThat(rx.rxBytes()).isEqualTo(100_000 - 65_536);
        assertThat(rx.bufUsed()).isEqualTo(100_000 - 65_536);
        assertThat(rx.fwdCnt()).isEqualTo(65_536);
        assertThat(rx.rxQueueLen()).isEqualTo(1);
    }

    @Test
    void shouldCountCompleteMessagesWhenSeqpacketQueued() throws Exception {
        VsockSocket[] p = pair(SOCK_SEQPACKET);
        p[0].send(ByteBuffer.allocate(10), 0);
        p[0].send(ByteBuffer.allocate(70_000), 0);
        TestMachine.drain(m);
        VirtioSockDiag rx = VirtioSockDiag.of(UserInternals.sock(p[1]));
        assertThat(rx.msgCount()).isEqualTo(2);
        assertThat(rx.rxQueueLen()).isEqualTo(3);
        assertThat(rx.rxBytes()).isEqualTo(70_010);
    }

    @Test
    void shouldReturnNullWhenSocketWasReleased() throws Exception {
        VsockSocket[] p = pair(SOCK_STREAM);
        p[0].close();
        TestMachine.settle(m);
        assertThat(VirtioSockDiag.of(UserInternals.sock(p[0]))).isNull();
    }
}
