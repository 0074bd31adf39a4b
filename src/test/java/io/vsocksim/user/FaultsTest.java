package io.vsocksim.user;

import static io.vsocksim.testing.Errnos.errnoOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.GuestHostTestContext;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The injected faults as a program sees them, with the errors Linux gives in each situation. */
@Timeout(30)
class FaultsTest {
    /** {@code VIRTIO_VSOCK_DEFAULT_BUF_SIZE}: the guest's receive buffer, so the host's credit. */
    private static final int GUEST_BUF = 256 * 1024;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** {guest client, host server}, connected guest → host on {@code port}. */
    private VsockSocket[] connect(Guest g, int port) throws ErrnoException {
        return c.connect(g, c.host, VmSockets.VMADDR_CID_HOST, Sock.SOCK_STREAM, port);
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }


    @Test
    void shouldHoldTheGuestsCallsAndStopTheHostAtItsCreditWhileTheGuestIsPaused() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = connect(g, 1234);
        byte[] data = pattern(GUEST_BUF + 4096);
        Future<Integer> firstRead;
        try (Faults.Pause pause = Faults.pause(g)) {
            assertThat(g.paused()).isTrue();
            p[1].setNonBlocking(true);
            assertThat(p[1].send(ByteBuffer.wrap(data), 0)).as("accepted up to the guest's credit").isEqualTo(GUEST_BUF);
            assertThat(errnoOf(() -> p[1].send(ByteBuffer.wrap(data, GUEST_BUF, 4096), 0))).isEqualTo(Errno.EAGAIN);
            firstRead = c.pool.submit(() -> p[0].recv(ByteBuffer.allocate(GUEST_BUF), 0));
            while (SimInternals.kernel(g).cpus().held() == 0) {
                Thread.onSpinWait(); // until the reader stands at the stopped vCPU
            }
            c.drain();
            assertThat(firstRead).as("the reader cannot enter its kernel").isNotDone();
        }
        assertThat(g.paused()).isFalse();
        ByteBuffer got = ByteBuffer.allocate(GUEST_BUF);
        int n = firstRead.get();
        got.put(data, 0, n);
        while (got.hasRemaining()) {
            ByteBuffer b = ByteBuffer.allocate(got.remaining());
            int r = p[0].recv(b, 0);
            got.put(b.array(), 0, r);
        }
        assertThat(got.array()).as("every byte the host queued during the pause, in order").isEqualTo(java.util.Arrays.copyOf(data, GUEST_BUF));
    }

    @Test
    void shouldResetTheGuestsConnectionsAndMoveItToItsNewCidWhenItMigrates() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = connect(g, 1234);
        assertThat(Faults.migrate(g, 7)).isZero();
        c.drain();
        assertThat(g.cid()).isEqualTo(7);
        assertThat(g.paused()).isFalse();
        assertThat(errnoOf(() -> p[0].recv(ByteBuffer.allocate(8), 0))).as("recv on the reset socket").isEqualTo(Errno.ENOTCONN);
        assertThat(p[0].getsockoptInt(io.vsocksim.uapi.Sock.SOL_SOCKET, io.vsocksim.uapi.Sock.SO_ERROR)).isEqualTo(Errno.ECONNRESET);
        VsockSocket[] q = connect(g, 1235);
        assertThat(q[1].getpeername().cid()).as("new connections come from the new CID").isEqualTo(7);
    }

    @Test
    void shouldAnswerTheHostsNextPacketWithAResetAfterAMigrationOnTheSameCid() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = connect(g, 1234);
        assertThat(Faults.migrate(g)).isZero();
        c.drain();
        assertThat(p[1].send(ByteBuffer.wrap(new byte[] {1}), 0)).isEqualTo(1);
        c.drain();
        assertThat(p[1].recv(ByteBuffer.allocate(8), 0)).as("the guest's RST ends the host's connection").isZero();
    }

    @Test
    void shouldResetConnectionsAndKeepListenersWhenTheDeviceIsReplugged() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = connect(g, 1234);
        VsockSocket gl = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        gl.bind(VmSockets.VMADDR_CID_ANY, 4000);
        gl.listen(4);
        assertThat(Faults.replugDevice(g)).isZero();
        c.drain();
        assertThat(p[0].getsockoptInt(io.vsocksim.uapi.Sock.SOL_SOCKET, io.vsocksim.uapi.Sock.SO_ERROR)).isEqualTo(Errno.ECONNRESET);
        VsockSocket hc = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        hc.connect(3, 4000);
        VsockSocket ga = c.track(gl.accept());
        hc.send(ByteBuffer.wrap(new byte[] {5, 6}), 0);
        ByteBuffer b = ByteBuffer.allocate(8);
        assertThat(ga.recv(b, 0)).isEqualTo(2);
        assertThat(b.get(0)).isEqualTo((byte) 5);
    }

    @Test
    void shouldRefuseToReplugAPausedGuest() throws Exception {
        Guest g = c.guest(3);
        try (Faults.Pause pause = Faults.pause(g)) {
            assertThatThrownBy(() -> Faults.replugDevice(g)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("paused");
        }
    }

    @Test
    void shouldFailTheGuestsSendWithEnomemAndRecoverWhenItsMemoryIsTaken() throws Exception {
        Guest g = c.guest(3);
        VsockSocket[] p = connect(g, 1234);
        long free = SimInternals.kernel(g).pages().freePages();
        try (Faults.MemoryPressure m = Faults.takeFreeMemory(g, Long.MAX_VALUE)) {
            assertThat(m.pages()).isEqualTo(free);
            assertThat(SimInternals.kernel(g).pages().freePages()).isZero();
            assertThat(errnoOf(() -> p[0].send(ByteBuffer.wrap(new byte[] {1}), 0))).isEqualTo(Errno.ENOMEM);
        }
        assertThat(SimInternals.kernel(g).pages().freePages()).isEqualTo(free);
        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {2}), 0)).isEqualTo(1);
        ByteBuffer b = ByteBuffer.allocate(8);
        assertThat(p[1].recv(b, 0)).isEqualTo(1);
        assertThat(b.get(0)).as("nothing of the failed send arrived").isEqualTo((byte) 2);
    }

    @Test
    void shouldTakeOnlyTheMemoryAskedForAndGiveItBackOnce() throws Exception {
        Guest g = c.guest(3);
        long free = SimInternals.kernel(g).pages().freePages();
        Faults.MemoryPressure m = Faults.takeFreeMemory(g, 10);
        assertThat(m.pages()).isEqualTo(10);
        assertThat(SimInternals.kernel(g).pages().freePages()).isEqualTo(free - 10);
        m.close();
        m.close();
        assertThat(SimInternals.kernel(g).pages().freePages()).isEqualTo(free);
        assertThatThrownBy(() -> Faults.takeFreeMemory(g, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldLeaveTheGuestWithoutADeviceWhenAReplugFindsNoMemoryUntilTheNextReplug() throws Exception {
        Guest g = c.guest(3);
        VsockSocket l = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 1234);
        l.listen(4);
        SimInternals.transport(g).remove(); // unplugged: the driver's pages are free again
        try (Faults.MemoryPressure m = Faults.takeFreeMemory(g, Long.MAX_VALUE)) {
            assertThat(Faults.replugDevice(g)).as("virtio_vsock_probe's allocation fails").isEqualTo(-Errno.ENOMEM);
        }
        assertThat(SimInternals.driver(g)).as("no driver bound").isNull();
        VsockSocket s = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        assertThat(errnoOf(() -> s.connect(VmSockets.VMADDR_CID_HOST, 1234))).isEqualTo(Errno.ENODEV);
        assertThat(Faults.replugDevice(g)).isZero();
        VsockSocket[] p = connect(g, 1235);
        p[0].send(ByteBuffer.wrap(new byte[] {9}), 0);
        ByteBuffer b = ByteBuffer.allocate(4);
        assertThat(p[1].recv(b, 0)).isEqualTo(1);
    }

    @Test
    void shouldGiveBackTheIndirectTablesWhenAReplugFindsNoPageForTheEventBuffers() throws Exception {
        Guest g = c.guest(3);
        SimInternals.transport(g).remove();
        io.vsocksim.mm.PageAllocator pages = SimInternals.kernel(g).pages();
        // Room for the indirect tables (ten pages of 14 tables for 128 descriptors) and not one page more.
        try (Faults.MemoryPressure m = Faults.takeFreeMemory(g, pages.freePages() - 10)) {
            long before = pages.freePages();
            assertThat(Faults.replugDevice(g)).as("no page for the event buffers").isEqualTo(-Errno.ENOMEM);
            assertThat(pages.freePages()).as("what the failed probe took, given back").isEqualTo(before);
        }
        assertThat(SimInternals.driver(g)).as("no driver bound").isNull();
        assertThat(Faults.replugDevice(g)).isZero();
    }

    @Test
    void shouldTimeTheHostsConnectOutWhileTheGuestIsPausedAndConnectAfterTheResume() throws Exception {
        Guest g = c.guest(3);
        VsockSocket l = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 4000);
        l.listen(4);
        VsockSocket s = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM | Sock.SOCK_NONBLOCK));
        try (Faults.Pause pause = Faults.pause(g)) {
            assertThat(errnoOf(() -> s.connect(3, 4000))).isEqualTo(Errno.EINPROGRESS);
            c.drain();
            // the REQUEST waits in vhost's queue; the host's 2-s connect timeout runs out first
            ((io.vsocksim.kernel.VirtualClock) SimInternals.kernel(c.host).clock()).advanceJiffies(3 * io.vsocksim.kernel.Clock.HZ);
            c.drain();
            assertThat(s.getsockoptInt(Sock.SOL_SOCKET, Sock.SO_ERROR)).isEqualTo(Errno.ETIMEDOUT);
        }
        c.drain();
        VsockSocket again = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        again.connect(3, 4000);
        VsockSocket a = c.track(l.accept());
        again.send(ByteBuffer.wrap(new byte[] {7}), 0);
        ByteBuffer b = ByteBuffer.allocate(4);
        assertThat(a.recv(b, 0)).isEqualTo(1);
        assertThat(b.get(0)).isEqualTo((byte) 7);
    }
}
