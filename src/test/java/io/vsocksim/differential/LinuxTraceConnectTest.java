package io.vsocksim.differential;

import static io.vsocksim.uapi.Sock.*;
import static io.vsocksim.uapi.VmSockets.*;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.differential.KernelTrace.Scenario;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linux 6.12.117 loopback traces, socket creation, bind, listen, connect, accept and addresses,
 * replayed step by step against the simulator (see {@link KernelTrace}).
 */
@Timeout(60)
class LinuxTraceConnectTest extends TraceFixture {

    private static ByteBuffer raw(int size, int family, int cid, int port) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) family);
        b.putInt(4, port);
        b.putInt(8, cid);
        return b;
    }

    @Test
    @DisplayName("pre_module_socket: socket(AF_VSOCK) before vsock.ko is loaded (no modprobe in the guest)")
    void shouldFailWithEafnosupportBeforeVsockIsLoaded() throws Exception {
        Scenario sc = KernelTrace.scenario("pre_module_socket");
        // The recording guest had no vsock module yet: a machine without transports, vsock taken out.
        io.vsocksim.sim.Machine bare = SimInternals.newMachine(
                io.vsocksim.kernel.KernelContext.deterministic("pre_module", 4L << 20), false, 1);
        UserProcess proc = UserProcess.spawn(bare, "pre_module");
        try {
            assertThat(bare.rmmodVsock()).isZero();
            sc.expect("socket(AF_VSOCK,SOCK_STREAM,0) before insmod vsock.ko", () -> sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0)));
            sc.expect("socket(AF_VSOCK,SOCK_SEQPACKET,0) before insmod vsock.ko", () -> sys(proc.socket(AF_VSOCK, SOCK_SEQPACKET, 0)));
            sc.expect("socket(AF_VSOCK,SOCK_DGRAM,0) before insmod vsock.ko", () -> sys(proc.socket(AF_VSOCK, SOCK_DGRAM, 0)));
            sc.done();
            assertThat(bare.insmodVsock()).isZero();
            int fd = proc.socket(AF_VSOCK, SOCK_STREAM, 0);
            assertThat(fd).as("loaded: sockets again").isZero();
            assertThat(bare.rmmodVsock()).as("a socket holds the module").isEqualTo(-io.vsocksim.uapi.Errno.EBUSY);
            assertThat(m.rmmodVsock()).as("vsock_loopback holds it").isEqualTo(-io.vsocksim.uapi.Errno.EBUSY);
        } finally {
            proc.close();
            bare.close();
        }
    }

    @Test
    @DisplayName("socket_create: socket() types/protocols incl. SOCK_DGRAM without a dgram transport, SOCK_NONBLOCK/CLOEXEC, socketpair")
    void shouldCreateSocketsAsLinuxWhenTypesAndProtocolsVary() throws Exception {
        Scenario sc = KernelTrace.scenario("socket_create");
        UserProcess proc = proc();
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0)", () -> sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0)));
        sc.expect("socket(AF_VSOCK,SOCK_SEQPACKET,0)", () -> sys(proc.socket(AF_VSOCK, SOCK_SEQPACKET, 0)));
        sc.expect("socket(AF_VSOCK,SOCK_DGRAM,0) no dgram transport loaded", () -> sys(proc.socket(AF_VSOCK, SOCK_DGRAM, 0)));
        sc.expect("socket(AF_VSOCK,SOCK_RAW,0)", () -> sys(proc.socket(AF_VSOCK, SOCK_RAW, 0)));
        sc.expect("socket(AF_VSOCK,SOCK_RDM,0)", () -> sys(proc.socket(AF_VSOCK, 4, 0)));
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,40) protocol=PF_VSOCK", () -> sys(proc.socket(AF_VSOCK, SOCK_STREAM, AF_VSOCK)));
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,1)", () -> sys(proc.socket(AF_VSOCK, SOCK_STREAM, 1)));
        sc.expect("socket(AF_VSOCK,SOCK_SEQPACKET,1)", () -> sys(proc.socket(AF_VSOCK, SOCK_SEQPACKET, 1)));
        sc.expect("socket(AF_VSOCK,SOCK_DGRAM,1)", () -> sys(proc.socket(AF_VSOCK, SOCK_DGRAM, 1)));
        sc.expect("socket(AF_VSOCK,SOCK_RAW,1) bad type and bad protocol", () -> sys(proc.socket(AF_VSOCK, SOCK_RAW, 1)));
        int[] fd = new int[1];
        sc.expect("socket(AF_VSOCK,SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC,0)", () -> {
            fd[0] = sys(proc.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            return fd[0];
        });
        sc.expect("fcntl(F_GETFL)", () -> sys(proc.fcntl(fd[0], Fcntl.F_GETFL, 0)))
                .flag("O_NONBLOCK", (proc.fcntl(fd[0], Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK) != 0);
        sc.expect("fcntl(F_GETFD)", () -> sys(proc.fcntl(fd[0], Fcntl.F_GETFD, 0)))
                .flag("FD_CLOEXEC", (proc.fcntl(fd[0], Fcntl.F_GETFD, 0) & Fcntl.FD_CLOEXEC) != 0);
        int[] sv = new int[2];
        sc.expect("socketpair(AF_VSOCK,SOCK_STREAM,0)", () -> sys(proc.socketpair(AF_VSOCK, SOCK_STREAM, 0, sv)));
        sc.expect("socketpair(AF_VSOCK,SOCK_SEQPACKET,0)", () -> sys(proc.socketpair(AF_VSOCK, SOCK_SEQPACKET, 0, sv)));
        sc.done();
    }

    @Test
    @DisplayName("bind_twice: bind a socket a second time (same and other address), stream and seqpacket")
    void shouldRefuseSecondBindWhenAlreadyBound() throws Exception {
        Scenario sc = KernelTrace.scenario("bind_twice");
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            int k = type == SOCK_STREAM ? 0 : 10;
            VsockSocket[] s = new VsockSocket[1];
            sc.expect("socket(AF_VSOCK," + (type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_SEQPACKET") + ",0)", () -> {
                int fd = socketFd(type); // 3, then 4: the stream socket stays open
                s[0] = file(fd);
                return fd;
            });
            sc.expect("bind(ANY,P+" + k + ")", () -> bind(s[0], VMADDR_CID_ANY, P + k));
            sc.expect("bind(ANY,P+" + k + ")", () -> bind(s[0], VMADDR_CID_ANY, P + k));
            sc.expect("bind(ANY,P+" + (k + 1) + ")", () -> bind(s[0], VMADDR_CID_ANY, P + k + 1));
            sc.expect("bind(LOCAL,P+" + k + ")", () -> bind(s[0], VMADDR_CID_LOCAL, P + k));
            sc.getsockname("getsockname", s[0], P);
        }
        sc.done();
    }

    private static long bind(VsockSocket s, int cid, int port) throws Exception {
        s.bind(cid, port);
        return 0;
    }

    @Test
    @DisplayName("bind_bad_addr: bind with wrong family, short/long addrlen, svm_zero/svm_flags/svm_reserved1 set, NULL")
    void shouldValidateBindAddressAsLinuxWhenMalformed() throws Exception {
        Scenario sc = KernelTrace.scenario("bind_bad_addr");
        int[] port = {P};
        java.util.function.Function<ByteBuffer[], KernelTrace.Call> bindRaw = b -> () -> {
            sock(SOCK_STREAM).bind(b[0], b[0].capacity() == 0 ? 16 : (int) b[1].getInt(0));
            return 0;
        };
        // Each step binds a fresh stream socket to (ANY, P+k) with the recorded defect.
        Object[][] cases = {
            {"bind[family=AF_INET](addrlen=16)", raw(16, 2, VMADDR_CID_ANY, port[0]++), 16},
            {"bind[family=AF_UNSPEC](addrlen=16)", raw(16, 0, VMADDR_CID_ANY, port[0]++), 16},
            {"bind[short](addrlen=15)", raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 15},
            {"bind[short8](addrlen=8)", raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 8},
            {"bind[zero](addrlen=0)", raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 0},
            {"bind[long32](addrlen=32)", raw(32, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 32},
            {"bind[svm_zero[0]=1](addrlen=16)", with(raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 13, 1), 16},
            {"bind[svm_flags=TO_HOST](addrlen=16)", with(raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 12, VMADDR_FLAG_TO_HOST), 16},
            {"bind[svm_flags=0x80](addrlen=16)", with(raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 12, 0x80), 16},
            {"bind[svm_reserved1=7](addrlen=16)", with(raw(16, AF_VSOCK, VMADDR_CID_ANY, port[0]++), 2, 7), 16},
            {"bind(NULL,16)", ByteBuffer.allocate(0), 16},
        };
        for (Object[] c : cases) {
            ByteBuffer addr = (ByteBuffer) c[1];
            int addrlen = (Integer) c[2];
            sc.expect((String) c[0], () -> {
                sock(SOCK_STREAM).bind(addr, addrlen);
                return 0;
            });
        }
        sc.done();
    }

    private static ByteBuffer with(ByteBuffer b, int offset, int value) {
        b.put(offset, (byte) value);
        return b;
    }

    @Test
    @DisplayName("bind_privileged: ports <1024 as root and as uid 65534")
    void shouldRefuseReservedPortsWhenUnprivileged() throws Exception {
        Scenario sc = KernelTrace.scenario("bind_privileged");
        UserProcess proc = proc();
        int[] fd = new int[1];
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0) as root", () -> fd[0] = sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0)));
        sc.expect("bind(ANY,1000)", () -> sys(proc.bind(fd[0], VMADDR_CID_ANY, 1000)));
        sc.getsockname("getsockname", proc.fdopen(fd[0]), P);
        sc.expect("setuid(65534)", () -> sys(proc.setuid(65534)));
        assertThat(proc.getuid()).isEqualTo(65534);
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0) as uid 65534", () -> fd[0] = sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0)));
        sc.expect("bind(ANY,1001)", () -> sys(proc.bind(fd[0], VMADDR_CID_ANY, 1001)));
        sc.expect("bind(ANY,1023)", () -> sys(proc.bind(fd[0], VMADDR_CID_ANY, 1023)));
        sc.expect("bind(LOCAL,0)", () -> sys(proc.bind(fd[0], VMADDR_CID_LOCAL, 0)));
        sc.expect("bind(ANY,1024)", () -> sys(proc.bind(fd[0], VMADDR_CID_ANY, 1024)));
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0) as uid 65534", () -> fd[0] = sys(proc.socket(AF_VSOCK, SOCK_STREAM, 0)));
        sc.expect("bind(ANY,ANY)", () -> sys(proc.bind(fd[0], VMADDR_CID_ANY, VMADDR_PORT_ANY)));
        sc.getsockname("getsockname", proc.fdopen(fd[0]), P);
        sc.done();
    }

    @Test
    @DisplayName("listen_backlog: backlog 0/1/2 with 3 clients (connect timeout 1s), then accept until EAGAIN, then a 4th client")
    void shouldAdmitBacklogPlusOneWhenListening() throws Exception {
        Scenario sc = KernelTrace.scenario("listen_backlog");
        Object[][] runs = {{SOCK_STREAM, 0, 0}, {SOCK_STREAM, 1, 1}, {SOCK_SEQPACKET, 0, 2}, {SOCK_STREAM, 2, 3}};
        for (Object[] r : runs) {
            int type = (Integer) r[0];
            int backlog = (Integer) r[1];
            int k = (Integer) r[2];
            String tn = type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_SEQPACKET";
            // Nothing is closed: the three clients, the accepted sockets and the fourth client each
            // keep their descriptor (3; clients 4-6, accepted 7, client 8; 9; ...).
            int[] l = new int[1];
            sc.expect("socket(AF_VSOCK," + tn + ",0) " + (type == SOCK_STREAM ? "stream" : "seqpacket")
                    + " listener backlog=" + backlog, () -> {
                        l[0] = socketFd(type);
                        file(l[0]).bind(VMADDR_CID_ANY, P + k);
                        file(l[0]).setNonBlocking(true);
                        return l[0];
                    });
            VsockSocket ls = file(l[0]);
            sc.expect("listen(" + backlog + ")", () -> {
                ls.listen(backlog);
                return 0;
            });
            for (int c = 1; c <= 3; c++) {
                VsockSocket cl = file(socketFd(type));
                cl.setsockoptTimeval(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW, 1, 0);
                sc.expect("connect(LOCAL,P+" + k + ")", () -> {
                    cl.connect(VMADDR_CID_LOCAL, P + k);
                    return 0;
                });
            }
            sc.poll("poll(0) listener", ls);
            for (int a = 0; a < backlog + 1; a++) {
                acceptNamed(sc, "accept4(flags=0)", l[0], 0);
            }
            sc.expect("accept4(flags=0)", () -> acceptFd(l[0], 0));
            VsockSocket c4 = file(socketFd(type));
            sc.expect("connect(LOCAL,P+" + k + ")", () -> {
                c4.connect(VMADDR_CID_LOCAL, P + k);
                return 0;
            });
        }
        sc.done();
    }

    /**
     * accept4 on descriptor {@code l} of {@link #proc()} that must succeed: asserts the new descriptor's
     * number and the peer address the kernel reported; returns the new descriptor.
     */
    private int acceptNamed(Scenario sc, String call, int l, int flags) throws Exception {
        int[] fd = new int[1];
        sc.expect(call, () -> fd[0] = acceptFd(l, flags)).addr("peer", file(fd[0]).getpeername(), P);
        return fd[0];
    }

    @Test
    @DisplayName("connect_refused: connect to a port with no socket / bound-not-listening socket; state after")
    void shouldResetConnectWhenNobodyListens() throws Exception {
        Scenario sc = KernelTrace.scenario("connect_refused");
        for (int type : new int[] {SOCK_STREAM, SOCK_SEQPACKET}) {
            String tn = type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_SEQPACKET";
            int k = type == SOCK_STREAM ? 0 : 1;
            VsockSocket[] s = new VsockSocket[1];
            sc.expect("socket(AF_VSOCK," + tn + ",0) no listener on port", () -> {
                int fd = socketFd(type);
                s[0] = file(fd);
                return fd;
            });
            sc.expect("connect(LOCAL,P+" + k + ")", () -> {
                s[0].connect(VMADDR_CID_LOCAL, P + k);
                return 0;
            });
            sc.getsockname("getsockname", s[0], P);
            sc.getpeername("getpeername", s[0], P);
            sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", s[0]);
            sc.poll("poll(0)", s[0]);
            // The target: a socket bound to P+10 / P+11 that does not listen (the unrecorded
            // descriptors 4 and 7 between the recorded 3, 5, 6 and 8).
            VsockSocket target = file(socketFd(type));
            target.bind(VMADDR_CID_ANY, P + 10 + k);
            sc.expect("socket(AF_VSOCK," + tn + ",0) bound, not listening", () -> {
                int fd = socketFd(type);
                s[0] = file(fd);
                return fd;
            });
            sc.expect("connect(LOCAL,P+" + (10 + k) + ")", () -> {
                s[0].connect(VMADDR_CID_LOCAL, P + 10 + k);
                return 0;
            });
        }
        sc.done();
    }

    @Test
    @DisplayName("connect_nonblock_ok: non-blocking connect: EINPROGRESS, second connect, poll, SO_ERROR, third connect")
    void shouldCompleteNonBlockingConnectWhenListenerAccepts() throws Exception {
        Scenario sc = KernelTrace.scenario("connect_nonblock_ok");
        int l = listenerFd(SOCK_STREAM, P, 8); // 3: the recorded socket is 4
        VsockSocket[] s = new VsockSocket[1];
        sc.expect("socket(AF_VSOCK,SOCK_STREAM|SOCK_NONBLOCK,0)", () -> {
            int fd = socketFd(SOCK_STREAM | SOCK_NONBLOCK);
            s[0] = file(fd);
            return fd;
        });
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.expectRacy("connect(LOCAL,P+0)", () -> connect(s[0], P), "EALREADY");
        sc.poll("poll(3000) wait", s[0], 3000);
        sc.poll("poll(0) settled", s[0]);
        sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", s[0]);
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.getpeername("getpeername", s[0], P);
        VsockSocket a = file(acceptNamed(sc, "accept4(flags=0)", l, 0));
        sc.getpeername("getpeername", a, P);
        sc.done();
    }

    private static long connect(VsockSocket s, int port) throws Exception {
        s.connect(VMADDR_CID_LOCAL, port);
        return 0;
    }

    @Test
    @DisplayName("connect_retry_after_fail: blocking connect fails, then the same socket connects once a listener exists")
    void shouldConnectSameSocketWhenRetriedAfterReset() throws Exception {
        Scenario sc = KernelTrace.scenario("connect_retry_after_fail");
        VsockSocket[] s = new VsockSocket[1];
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0)", () -> {
            int fd = socketFd(SOCK_STREAM);
            s[0] = file(fd);
            return fd;
        });
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.getsockname("getsockname", s[0], P);
        SockaddrVm auto = s[0].getsockname();
        int l = listenerFd(SOCK_STREAM, P, 8); // 4
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.getsockname("getsockname", s[0], P);
        org.assertj.core.api.Assertions.assertThat(s[0].getsockname()).as("same auto-bound port after retry").isEqualTo(auto);
        sc.getpeername("getpeername", s[0], P);
        VsockSocket a = file(acceptNamed(sc, "accept4(flags=0)", l, 0));
        sc.send("send(len=2,flags=0)", s[0], "hi".getBytes(), 0);
        sc.recv("recv(len=10,flags=0)", a, 10, 0);
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0) explicitly bound", () -> {
            int fd = socketFd(SOCK_STREAM);
            s[0] = file(fd);
            return fd;
        });
        sc.expect("bind(LOCAL,P+5)", () -> bind(s[0], VMADDR_CID_LOCAL, P + 5));
        sc.expect("connect(LOCAL,P+1)", () -> connect(s[0], P + 1));
        sc.getsockname("getsockname", s[0], P);
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.getsockname("getsockname", s[0], P);
        sc.done();
    }

    @Test
    @DisplayName("connect_self: connect a bound socket to its own address")
    void shouldFailWithEprotoWhenConnectingToItself() throws Exception {
        Scenario sc = KernelTrace.scenario("connect_self");
        VsockSocket[] s = new VsockSocket[1];
        sc.expect("socket(AF_VSOCK,SOCK_STREAM,0)", () -> {
            int fd = socketFd(SOCK_STREAM);
            s[0] = file(fd);
            return fd;
        });
        sc.expect("bind(ANY,P+0)", () -> bind(s[0], VMADDR_CID_ANY, P));
        sc.expect("connect(LOCAL,P+0)", () -> connect(s[0], P));
        sc.soError("getsockopt(SOL_SOCKET,SO_ERROR)", s[0]);
        sc.poll("poll(0)", s[0]);
        sc.expect("socket(AF_VSOCK,SOCK_SEQPACKET,0)", () -> {
            int fd = socketFd(SOCK_SEQPACKET);
            s[0] = file(fd);
            return fd;
        });
        sc.expect("bind(LOCAL,P+1)", () -> bind(s[0], VMADDR_CID_LOCAL, P + 1));
        sc.expect("connect(LOCAL,P+1)", () -> connect(s[0], P + 1));
        sc.done();
    }

    @Test
    @DisplayName("accept_nonblock: accept on empty queue: O_NONBLOCK, SO_RCVTIMEO; accept4(SOCK_NONBLOCK); O_NONBLOCK inheritance")
    void shouldHonourNonBlockAndRcvtimeoWhenAccepting() throws Exception {
        Scenario sc = KernelTrace.scenario("accept_nonblock");
        int lfd = listenerFd(SOCK_STREAM, P, 8); // 3; clients 4 and 6, accepted 5 and 7
        VsockSocket l = file(lfd);
        l.setNonBlocking(true);
        sc.expect("accept4(flags=0)", () -> acceptFd(lfd, 0));
        // Blocking listener with SO_RCVTIMEO 300 ms: accept returns EAGAIN once virtual time passed it.
        l.setNonBlocking(false);
        l.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO_NEW, 0, 300_000);
        Future<KernelTrace.Outcome> f = background(() -> KernelTrace.Scenario.run(() -> acceptFd(lfd, 0)));
        awaitSleepers(1);
        org.assertj.core.api.Assertions.assertThat(f.isDone()).as("accept still waiting before SO_RCVTIMEO passed").isFalse();
        clock().advance(300_000_000L);
        KernelTrace.Outcome o = get(f);
        sc.expect("accept4(flags=0)", () -> {
            if (o.errno != null) {
                throw new io.vsocksim.uapi.ErrnoException(io.vsocksim.uapi.Errno.valueOf(o.errno), "accept");
            }
            return o.ret;
        });
        VsockSocket c1 = file(socketFd(SOCK_STREAM));
        c1.connect(VMADDR_CID_LOCAL, P);
        int a = acceptNamed(sc, "accept4(flags=SOCK_NONBLOCK)", lfd, SOCK_NONBLOCK);
        sc.expect("fcntl(F_GETFL) accepted", () -> sys(proc().fcntl(a, Fcntl.F_GETFL, 0)))
                .flag("O_NONBLOCK", (proc().fcntl(a, Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK) != 0);
        sc.recv("recv(len=10,flags=0)", file(a), 10, 0);
        l.setNonBlocking(true);
        VsockSocket c2 = file(socketFd(SOCK_STREAM));
        c2.connect(VMADDR_CID_LOCAL, P);
        int b = acceptNamed(sc, "accept4(flags=0)", lfd, 0);
        sc.expect("fcntl(F_GETFL) accepted from O_NONBLOCK listener", () -> sys(proc().fcntl(b, Fcntl.F_GETFL, 0)))
                .flag("O_NONBLOCK", (proc().fcntl(b, Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK) != 0);
        sc.done();
    }

    @Test
    @DisplayName("accept_names: getsockname/getpeername on both ends (client bound ANY, LOCAL; listener bound LOCAL)")
    void shouldReportAddressesOnBothEndsWhenAccepted() throws Exception {
        Scenario sc = KernelTrace.scenario("accept_names");
        int l0 = socketFd(SOCK_STREAM); // 3
        file(l0).bind(VMADDR_CID_LOCAL, P);
        file(l0).listen(8);
        VsockSocket client = file(socketFd(SOCK_STREAM)); // 4
        client.connect(VMADDR_CID_LOCAL, P);
        VsockSocket server = file(acceptFd(l0, 0)); // 5
        // The recorded 7 and 10 say that one of 3, 4 and 5 was closed before the next listener: the
        // first listener, whose job was done (then: listener 3, client 6, accepted 7; 8, 9, 10).
        assertThat(proc().close(l0)).isZero();
        sc.getsockname("getsockname", client, P);
        sc.getpeername("getpeername", client, P);
        sc.getsockname("getsockname", server, P);
        sc.getpeername("getpeername", server, P);

        int l1 = socketFd(SOCK_STREAM);
        file(l1).bind(VMADDR_CID_LOCAL, P + 1);
        file(l1).listen(8);
        VsockSocket cbl = file(socketFd(SOCK_STREAM));
        cbl.bind(VMADDR_CID_LOCAL, P + 2);
        sc.expect("connect(LOCAL,P+1)", () -> connect(cbl, P + 1));
        sc.getsockname("getsockname", cbl, P);
        VsockSocket s1 = file(acceptNamed(sc, "accept4(flags=0)", l1, 0));
        sc.getsockname("getsockname", s1, P);
        sc.getpeername("getpeername", s1, P);

        int l3 = socketFd(SOCK_SEQPACKET);
        file(l3).bind(VMADDR_CID_LOCAL, P + 3);
        file(l3).listen(8);
        VsockSocket csp = file(socketFd(SOCK_SEQPACKET));
        csp.connect(VMADDR_CID_LOCAL, P + 3);
        sc.getsockname("getsockname", csp, P);
        VsockSocket s3 = file(acceptNamed(sc, "accept4(flags=0)", l3, 0));
        sc.getsockname("getsockname", s3, P);
        sc.getpeername("getpeername", s3, P);
        sc.done();
    }

    @Test
    @DisplayName("getname_states: getsockname/getpeername across states (after peer close, after SHUT_WR, failed connect)")
    void shouldReportNamesAsLinuxAcrossStates() throws Exception {
        Scenario sc = KernelTrace.scenario("getname_states");
        VsockSocket fresh = sock(SOCK_STREAM);
        sc.getsockname("getsockname", fresh, P);
        sc.getpeername("getpeername", fresh, P);
        VsockSocket l = listener(SOCK_STREAM, P + 1, 8);
        sc.getpeername("getpeername", l, P);
        VsockSocket client = sock(SOCK_STREAM);
        client.connect(VMADDR_CID_LOCAL, P + 1);
        VsockSocket server = track(l.accept());
        sc.getpeername("getpeername", client, P);
        sc.expect("close", () -> {
            server.close();
            return 0;
        });
        TestMachineDrain.drain(m);
        sc.getpeername("getpeername", client, P);
        sc.getsockname("getsockname", client, P);
        sc.expect("shutdown(SHUT_WR)", () -> {
            client.shutdown(SHUT_WR);
            return 0;
        });
        sc.getpeername("getpeername", client, P);
        sc.getsockname("getsockname", client, P);
        VsockSocket failed = sock(SOCK_STREAM);
        sc.expect("SETUP connect", () -> connect(failed, P + 2));
        sc.getpeername("getpeername", failed, P);
        sc.getsockname("getsockname", failed, P);
        // getsockname with addrlen 4: the kernel copies 4 bytes and reports the full length, 16.
        sc.getsockname("getsockname(addrlen=4)", failed, P);
        sc.done();
    }

    @Test
    @DisplayName("port_reuse_after_close: re-binding a port after the owner closed, in several connection states")
    void shouldHoldPortOnlyWhileCloseLingersWhenRebinding() throws Exception {
        Scenario sc = KernelTrace.scenario("port_reuse_after_close");
        // The trace records only the re-binds; the owners (reconstructed from the scenario): P+0 a
        // bound, never connected socket; P+1 a listener; P+2 a connected client closed after its peer
        // closed; P+3 a connected client closed while its peer stays open (close lingers, up to 8 s);
        // P+10 a listener closed with an un-accepted connection in its queue.
        VsockSocket o0 = sock(SOCK_STREAM);
        o0.bind(VMADDR_CID_ANY, P);
        o0.close();
        VsockSocket o1 = sock(SOCK_STREAM);
        o1.bind(VMADDR_CID_LOCAL, P + 1);
        o1.listen(4);
        o1.close();
        VsockSocket l = listener(SOCK_STREAM, P + 20, 8);
        VsockSocket o2 = sock(SOCK_STREAM);
        o2.bind(VMADDR_CID_LOCAL, P + 2);
        o2.connect(VMADDR_CID_LOCAL, P + 20);
        VsockSocket p2 = track(l.accept());
        p2.close();
        TestMachineDrain.drain(m);
        o2.close();
        VsockSocket o3 = sock(SOCK_STREAM);
        o3.bind(VMADDR_CID_LOCAL, P + 3);
        o3.connect(VMADDR_CID_LOCAL, P + 20);
        track(l.accept());
        o3.send(ByteBuffer.wrap(KernelTrace.pattern(10)), 0);
        o3.close();
        VsockSocket o10 = sock(SOCK_STREAM);
        o10.bind(VMADDR_CID_ANY, P + 10);
        o10.listen(4);
        sock(SOCK_STREAM).connect(VMADDR_CID_LOCAL, P + 10);
        o10.close();
        TestMachineDrain.drain(m);

        sc.expect("bind(ANY,P+0)", () -> bind(sock(SOCK_STREAM), VMADDR_CID_ANY, P));
        sc.expect("bind(LOCAL,P+1)", () -> bind(sock(SOCK_STREAM), VMADDR_CID_LOCAL, P + 1));
        sc.expect("bind(LOCAL,P+2)", () -> bind(sock(SOCK_STREAM), VMADDR_CID_LOCAL, P + 2));
        sc.expect("bind(LOCAL,P+3)", () -> bind(sock(SOCK_STREAM), VMADDR_CID_LOCAL, P + 3));
        VsockSocket n10 = sock(SOCK_STREAM);
        sc.expect("bind(ANY,P+10)", () -> bind(n10, VMADDR_CID_ANY, P + 10));
        sc.expect("listen(4)", () -> {
            n10.listen(4);
            return 0;
        });
        sc.done();
    }
}
