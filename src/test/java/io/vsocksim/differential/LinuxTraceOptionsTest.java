package io.vsocksim.differential;

import static io.vsocksim.differential.KernelTrace.pattern;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.differential.KernelTrace.Scenario;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Linux 6.12.117 loopback traces of socket options: connect timeout, buffer size, SO_LINGER; environment. */
@Timeout(60)
class LinuxTraceOptionsTest extends TraceFixture {
    private static final long MS = 1_000_000L;

    private void drain() {
        TestMachineDrain.drain(m);
    }

    /** getsockopt of a timeval option with {@code optlen}: asserts sec/usec/optlen as recorded. */
    private static void getTv(Scenario sc, String call, VsockSocket s, int name, int optlen) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(Math.max(optlen, 16)).order(ByteOrder.LITTLE_ENDIAN);
        int[] len = new int[1];
        KernelTrace.Step st = sc.expect(call, () -> {
            len[0] = s.getsockopt(AF_VSOCK, name, b, optlen);
            return 0;
        });
        if (st.errno() == null) {
            st.value("sec", b.getLong(0)).value("usec", b.getLong(8)).value("optlen", len[0]);
        }
    }

    private static void setTv(Scenario sc, String call, VsockSocket s, int name, long sec, long usec, int optlen)
            throws Exception {
        ByteBuffer b = ByteBuffer.allocate(Math.max(optlen, 16)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, sec).putLong(8, usec);
        sc.expect(call, () -> {
            s.setsockopt(AF_VSOCK, name, b, optlen);
            return 0;
        });
    }

    @Test
    @DisplayName("connect_timeout_opt: SO_VM_SOCKETS_CONNECT_TIMEOUT OLD/NEW: default, set 0, ranges, optlen")
    void shouldHandleConnectTimeoutOptionAsLinux() throws Exception {
        Scenario sc = KernelTrace.scenario("connect_timeout_opt");
        VsockSocket s = sock(SOCK_STREAM);
        int old = SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD;
        int neu = SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW;
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_NEW,optlen=16)", s, neu, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=8)", s, old, 8);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=32)", s, old, 32);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{1,500000},optlen=16)", s, old, 1, 500000, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_NEW,optlen=16)", s, neu, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_NEW,{3,0},optlen=16)", s, neu, 3, 0, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{0,0},optlen=16)", s, old, 0, 0, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{0,1},optlen=16)", s, old, 0, 1, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{-1,0},optlen=16)", s, old, -1, 0, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{0,1000000},optlen=16)", s, old, 0, 1000000, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{0,-1},optlen=16)", s, old, 0, -1, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{5,0},optlen=8)", s, old, 5, 0, 8);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{5,0},optlen=32)", s, old, 5, 0, 32);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        setTv(sc, "setsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,{100000000,0},optlen=16)", s, old, 100000000, 0, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_OLD,optlen=16)", s, old, 16);
        getTv(sc, "getsockopt(AF_VSOCK,CONNECT_TIMEOUT_NEW(seqpacket),optlen=16)", sock(SOCK_SEQPACKET), neu, 16);
        sc.done();
    }

    @Test
    @DisplayName("sockopt_buffer_connected: changing the receive buffer size on a connected socket and its effect on the sender")
    void shouldAnnounceNewBufferSizeToSenderWhenConnected() throws Exception {
        Scenario sc = KernelTrace.scenario("sockopt_buffer_connected");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket sender = p[0];
        VsockSocket receiver = p[1];
        sender.setsockoptTimeval(SOL_SOCKET, SO_SNDTIMEO_NEW, 0, 500_000);
        sc.expect("setsockopt(AF_VSOCK,BUFFER_SIZE,65536)", () -> {
            receiver.setBufferSize(65536);
            return 0;
        });
        drain();
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        int[] len = new int[1];
        sc.expect("getsockopt(AF_VSOCK,BUFFER_SIZE)", () -> {
            len[0] = receiver.getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, b, 8);
            return 0;
        }).value("value", b.getLong(0)).value("optlen", len[0]);
        long before = sender.sigpipes();
        sc.expect("send(len=200000,flags=0)", afterVirtual(() -> sender.send(ByteBuffer.wrap(pattern(200000)), 0), 500 * MS))
                .sigpipe(sender.sigpipes() - before);
        sc.expect("ioctl(SIOCINQ)", () -> receiver.ioctl(SIOCINQ));
        sc.expect("setsockopt(AF_VSOCK,BUFFER_SIZE,262144)", () -> {
            receiver.setBufferSize(262144);
            return 0;
        });
        drain();
        sc.expect("send(len=300000,flags=0)", afterVirtual(() -> sender.send(ByteBuffer.wrap(pattern(300000)), 0), 500 * MS))
                .sigpipe(sender.sigpipes() - before);
        sc.done();
    }

    private static void setLinger(Scenario sc, VsockSocket s) throws Exception {
        KernelTrace.Step st = sc.next("setsockopt(SO_LINGER)");
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, (int) st.num("l_onoff")).putInt(4, (int) st.num("l_linger"));
        sc.check(st, KernelTrace.Scenario.run(() -> {
            s.setsockopt(SOL_SOCKET, SO_LINGER, b, 8);
            return 0;
        }));
    }

    @Test
    @DisplayName("linger: SO_LINGER on/off with the peer holding unread data: close() duration")
    void shouldBlockCloseForLingerOnlyWhenPeerHoldsUnreadData() throws Exception {
        Scenario sc = KernelTrace.scenario("linger");
        for (int c = 0; c < 4; c++) {
            sc.note(); // case
            VsockSocket[] p = pair(SOCK_STREAM, P + c);
            VsockSocket main = p[0];
            VsockSocket peer = p[1];
            setLinger(sc, main);
            if (c < 3) {
                sc.send("send(len=100,flags=0)", main, pattern(100), 0);
                drain();
            }
            KernelTrace.Call close = () -> {
                main.close();
                return 0;
            };
            KernelTrace.Step st;
            boolean blocked;
            if (c == 0) {
                // Linger 1 s, peer holds our data (so it sends no RST): close() sleeps the whole second.
                st = sc.expect("close", afterVirtual(close, 1000 * MS));
                blocked = true;
            } else {
                // close() returns without virtual time passing.
                st = sc.expect("close", () -> get(background(() -> close.run())));
                blocked = false;
            }
            KernelTrace.Step note = sc.note();
            String key = note.f.keySet().stream().filter(k -> k.startsWith("close_blocked")).findFirst().orElseThrow();
            assertThat(blocked).as(st.where() + ": " + key).isEqualTo(note.f.get(key));
            drain();
            sc.poll("poll(0)", peer);
            sc.recv("recv(len=1000,flags=0)", peer, 1000, 0);
            sc.recv("recv(len=1000,flags=0)", peer, 1000, 0);
        }
        sc.done();
    }

    @Test
    @DisplayName("env_info: /proc/net/protocols vsock lines and loaded modules")
    void shouldListEnvironmentNotesAsNotExpressible() {
        Scenario sc = KernelTrace.scenario("env_info");
        assertThat(KnownDivergences.TABLE).containsKey("proc-and-modules");
        for (int i = 0; i < 6; i++) {
            sc.note();
        }
        sc.done();
    }
}
