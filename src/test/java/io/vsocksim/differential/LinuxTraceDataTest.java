package io.vsocksim.differential;

import static io.vsocksim.differential.KernelTrace.pattern;
import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.Signal.SIGPIPE;
import static io.vsocksim.uapi.VmSockets.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.differential.KernelTrace.Scenario;
import io.vsocksim.user.UserProcess;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linux 6.12.117 loopback traces of data transfer: send/recv on unconnected, half-closed and closed
 * sockets, peeking, coalescing, zero-length I/O, SEQPACKET boundaries and sizes, credit.
 */
@Timeout(60)
class LinuxTraceDataTest extends TraceFixture {
    private static final long MS = 1_000_000L;

    private static String tn(int type) {
        return type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_SEQPACKET";
    }

    private void drain() {
        TestMachineDrain.drain(m);
    }

    @Test
    @DisplayName("io_unconnected: send/recv/read/write/sendto/MSG_OOB on unconnected and listening sockets")
    void shouldRefuseIoWhenNotConnected() throws Exception {
        Scenario sc = KernelTrace.scenario("io_unconnected");
        int k = 0;
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            VsockSocket[] s = new VsockSocket[1];
            sc.expect("socket(AF_VSOCK," + tn(type) + ",0) fresh", () -> {
                int fd = socketFd(type); // 3, then 5: each round's listener takes 4 and 6
                s[0] = file(fd);
                return fd;
            });
            VsockSocket f = s[0];
            sc.recv("recv(len=10,flags=0)", f, 10, 0);
            sc.recv("recv(len=0,flags=0)", f, 0, 0);
            sc.recv("recv(len=10,flags=MSG_DONTWAIT)", f, 10, MSG_DONTWAIT);
            sc.send("send(len=1,flags=MSG_NOSIGNAL)", f, pattern(1), MSG_NOSIGNAL);
            sc.send("send(len=1,flags=0)", f, pattern(1), 0);
            sc.send("send(len=1,flags=MSG_OOB)", f, pattern(1), MSG_OOB);
            sc.recv("recv(len=10,flags=MSG_OOB)", f, 10, MSG_OOB);
            sc.expect("read", () -> f.read(ByteBuffer.allocate(10)));
            long before = f.sigpipes();
            sc.expect("write", () -> f.write(ByteBuffer.wrap(pattern(1)))).sigpipe(f.sigpipes() - before);
            sc.expect("sendto(LOCAL,P+50)", () -> f.sendto(ByteBuffer.wrap(pattern(1)), 0, new SockaddrVm(VMADDR_CID_LOCAL, P + 50)));
            VsockSocket l = file(listenerFd(type, P + k++, 8));
            sc.recv("recv(len=10,flags=MSG_DONTWAIT)", l, 10, MSG_DONTWAIT);
            sc.send("send(len=1,flags=MSG_NOSIGNAL)", l, pattern(1), MSG_NOSIGNAL);
        }
        sc.done();
    }

    @Test
    @DisplayName("send_after_peer_close: send/write after peer close: EPIPE, SIGPIPE, MSG_NOSIGNAL")
    void shouldFailWithEpipeAndSigpipeWhenPeerClosed() throws Exception {
        Scenario sc = KernelTrace.scenario("send_after_peer_close");
        // The recording program first checked that it counts SIGPIPEs: a write to a pipe whose read
        // end it had closed, with a SIGPIPE handler installed (pipe_write: EPIPE and SIGPIPE).
        UserProcess proc = proc();
        AtomicInteger sigpipes = new AtomicInteger();
        assertThat(proc.sigaction(SIGPIPE, sig -> sigpipes.incrementAndGet(), 0)).isZero();
        int[] control = new int[2];
        assertThat(proc.pipe2(control, 0)).isZero();
        assertThat(proc.close(control[0])).isZero();
        sc.expect("CONTROL write(pipe without reader)", () -> sys(proc.write(control[1], ByteBuffer.wrap(pattern(1)))))
                .sigpipe(sigpipes.get());
        int k = 0;
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            VsockSocket[] p = pair(type, P + k++);
            VsockSocket client = p[0];
            VsockSocket server = p[1];
            sc.expect("close", () -> {
                server.close();
                return 0;
            });
            drain();
            sc.poll("poll(0)", client);
            sc.send("send(len=1,flags=0)", client, pattern(1), 0);
            sc.send("send(len=1,flags=MSG_NOSIGNAL)", client, pattern(1), MSG_NOSIGNAL);
            long before = client.sigpipes();
            sc.expect("write", () -> client.write(ByteBuffer.wrap(pattern(1)))).sigpipe(client.sigpipes() - before);
            sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", client);
            sc.recv("recv(len=10,flags=0)", client, 10, 0);
        }
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            VsockSocket[] p = pair(type, P + k++);
            sc.expect("shutdown(SHUT_WR)", () -> {
                p[0].shutdown(SHUT_WR);
                return 0;
            });
            sc.send("send(len=1,flags=0)", p[0], pattern(1), 0);
            sc.send("send(len=1,flags=MSG_NOSIGNAL)", p[0], pattern(1), MSG_NOSIGNAL);
        }
        sc.done();
    }

    @Test
    @DisplayName("recv_after_peer_close: peer sends 2x5 bytes and closes: reads then EOF")
    void shouldReadQueuedDataThenEofWhenPeerClosed() throws Exception {
        Scenario sc = KernelTrace.scenario("recv_after_peer_close");
        int k = 0;
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            VsockSocket[] p = pair(type, P + k++);
            VsockSocket client = p[0];
            VsockSocket server = p[1];
            sc.send("send(len=5,flags=0)", server, "hello".getBytes(), 0);
            sc.send("send(len=5,flags=0)", server, "world".getBytes(), 0);
            sc.expect("close", () -> {
                server.close();
                return 0;
            });
            drain();
            sc.poll("poll(0)", client);
            sc.recv("recv(len=3,flags=0)", client, 3, 0);
            sc.recv("recv(len=100,flags=0)", client, 100, 0);
            sc.recv("recv(len=100,flags=0)", client, 100, 0);
            sc.recv("recv(len=100,flags=0)", client, 100, 0);
            sc.poll("poll(0) after draining", client);
            sc.getpeername("getpeername", client, P);
        }
        sc.done();
    }

    @Test
    @DisplayName("shutdown_rd: SHUT_RD with queued data; peer send afterwards")
    void shouldDiscardReadsAndRefusePeerSendsWhenShutRd() throws Exception {
        Scenario sc = KernelTrace.scenario("shutdown_rd");
        int k = 0;
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            VsockSocket[] p = pair(type, P + k++);
            VsockSocket client = p[0];
            VsockSocket server = p[1];
            sc.send("send(len=3,flags=0)", server, pattern(3), 0);
            drain();
            sc.expect("ioctl(SIOCINQ)", () -> client.ioctl(SIOCINQ));
            sc.expect("shutdown(SHUT_RD)", () -> {
                client.shutdown(SHUT_RD);
                return 0;
            });
            drain();
            sc.poll("poll(0)", client);
            sc.recv("recv(len=100,flags=MSG_DONTWAIT)", client, 100, MSG_DONTWAIT);
            sc.recv("recv(len=100,flags=0)", client, 100, 0);
            sc.poll("poll(0)", server);
            sc.send("send(len=3,flags=MSG_NOSIGNAL)", server, pattern(3), MSG_NOSIGNAL);
            sc.send("send(len=2,flags=MSG_NOSIGNAL)", client, "up".getBytes(), MSG_NOSIGNAL);
            drain();
            sc.recv("recv(len=100,flags=MSG_DONTWAIT)", server, 100, MSG_DONTWAIT);
        }
        sc.done();
    }

    @Test
    @DisplayName("peek_stream: MSG_PEEK on a stream (short, long, across packets, with MSG_WAITALL)")
    void shouldPeekWithoutConsumingWhenStream() throws Exception {
        Scenario sc = KernelTrace.scenario("peek_stream");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket tx = p[0];
        VsockSocket rx = p[1];
        sc.send("send(len=11,flags=0)", tx, "hello world".getBytes(), 0);
        drain();
        sc.recv("recv(len=5,flags=MSG_PEEK)", rx, 5, MSG_PEEK);
        sc.recv("recv(len=100,flags=MSG_PEEK)", rx, 100, MSG_PEEK);
        sc.recv("recv(len=5,flags=0)", rx, 5, 0);
        sc.recv("recv(len=100,flags=MSG_DONTWAIT|MSG_PEEK)", rx, 100, MSG_DONTWAIT | MSG_PEEK);
        sc.recv("recv(len=100,flags=0)", rx, 100, 0);
        sc.recv("recv(len=100,flags=MSG_DONTWAIT|MSG_PEEK)", rx, 100, MSG_DONTWAIT | MSG_PEEK);
        sc.send("send(len=2,flags=0)", tx, "ab".getBytes(), 0);
        sc.send("send(len=2,flags=0)", tx, "cd".getBytes(), 0);
        drain();
        sc.recv("recv(len=100,flags=MSG_PEEK)", rx, 100, MSG_PEEK);
        sc.recv("recv(len=3,flags=0)", rx, 3, 0);
        sc.recv("recv(len=100,flags=MSG_PEEK)", rx, 100, MSG_PEEK);
        sc.recv("recv(len=100,flags=MSG_PEEK|MSG_WAITALL)", rx, 100, MSG_PEEK | MSG_WAITALL);
        sc.recv("recv(len=100,flags=0)", rx, 100, 0);
        sc.done();
    }

    @Test
    @DisplayName("stream_partial_coalesce: coalescing of sends, partial reads, MSG_WAITALL with timeout and with EOF")
    void shouldCoalesceAndHonourWaitallWhenStream() throws Exception {
        Scenario sc = KernelTrace.scenario("stream_partial_coalesce");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket tx = p[0];
        VsockSocket rx = p[1];
        sc.send("send(len=3,flags=0)", tx, "abc".getBytes(), 0);
        sc.send("send(len=3,flags=0)", tx, "def".getBytes(), 0);
        drain();
        sc.recv("recv(len=100,flags=0)", rx, 100, 0);
        sc.send("send(len=10000,flags=0)", tx, pattern(10000), 0);
        drain();
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.write(sc.recv("recv(len=1000,flags=0)", rx, 1000, 0));
        all.write(sc.recv("recv(len=1000,flags=0)", rx, 1000, 0));
        all.write(sc.recv("recv(len=1000,flags=0)", rx, 1000, 0));
        all.write(sc.recv("recv(len=20000,flags=0)", rx, 20000, 0));
        KernelTrace.Step note = sc.note();
        org.assertj.core.api.Assertions.assertThat((long) all.size()).as("total").isEqualTo(note.num("total"));
        org.assertj.core.api.Assertions.assertThat(java.util.Arrays.equals(all.toByteArray(), pattern(10000)))
                .as("pattern_ok").isEqualTo(note.f.get("pattern_ok"));
        // SO_RCVTIMEO (400 ms here): MSG_WAITALL returns what arrived once the timeout passed.
        rx.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO_NEW, 0, 400_000);
        sc.send("send(len=3000,flags=0)", tx, pattern(3000), 0);
        drain();
        ByteBuffer b = ByteBuffer.allocate(5000);
        KernelTrace.Step st = sc.expect("recv(len=5000,flags=MSG_WAITALL)", afterVirtual(() -> rx.recv(b, MSG_WAITALL), 400 * MS));
        st.data(java.util.Arrays.copyOf(b.array(), b.position()));
        sc.send("send(len=2000,flags=0)", tx, pattern(2000), 0);
        sc.expect("close", () -> {
            tx.close();
            return 0;
        });
        drain();
        sc.recv("recv(len=5000,flags=MSG_WAITALL)", rx, 5000, MSG_WAITALL);
        sc.done();
    }

    @Test
    @DisplayName("zero_length: zero-length send/recv on stream and seqpacket")
    void shouldTreatZeroLengthIoAsLinuxWhenConnected() throws Exception {
        Scenario sc = KernelTrace.scenario("zero_length");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        sc.send("send(len=0,flags=0)", p[0], new byte[0], 0);
        drain();
        sc.poll("poll(0)", p[1]);
        sc.recv("recv(len=10,flags=MSG_DONTWAIT)", p[1], 10, MSG_DONTWAIT);
        sc.recv("recv(len=0,flags=0)", p[1], 0, 0);
        sc.send("send(len=1,flags=0)", p[0], "z".getBytes(), 0);
        drain();
        sc.recv("recv(len=0,flags=0)", p[1], 0, 0);
        sc.recv("recv(len=10,flags=0)", p[1], 10, 0);
        VsockSocket[] q = pair(SOCK_SEQPACKET, P + 1);
        sc.send("send(len=0,flags=0)", q[0], new byte[0], 0);
        sc.send("send(len=0,flags=MSG_EOR)", q[0], new byte[0], MSG_EOR);
        drain();
        sc.poll("poll(0)", q[1]);
        sc.recvmsg("recvmsg(len=10,flags=MSG_DONTWAIT)", q[1], 10, MSG_DONTWAIT);
        sc.send("send(len=3,flags=0)", q[0], "one".getBytes(), 0);
        drain();
        sc.recvmsg("recvmsg(len=0,flags=0)", q[1], 0, 0);
        sc.recvmsg("recvmsg(len=10,flags=MSG_DONTWAIT)", q[1], 10, MSG_DONTWAIT);
        sc.done();
    }

    @Test
    @DisplayName("seq_trunc: seqpacket short buffer: return value, MSG_TRUNC in and out")
    void shouldTruncateAndReportWhenSeqpacketBufferShort() throws Exception {
        Scenario sc = KernelTrace.scenario("seq_trunc");
        VsockSocket[] p = pair(SOCK_SEQPACKET, P);
        sc.send("send(len=100,flags=0)", p[0], pattern(100), 0);
        sc.send("send(len=50,flags=0)", p[0], pattern(50), 0);
        drain();
        sc.recvmsg("recvmsg(len=10,flags=0)", p[1], 10, 0);
        sc.recvmsg("recvmsg(len=4096,flags=0)", p[1], 4096, 0);
        sc.send("send(len=100,flags=0)", p[0], pattern(100), 0);
        drain();
        sc.recvmsg("recvmsg(len=10,flags=MSG_TRUNC)", p[1], 10, MSG_TRUNC);
        sc.send("send(len=100,flags=0)", p[0], pattern(100), 0);
        drain();
        sc.recv("recv(len=10,flags=0)", p[1], 10, 0);
        sc.send("send(len=100,flags=0)", p[0], pattern(100), 0);
        drain();
        sc.recv("recv(len=10,flags=MSG_TRUNC)", p[1], 10, MSG_TRUNC);
        sc.recvmsg("recvmsg(len=10,flags=MSG_DONTWAIT)", p[1], 10, MSG_DONTWAIT);
        sc.done();
    }

    @Test
    @DisplayName("seq_emsgsize: seqpacket messages larger than peer / own buffer size")
    void shouldRefuseOversizedMessagesWhenSeqpacket() throws Exception {
        Scenario sc = KernelTrace.scenario("seq_emsgsize");
        VsockSocket[] p = pair(SOCK_SEQPACKET, P);
        sc.expect("getsockopt(AF_VSOCK,BUFFER_SIZE)", () -> {
            ByteBuffer b = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int len = p[0].getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, b, 8);
            org.assertj.core.api.Assertions.assertThat(b.getLong(0)).isEqualTo(262144L);
            org.assertj.core.api.Assertions.assertThat(len).isEqualTo(8);
            return 0;
        });
        sc.send("send(len=262144,flags=0)", p[0], pattern(262144), 0);
        drain();
        sc.recvmsg("recvmsg(len=300000,flags=0)", p[1], 300000, 0);
        sc.send("send(len=262145,flags=0)", p[0], pattern(262145), 0);
        sc.send("send(len=1048576,flags=0)", p[0], pattern(1048576), 0);

        // A peer whose receive buffer is 4 KiB (set on its listener, inherited by the child).
        VsockSocket l4 = sock(SOCK_SEQPACKET);
        l4.bind(VMADDR_CID_ANY, P + 1);
        l4.setBufferSize(4096);
        l4.listen(8);
        VsockSocket tx = sock(SOCK_SEQPACKET);
        tx.setsockoptTimeval(SOL_SOCKET, SO_SNDTIMEO_NEW, 1, 0);
        tx.connect(VMADDR_CID_LOCAL, P + 1);
        VsockSocket rx4 = track(l4.accept());
        sc.send("send(len=4097,flags=0)", tx, pattern(4097), 0);
        sc.send("send(len=4096,flags=0)", tx, pattern(4096), 0);
        drain();
        long before = tx.sigpipes();
        sc.expect("send(len=1,flags=0)", afterVirtual(() -> tx.send(ByteBuffer.wrap(pattern(1)), 0), 1000 * MS))
                .sigpipe(tx.sigpipes() - before);
        sc.recvmsg("recvmsg(len=10000,flags=0)", rx4, 10000, 0);
        sc.recvmsg("recvmsg(len=10000,flags=MSG_DONTWAIT)", rx4, 10000, MSG_DONTWAIT);

        // A sender whose own buffer is 4 KiB, talking to itself through a pair.
        VsockSocket[] o = pair(SOCK_SEQPACKET, P + 2);
        o[0].setBufferSize(4096);
        o[1].setBufferSize(4096);
        sc.send("send(len=8192,flags=0)", o[0], pattern(8192), 0);
        sc.send("send(len=4097,flags=0)", o[0], pattern(4097), 0);
        sc.send("send(len=4096,flags=0)", o[0], pattern(4096), 0);
        drain();
        sc.recvmsg("recvmsg(len=10000,flags=MSG_DONTWAIT)", o[1], 10000, MSG_DONTWAIT);
        sc.recvmsg("recvmsg(len=10000,flags=MSG_DONTWAIT)", o[1], 10000, MSG_DONTWAIT);
        sc.done();
    }

    @Test
    @DisplayName("seq_peek: MSG_PEEK on seqpacket (full, short, with MSG_TRUNC)")
    void shouldPeekWholeMessagesWhenSeqpacket() throws Exception {
        Scenario sc = KernelTrace.scenario("seq_peek");
        VsockSocket[] p = pair(SOCK_SEQPACKET, P);
        sc.send("send(len=100,flags=MSG_EOR)", p[0], pattern(100), MSG_EOR);
        sc.send("send(len=50,flags=0)", p[0], pattern(50), 0);
        drain();
        sc.recvmsg("recvmsg(len=4096,flags=MSG_PEEK)", p[1], 4096, MSG_PEEK);
        sc.recvmsg("recvmsg(len=10,flags=MSG_PEEK)", p[1], 10, MSG_PEEK);
        sc.recvmsg("recvmsg(len=10,flags=MSG_TRUNC|MSG_PEEK)", p[1], 10, MSG_TRUNC | MSG_PEEK);
        sc.recvmsg("recvmsg(len=4096,flags=0)", p[1], 4096, 0);
        sc.recvmsg("recvmsg(len=4096,flags=MSG_PEEK)", p[1], 4096, MSG_PEEK);
        sc.recvmsg("recvmsg(len=4096,flags=0)", p[1], 4096, 0);
        sc.recvmsg("recvmsg(len=4096,flags=MSG_DONTWAIT|MSG_PEEK)", p[1], 4096, MSG_DONTWAIT | MSG_PEEK);
        sc.done();
    }

    @Test
    @DisplayName("close_unread: peer closes with unread data from us (TCP would RST)")
    void shouldShowEofNotResetWhenPeerClosesWithUnreadData() throws Exception {
        Scenario sc = KernelTrace.scenario("close_unread");
        int k = 0;
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            sc.note();
            VsockSocket[] p = pair(type, P + k++);
            VsockSocket client = p[0];
            VsockSocket server = p[1];
            sc.send("send(len=1000,flags=0)", client, pattern(1000), 0);
            drain();
            sc.expect("close", () -> {
                server.close();
                return 0;
            });
            drain();
            sc.poll("poll(0)", client);
            sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", client);
            sc.recv("recv(len=100,flags=0)", client, 100, 0);
            sc.send("send(len=1,flags=MSG_NOSIGNAL)", client, pattern(1), MSG_NOSIGNAL);
        }
        sc.done();
    }

    @Test
    @DisplayName("credit_sndtimeo: no reader: SO_SNDTIMEO partial send, EAGAIN, POLLOUT and credit updates")
    void shouldStallOnCreditUntilWholePacketsAreConsumedWhenNoReader() throws Exception {
        Scenario sc = KernelTrace.scenario("credit_sndtimeo");
        VsockSocket[] p = pair(SOCK_STREAM, P);
        VsockSocket w = p[0];
        VsockSocket r = p[1];
        w.setsockoptTimeval(SOL_SOCKET, SO_SNDTIMEO_NEW, 0, 500_000);
        long before = w.sigpipes();
        sc.expect("send(len=4194304,flags=0)", afterVirtual(() -> w.send(ByteBuffer.wrap(pattern(4194304)), 0), 500 * MS))
                .sigpipe(w.sigpipes() - before);
        sc.note(); // first_send_waited_ge_450ms: asserted by afterVirtual (it returned only after 500 ms)
        sc.expect("send(len=1000,flags=0)", afterVirtual(() -> w.send(ByteBuffer.wrap(pattern(1000)), 0), 500 * MS))
                .sigpipe(w.sigpipes() - before);
        sc.note(); // second_send_waited_ge_450ms: likewise
        sc.send("send(len=1000,flags=MSG_DONTWAIT)", w, pattern(1000), MSG_DONTWAIT);
        sc.poll("poll(0) peer buffer full", w);
        sc.expect("ioctl(SIOCOUTQ)", () -> w.ioctl(SIOCOUTQ)).value("value", w.ioctl(SIOCOUTQ));
        sc.expect("ioctl(SIOCINQ)", () -> r.ioctl(SIOCINQ));
        sc.recv("recv(len=1,flags=0)", r, 1, 0);
        drain();
        sc.poll("poll(0) after reader consumed 1 byte", w);
        sc.send("send(len=1000,flags=MSG_DONTWAIT)", w, pattern(1000), MSG_DONTWAIT);
        sc.recv("recv(len=100000,MSG_WAITALL)", r, 100000, MSG_WAITALL);
        drain();
        sc.poll("poll(0) after reader consumed 100001 bytes", w);
        sc.send("send(len=200000,flags=MSG_DONTWAIT)", w, pattern(200000), MSG_DONTWAIT);
        sc.recv("recv(len=96607,MSG_WAITALL) -> total consumed 196608", r, 96607, MSG_WAITALL);
        drain();
        sc.poll("poll(0) after reader consumed 196608 bytes", w);
        sc.recv("recv(len=1) -> total consumed 196609", r, 1, 0);
        drain();
        sc.poll("poll(0) after reader consumed 196609 bytes", w);
        sc.send("send(len=300000,flags=MSG_DONTWAIT)", w, pattern(300000), MSG_DONTWAIT);
        sc.recv("recv(len=65534,MSG_WAITALL) -> total consumed 262143", r, 65534, MSG_WAITALL);
        drain();
        sc.poll("poll(0) after reader consumed 262143 bytes", w);
        sc.recv("recv(len=1) -> total consumed 262144 (all)", r, 1, 0);
        drain();
        sc.poll("poll(0) after reader consumed everything", w);
        sc.send("send(len=1,flags=0)", r, pattern(1), 0);
        drain();
        sc.poll("poll(0) after reader sent 1 byte back (header carries fwd_cnt)", w);
        sc.send("send(len=300000,flags=MSG_DONTWAIT)", w, pattern(300000), MSG_DONTWAIT);
        sc.done();
    }
}
