package io.vsocksim.differential;

import static io.vsocksim.differential.KernelTrace.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.*;

import io.vsocksim.differential.KernelTrace.Scenario;
import io.vsocksim.kernel.Clock;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Linux 6.12.117 loopback traces of poll() revents and SO_RCVLOWAT. */
@Timeout(60)
class LinuxTracePollTest extends TraceFixture {
    private static final long MS = 1_000_000L;

    private void drain() {
        TestMachineDrain.drain(m);
    }

    @Test
    @DisplayName("poll_states_stream: poll revents across the stream socket life cycle")
    void shouldReportReventsAsLinuxAcrossStreamLifeCycle() throws Exception {
        Scenario sc = KernelTrace.scenario("poll_states_stream");
        VsockSocket main = sock(SOCK_STREAM);
        sc.poll("poll(0) fresh unbound", main);
        main.bind(VMADDR_CID_ANY, P);
        sc.poll("poll(0) bound", main);
        main.listen(8);
        sc.poll("poll(0) listening empty", main);
        VsockSocket client = sock(SOCK_STREAM);
        client.connect(VMADDR_CID_LOCAL, P);
        sc.poll("poll(0) listening with pending", main);
        sc.poll("poll(0) connected idle (before accept)", client);
        VsockSocket server = track(main.accept());
        sc.poll("poll(0) listening after accept", main);
        sc.poll("poll(0) accepted idle", server);
        client.send(ByteBuffer.wrap(pattern(10)), 0);
        drain();
        sc.poll("poll(0) data queued", server);
        server.recv(ByteBuffer.allocate(100), 0);
        sc.poll("poll(0) data drained", server);
        sc.expect("shutdown(SHUT_WR)", () -> {
            client.shutdown(SHUT_WR);
            return 0;
        });
        drain();
        sc.poll("poll(0) local SHUT_WR", client);
        sc.poll("poll(0) peer SHUT_WR", server);
        sc.expect("shutdown(SHUT_RD)", () -> {
            server.shutdown(SHUT_RD);
            return 0;
        });
        drain();
        sc.poll("poll(0) peer SHUT_WR + local SHUT_RD", server);
        // The trace's actors are roles: each sub-case below runs on a fresh pair (the "client" that
        // sees its peer close has not shut down its own sending side: POLLOUT is still set).
        VsockSocket[] c = pair(SOCK_STREAM, P + 3);
        sc.expect("close", () -> {
            c[1].close();
            return 0;
        });
        drain();
        sc.poll("poll(0) peer closed", c[0]);
        c[0].recv(ByteBuffer.allocate(100), MSG_DONTWAIT);
        sc.poll("poll(0) peer closed, after recv", c[0]);

        VsockSocket[] p = pair(SOCK_STREAM, P + 1);
        VsockSocket m0 = p[0];
        VsockSocket peer = p[1];
        sc.expect("shutdown(SHUT_RDWR)", () -> {
            m0.shutdown(SHUT_RDWR);
            return 0;
        });
        sc.poll("poll(0) local SHUT_RDWR, immediately", m0);
        drain();
        sc.poll("poll(0) local SHUT_RDWR, after peer RST", m0);
        sc.poll("poll(0) peer did SHUT_RDWR", peer);

        VsockSocket failed = sock(SOCK_STREAM);
        sc.expect("SETUP connect", () -> {
            failed.connect(VMADDR_CID_LOCAL, P + 2);
            return 0;
        });
        sc.poll("poll(0) after ECONNRESET connect", failed);
        io.vsocksim.user.UserProcess proc = UserProcess.spawn(m, "poll_states");
        try {
            int fd = sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0));
            assertThat(proc.close(fd)).isZero();
            io.vsocksim.uapi.PollFd[] fds = {new io.vsocksim.uapi.PollFd(fd, KernelTrace.ALL_EVENTS)};
            sc.expect("poll(0) closed fd", () -> sys(proc.poll(fds, 1, 0)))
                    .revents(fds[0].revents & 0xffff);
        } finally {
            proc.close();
        }
        sc.done();
    }

    @Test
    @DisplayName("poll_rst_close_timeout: peer closes while we hold unread data: revents over 10 s (close timeout RST)")
    void shouldKeepReventsWhenPeerCloseTimesOut() throws Exception {
        Scenario sc = KernelTrace.scenario("poll_rst_close_timeout");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket client = p[0];
        VsockSocket server = p[1];
        sc.send("send(len=100,flags=0)", server, pattern(100), 0);
        drain();
        sc.expect("close", () -> {
            server.close();
            return 0;
        });
        drain();
        sc.poll("poll(0) peer closed, our rx has data", client);
        sc.poll("poll(0) t=0", client);
        // 10 s of virtual time: the closer's 8 s close timeout fires and sends its RST.
        clock().advanceJiffies(10L * Clock.HZ);
        UserInternals.sock(server).closeWork.flush();
        drain();
        sc.poll("poll(0) after 10s", client);
        sc.recv("recv(len=1000,flags=0)", client, 1000, 0);
        sc.recv("recv(len=1000,flags=0)", client, 1000, 0);
        sc.send("send(len=1,flags=MSG_NOSIGNAL)", client, pattern(1), MSG_NOSIGNAL);
        sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", client);
        sc.done();
    }

    private static long getInt(VsockSocket s, int level, int name, long[] value) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int len = s.getsockopt(level, name, b, 4);
        value[0] = b.getInt(0);
        value[1] = len;
        return 0;
    }

    private static void getRcvlowat(Scenario sc, VsockSocket s) throws Exception {
        long[] v = new long[2];
        sc.expect("getsockopt(SOL_SOCKET,SO_RCVLOWAT)", () -> getInt(s, SOL_SOCKET, SO_RCVLOWAT, v))
                .value("value", v[0]).value("optlen", v[1]);
    }

    private static void setRcvlowat(Scenario sc, String call, VsockSocket s, int val) throws Exception {
        sc.expect(call, () -> {
            s.setsockoptInt(SOL_SOCKET, SO_RCVLOWAT, val);
            return 0;
        });
    }

    @Test
    @DisplayName("rcvlowat: SO_RCVLOWAT default/limits and its effect on poll() and recv()")
    void shouldGatePollAndRecvOnRcvlowat() throws Exception {
        Scenario sc = KernelTrace.scenario("rcvlowat");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket rx = p[1];
        VsockSocket tx = p[0];
        getRcvlowat(sc, rx);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,10)", rx, 10);
        getRcvlowat(sc, rx);
        sc.send("send(len=5,flags=0)", tx, "12345".getBytes(), 0);
        drain();
        sc.poll("poll(0) 5 bytes queued, lowat 10", rx);
        sc.send("send(len=5,flags=0)", tx, "67890".getBytes(), 0);
        drain();
        sc.poll("poll(0) 10 bytes queued, lowat 10", rx);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,20)", rx, 20);
        sc.poll("poll(0) 10 bytes queued, lowat 20", rx);
        // SO_RCVTIMEO 400 ms: the read waits for 20 bytes, then returns the 10 queued.
        rx.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO_NEW, 0, 400_000);
        ByteBuffer b = ByteBuffer.allocate(100);
        sc.expect("recv(len=100,flags=0)", afterVirtual(() -> rx.recv(b, 0), 400 * MS))
                .data(java.util.Arrays.copyOf(b.array(), b.position()));
        sc.send("send(len=5,flags=0)", tx, "abcde".getBytes(), 0);
        drain();
        sc.recv("recv(len=100,flags=MSG_DONTWAIT)", rx, 100, MSG_DONTWAIT);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,262144)", rx, 262144);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,262145)", rx, 262145);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,1048576)", rx, 1048576);
        getRcvlowat(sc, rx);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,0)", rx, 0);
        getRcvlowat(sc, rx);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,-1)", rx, -1);
        getRcvlowat(sc, rx);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT(unconnected),1048576)", sock(SOCK_STREAM), 1048576);
        setRcvlowat(sc, "setsockopt(SOL_SOCKET,SO_RCVLOWAT,8)", rx, 8);
        sc.send("send(len=3,flags=0)", tx, "xyz".getBytes(), 0);
        drain();
        rx.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO_NEW, 0, 500_000);
        ByteBuffer c = ByteBuffer.allocate(100);
        sc.expect("recv(len=100,flags=0)", afterVirtual(() -> rx.recv(c, 0), 500 * MS))
                .data(java.util.Arrays.copyOf(c.array(), c.position()));
        sc.done();
    }
}
