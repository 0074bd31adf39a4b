package io.vsocksim.sim;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EISCONN;
import static io.vsocksim.uapi.Errno.EMSGSIZE;
import static io.vsocksim.uapi.Errno.ENOBUFS;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.ENOTTY;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Errno.ESRCH;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Sock.MSG_CMSG_CLOEXEC;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_PEEK;
import static io.vsocksim.uapi.Sock.MSG_TRUNC;
import static io.vsocksim.uapi.Sock.SOCK_NONBLOCK;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sockios.FIOGETOWN;
import static io.vsocksim.uapi.Sockios.FIOSETOWN;
import static io.vsocksim.uapi.Sockios.SIOCATMARK;
import static io.vsocksim.uapi.Sockios.SIOCDEVPRIVATE;
import static io.vsocksim.uapi.Sockios.SIOCGIFBR;
import static io.vsocksim.uapi.Sockios.SIOCGIFCONF;
import static io.vsocksim.uapi.Sockios.SIOCGIFFLAGS;
import static io.vsocksim.uapi.Sockios.SIOCGPGRP;
import static io.vsocksim.uapi.Sockios.SIOCGSKNS;
import static io.vsocksim.uapi.Sockios.SIOCGSTAMPNS_NEW;
import static io.vsocksim.uapi.Sockios.SIOCGSTAMP_OLD;
import static io.vsocksim.uapi.Sockios.SIOCSPGRP;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.net.SockIoctl;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.uapi.Signal;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.user.UserProcess;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The net/socket.c calls by descriptor: address copy-out and copy-in, sendto/recvfrom, sendmsg/recvmsg
 * with an iovec, and the ioctls sock_ioctl answers before vsock. Values marked "trace" are those of
 * /work/shared/kernel-traces/linux-6.12.117-loopback.jsonl.
 */
@Timeout(60)
class ProcessSocketCallsTest {
    private static final int PORT = 5100;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    TwoProcesses t;
    UserProcess server;
    UserProcess client;

    @BeforeEach
    void setUp() {
        t = new TwoProcesses("socketcalls", leaks);
        server = t.server;
        client = t.client;
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        t.close();
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String text(ByteBuffer b) {
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }

    /** {accepted, client} of a SEQPACKET connection. */
    private int[] seqpacket(int port) {
        int l = server.socket(AF_VSOCK, SOCK_SEQPACKET, 0);
        assertThat(server.bind(l, VMADDR_CID_ANY, port)).isZero();
        assertThat(server.listen(l, 4)).isZero();
        int c = client.socket(AF_VSOCK, SOCK_SEQPACKET, 0);
        assertThat(client.connect(c, VMADDR_CID_LOCAL, port)).isZero();
        int a = server.accept4(l, 0);
        assertThat(server.close(l)).isZero();
        return new int[] {a, c};
    }

    // ---- getsockname / getpeername -------------------------------------------------------------------

    @Test
    void shouldWriteTheFullLengthBackButCopyOnlyWhatFitsWhenGetsocknameBufferIsShort() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.bind(fd, VMADDR_CID_LOCAL, PORT)).isZero();
        ByteBuffer addr = ByteBuffer.allocate(16);
        int[] len = {16};
        assertThat(server.getsockname(fd, addr, len)).isZero();
        assertThat(len[0]).isEqualTo(16);
        assertThat(addr.array()).isEqualTo(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());

        // trace getname_states: getsockname(addrlen=4) → 0, addrlen 16
        ByteBuffer shortBuf = ByteBuffer.allocate(8);
        int[] four = {4};
        assertThat(server.getsockname(fd, shortBuf, four)).isZero();
        assertThat(four[0]).isEqualTo(16);
        assertThat(shortBuf.array()).containsExactly(AF_VSOCK, 0, 0, 0, 0, 0, 0, 0);

        int[] big = {200};
        assertThat(server.getsockname(fd, ByteBuffer.allocate(200), big)).isZero();
        assertThat(big[0]).as("never more than the address").isEqualTo(16);
    }

    @Test
    void shouldFailGetsocknameWithEinvalForNegativeLengthAndEfaultForNullPointers() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        int[] neg = {-1};
        assertThat(server.getsockname(fd, ByteBuffer.allocate(16), neg)).isEqualTo(-EINVAL);
        assertThat(neg[0]).isEqualTo(-1);
        assertThat(server.getsockname(fd, ByteBuffer.allocate(16), null)).isEqualTo(-EFAULT);
        assertThat(server.getsockname(fd, null, new int[] {16})).isEqualTo(-EFAULT);
        assertThat(server.getsockname(fd, ByteBuffer.allocate(15), new int[] {16})).isEqualTo(-EFAULT);
        int[] zero = {0};
        assertThat(server.getsockname(fd, null, zero)).as("nothing to copy: NULL is never touched").isZero();
        assertThat(zero[0]).isEqualTo(16);
        assertThat(server.getsockname(42, ByteBuffer.allocate(16), new int[] {16})).isEqualTo(-EBADF);
    }

    @Test
    void shouldGiveEnotconnFromGetpeernameUntilConnectedAndAfterShutdown() {
        int fresh = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        int[] len = {16};
        assertThat(client.getpeername(fresh, ByteBuffer.allocate(16), len)).isEqualTo(-ENOTCONN);
        assertThat(len[0]).as("untouched on failure").isEqualTo(16);

        int[] p = t.connect(PORT, false);
        ByteBuffer addr = ByteBuffer.allocate(16);
        assertThat(client.getpeername(p[1], addr, len)).isZero();
        assertThat(len[0]).isEqualTo(16);
        assertThat(addr.array()).isEqualTo(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        // trace getname_states: after shutdown(SHUT_WR), getpeername is ENOTCONN
        assertThat(client.shutdown(p[1], 1)).isZero();
        assertThat(client.getpeername(p[1], ByteBuffer.allocate(16), len)).isEqualTo(-ENOTCONN);
    }

    // ---- bind / connect with raw addresses -----------------------------------------------------------

    @Test
    void shouldCheckRawAddressLengthsAsMoveAddrToKernelThenVsockAddrCast() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        ByteBuffer good = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_ANY, PORT).toBytes());
        assertThat(server.bind(fd, good, -1)).isEqualTo(-EINVAL);
        assertThat(server.bind(fd, ByteBuffer.allocate(200), 129)).isEqualTo(-EINVAL);
        assertThat(server.bind(fd, null, 16)).isEqualTo(-EFAULT);
        assertThat(server.bind(fd, good, 17)).as("17 bytes cannot be read from 16").isEqualTo(-EFAULT);
        assertThat(server.bind(fd, good, 8)).as("shorter than sockaddr_vm").isEqualTo(-EINVAL);
        ByteBuffer inet = ByteBuffer.allocate(16).put(0, (byte) 2);
        assertThat(server.bind(fd, inet, 16)).isEqualTo(-EINVAL);
        assertThat(server.bind(fd, good, 16)).isZero();
        assertThat(server.listen(fd, 1)).isZero();

        int c = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.connect(c, inet, 16)).as("vsock_connect: any cast failure is EINVAL").isEqualTo(-EINVAL);
        assertThat(client.connect(c, good, 129)).isEqualTo(-EINVAL);
        ByteBuffer local = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        assertThat(client.connect(c, local, 128)).as("128 bytes cannot be read from 16").isEqualTo(-EFAULT);
        assertThat(client.connect(c, local, 16)).isZero();
        int a = server.accept4(fd, 0);
        assertThat(a).isNotNegative();
    }

    // ---- sendto / recvfrom ---------------------------------------------------------------------------

    @Test
    void shouldRefuseADestinationOnlyWhenItsLengthIsNonZero() {
        int[] p = t.connect(PORT, false);
        ByteBuffer dest = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        assertThat(client.sendto(p[1], ascii("x"), 0, dest, 16)).isEqualTo(-EISCONN);
        assertThat(client.sendto(p[1], ascii("x"), 0, dest, -1)).isEqualTo(-EINVAL);
        assertThat(client.sendto(p[1], ascii("x"), 0, dest, 129)).isEqualTo(-EINVAL);
        assertThat(client.sendto(p[1], ascii("x"), 0, null, 16)).as("NULL address: length ignored").isEqualTo(1);
        assertThat(client.sendto(p[1], ascii("y"), 0, dest, 0)).as("namelen 0: no destination").isEqualTo(1);

        // trace io_unconnected: sendto on an unconnected socket is EOPNOTSUPP
        int fresh = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.sendto(fresh, ascii("x"), 0, dest, 16)).isEqualTo(-EOPNOTSUPP);

        ByteBuffer got = ByteBuffer.allocate(8);
        ByteBuffer from = ByteBuffer.allocate(16).put(0, (byte) 0x55);
        int[] fromLen = {16};
        assertThat(server.recvfrom(p[0], got, 0, from, fromLen)).isEqualTo(2);
        assertThat(text(got)).isEqualTo("xy");
        assertThat(fromLen[0]).as("vsock fills in no sender address").isZero();
        assertThat(from.get(0)).as("no byte written").isEqualTo((byte) 0x55);
    }

    @Test
    void shouldConsumeTheDataAndStillFailWhenRecvfromLengthIsBad() {
        int[] p = t.connect(PORT, false);
        assertThat(client.send(p[1], ascii("abc"), 0)).isEqualTo(3);
        ByteBuffer got = ByteBuffer.allocate(2);
        assertThat(server.recvfrom(p[0], got, 0, ByteBuffer.allocate(16), new int[] {-1})).isEqualTo(-EINVAL);
        assertThat(text(got)).isEqualTo("ab");
        assertThat(server.recvfrom(p[0], ByteBuffer.allocate(2), 0, ByteBuffer.allocate(16), null)).isEqualTo(-EFAULT);
        assertThat(server.recvfrom(p[0], ByteBuffer.allocate(2), MSG_DONTWAIT, null, null)).isEqualTo(-EAGAIN);
    }

    @Test
    void shouldAddDontwaitForANonblockingFileInSendtoAndRecvfrom() {
        int[] p = t.connect(PORT, false);
        assertThat(server.fcntl(p[0], io.vsocksim.uapi.Fcntl.F_SETFL, io.vsocksim.uapi.Fcntl.O_NONBLOCK)).isZero();
        assertThat(server.recvfrom(p[0], ByteBuffer.allocate(4), 0, null, null)).isEqualTo(-EAGAIN);
    }

    @Test
    void shouldRaiseSigpipeOnlyForStreamWhenSendtoGetsEpipe() {
        int[] s = t.connect(PORT, false);
        assertThat(client.shutdown(s[1], 1)).isZero();
        assertThat(client.sigaction(Signal.SIGPIPE, UserProcess.SIG_IGN, 0)).isZero();
        assertThat(client.sendto(s[1], ascii("x"), 0, null, 0)).isEqualTo(-EPIPE);

        // trace send_after_peer_close: a SEQPACKET EPIPE sends no SIGPIPE, so the default action cannot end us
        UserProcess other = UserProcess.spawn(t.m, "other");
        try {
            int l = server.socket(AF_VSOCK, SOCK_SEQPACKET, 0);
            assertThat(server.bind(l, VMADDR_CID_ANY, PORT + 1)).isZero();
            assertThat(server.listen(l, 1)).isZero();
            int c = other.socket(AF_VSOCK, SOCK_SEQPACKET, 0);
            assertThat(other.connect(c, VMADDR_CID_LOCAL, PORT + 1)).isZero();
            assertThat(other.shutdown(c, 1)).isZero();
            assertThat(other.sendto(c, ascii("x"), 0, null, 0)).isEqualTo(-EPIPE);
            assertThat(other.sendmsg(c, UserMsghdr.of(ascii("x")), 0)).isEqualTo(-EPIPE);
            assertThat(other.exitSignal()).isZero();
        } finally {
            other.close();
        }
    }

    // ---- sendmsg / recvmsg ---------------------------------------------------------------------------

    @Test
    void shouldGatherAndScatterAcrossIovecSegmentsInOrder() {
        int[] p = t.connect(PORT, false);
        ByteBuffer a = ascii("hel");
        ByteBuffer b = ascii("lo ");
        ByteBuffer c = ascii("world");
        UserMsghdr out = UserMsghdr.of(a, null, b, c);
        assertThat(client.sendmsg(p[1], out, 0)).isEqualTo(11);
        assertThat(a.remaining() + b.remaining() + c.remaining()).isZero();

        ByteBuffer x = ByteBuffer.allocate(4);
        ByteBuffer y = ByteBuffer.allocate(0);
        ByteBuffer z = ByteBuffer.allocate(16);
        UserMsghdr in = UserMsghdr.of(x, y, z);
        in.flags = 0x7777; // ignored on the way in, overwritten on the way out
        assertThat(server.recvmsg(p[0], in, 0)).isEqualTo(11);
        assertThat(text(x)).isEqualTo("hell");
        assertThat(text(z)).isEqualTo("o world");
        assertThat(in.flags).isZero();
        assertThat(in.controllen).isZero();
    }

    @Test
    void shouldCheckTheMsghdrAsCopyMsghdrDoes() {
        int[] p = t.connect(PORT, false);
        assertThat(client.sendmsg(p[1], UserMsghdr.of(ascii("x")), io.vsocksim.uapi.Sock.MSG_CMSG_COMPAT)).isEqualTo(-EINVAL);
        assertThat(client.sendmsg(99, UserMsghdr.of(ascii("x")), io.vsocksim.uapi.Sock.MSG_CMSG_COMPAT))
                .as("before the descriptor").isEqualTo(-EINVAL);
        assertThat(client.recvmsg(99, UserMsghdr.of(), 0)).isEqualTo(-EBADF);
        assertThat(client.sendmsg(p[1], null, 0)).isEqualTo(-EFAULT);

        UserMsghdr many = UserMsghdr.of(new ByteBuffer[1025]);
        assertThat(client.sendmsg(p[1], many, 0)).isEqualTo(-EMSGSIZE);
        assertThat(server.recvmsg(p[0], many, 0)).isEqualTo(-EMSGSIZE);
        UserMsghdr max = UserMsghdr.of(new ByteBuffer[1024]);
        max.iov[1023] = ascii("m");
        assertThat(client.sendmsg(p[1], max, 0)).as("UIO_MAXIOV itself is allowed").isEqualTo(1);
        UserMsghdr huge = UserMsghdr.of();
        huge.iovlen = -1;
        assertThat(client.sendmsg(p[1], huge, 0)).as("size_t: huge").isEqualTo(-EMSGSIZE);
        UserMsghdr nullIov = UserMsghdr.of();
        nullIov.iov = null;
        nullIov.iovlen = 2;
        assertThat(client.sendmsg(p[1], nullIov, 0)).isEqualTo(-EFAULT);

        UserMsghdr named = UserMsghdr.of(ascii("x"));
        named.name = ByteBuffer.wrap(new SockaddrVm(VMADDR_CID_LOCAL, PORT).toBytes());
        named.namelen = -1;
        assertThat(client.sendmsg(p[1], named, 0)).isEqualTo(-EINVAL);
        named.namelen = 500;
        assertThat(client.sendmsg(p[1], named, 0)).as("cut to 128, then 128 bytes cannot be read").isEqualTo(-EFAULT);
        named.namelen = 16;
        assertThat(client.sendmsg(p[1], named, 0)).isEqualTo(-EISCONN);
        named.namelen = 0;
        assertThat(client.sendmsg(p[1], named, 0)).isEqualTo(1);

        UserMsghdr ctl = UserMsghdr.of(ascii("x"));
        ctl.controllen = -1;
        assertThat(client.sendmsg(p[1], ctl, 0)).isEqualTo(-ENOBUFS);
        ctl.controllen = 16;
        assertThat(client.sendmsg(p[1], ctl, 0)).isEqualTo(-EFAULT);

        UserMsghdr rnamed = UserMsghdr.of(ByteBuffer.allocate(8));
        rnamed.name = ByteBuffer.allocate(16);
        rnamed.namelen = -5;
        assertThat(server.recvmsg(p[0], rnamed, 0)).isEqualTo(-EINVAL);
        rnamed.namelen = 16;
        assertThat(server.recvmsg(p[0], rnamed, 0)).isEqualTo(2);
        assertThat(rnamed.namelen).as("trace: msg_namelen 0").isZero();
    }

    @Test
    void shouldReturnSeqpacketMsgFlagsAsTheTraceRecordsThem() {
        int[] p = seqpacket(PORT);
        // trace seq_peek
        assertThat(client.send(p[1], ByteBuffer.wrap(alphabet(100)), MSG_EOR)).isEqualTo(100);
        assertThat(client.send(p[1], ByteBuffer.wrap(alphabet(50)), 0)).isEqualTo(50);
        UserMsghdr m = UserMsghdr.of(ByteBuffer.allocate(4096));
        assertThat(server.recvmsg(p[0], m, MSG_PEEK)).isEqualTo(100);
        assertThat(m.flags).isEqualTo(MSG_EOR);
        m = UserMsghdr.of(ByteBuffer.allocate(6), ByteBuffer.allocate(4));
        assertThat(server.recvmsg(p[0], m, MSG_PEEK)).isEqualTo(10);
        assertThat(m.flags).isEqualTo(MSG_EOR | MSG_TRUNC);
        assertThat(text(m.iov[0]) + text(m.iov[1])).isEqualTo("abcdefghij");
        m = UserMsghdr.of(ByteBuffer.allocate(10));
        assertThat(server.recvmsg(p[0], m, MSG_TRUNC | MSG_PEEK)).isEqualTo(100);
        assertThat(m.flags).isEqualTo(MSG_EOR | MSG_TRUNC);
        m = UserMsghdr.of(ByteBuffer.allocate(4096));
        m.name = ByteBuffer.allocate(16);
        m.namelen = 16;
        assertThat(server.recvmsg(p[0], m, MSG_CMSG_CLOEXEC)).isEqualTo(100);
        assertThat(m.flags).as("MSG_CMSG_CLOEXEC comes back in msg_flags").isEqualTo(MSG_EOR | MSG_CMSG_CLOEXEC);
        assertThat(m.namelen).isZero();
        m = UserMsghdr.of(ByteBuffer.allocate(4096));
        assertThat(server.recvmsg(p[0], m, 0)).isEqualTo(50);
        assertThat(m.flags).isZero();
        assertThat(server.recvmsg(p[0], UserMsghdr.of(ByteBuffer.allocate(8)), MSG_DONTWAIT | MSG_PEEK)).isEqualTo(-EAGAIN);
    }

    private static byte[] alphabet(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    // ---- shutdown ------------------------------------------------------------------------------------

    @Test
    void shouldCheckHowBeforeTheSocketStateInShutdown() {
        int fresh = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.shutdown(fresh, 3)).isEqualTo(-EINVAL);
        assertThat(client.shutdown(fresh, -1)).isEqualTo(-EINVAL);
        assertThat(client.shutdown(fresh, Integer.MAX_VALUE)).isEqualTo(-EINVAL);
        assertThat(client.shutdown(fresh, 2)).isEqualTo(-ENOTCONN);
    }

    // ---- sock_ioctl ----------------------------------------------------------------------------------

    @Test
    void shouldSetAndGetTheFileOwnerThroughSockIoctl() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        IntBuffer v = IntBuffer.allocate(1);
        assertThat(server.ioctl(fd, FIOGETOWN, v)).isZero();
        assertThat(v.get(0)).isZero();
        int pid = server.getpid();
        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {pid}))).isZero();
        assertThat(server.ioctl(fd, SIOCGPGRP, v)).isZero();
        assertThat(v.get(0)).isEqualTo(pid);
        assertThat(server.ioctl(fd, SIOCSPGRP, IntBuffer.wrap(new int[] {-pid}))).isZero();
        assertThat(server.ioctl(fd, FIOGETOWN, v)).isZero();
        assertThat(v.get(0)).as("a process group comes back negative").isEqualTo(-pid);
        assertThat(server.fcntl(fd, io.vsocksim.uapi.Fcntl.F_GETFL, 0)).isEqualTo(io.vsocksim.uapi.Fcntl.O_RDWR);

        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {Integer.MIN_VALUE}))).isEqualTo(-EINVAL);
        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {999_999}))).isEqualTo(-ESRCH);
        assertThat(server.ioctl(fd, FIOSETOWN, null)).isEqualTo(-EFAULT);
        assertThat(server.ioctl(fd, FIOGETOWN, null)).isEqualTo(-EFAULT);

        UserProcess gone = UserProcess.spawn(t.m, "gone");
        int gonePid = gone.getpid();
        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {gonePid}))).isZero();
        gone.close();
        assertThat(server.ioctl(fd, FIOGETOWN, v)).isZero();
        assertThat(v.get(0)).as("the owner has ended").isZero();
        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {gonePid}))).isEqualTo(-ESRCH);
        assertThat(server.ioctl(fd, FIOSETOWN, IntBuffer.wrap(new int[] {0}))).isZero();
    }

    @Test
    void shouldAnswerTimestampNamespaceAndDeviceIoctlsBeforeVsock() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        IntBuffer ifreq = IntBuffer.allocate(10);
        assertThat(server.ioctl(fd, SIOCGSTAMP_OLD, ifreq)).as("vsock has no gettstamp").isEqualTo(-ENOTTY);
        assertThat(server.ioctl(fd, SIOCGSTAMPNS_NEW, ifreq)).isEqualTo(-ENOTTY);
        assertThat(server.ioctl(fd, SIOCGSKNS, null)).isEqualTo(-EOPNOTSUPP);
        assertThat(server.ioctl(fd, SIOCGIFBR, ifreq)).isEqualTo(-SockIoctl.ENOPKG);
        assertThat(server.ioctl(fd, SIOCATMARK, IntBuffer.allocate(1))).as("struct ifreq read first").isEqualTo(-EFAULT);
        assertThat(server.ioctl(fd, SIOCATMARK, ifreq)).isEqualTo(-ENOTTY);
        assertThat(server.ioctl(fd, SIOCGIFFLAGS, ifreq)).isEqualTo(-ENODEV);
        assertThat(server.ioctl(fd, SIOCDEVPRIVATE + 3, null)).isEqualTo(-EFAULT);
        assertThat(server.ioctl(fd, SIOCDEVPRIVATE + 3, ifreq)).isEqualTo(-ENODEV);
        IntBuffer ifconf = IntBuffer.wrap(new int[] {64, 0, 0, 0});
        assertThat(server.ioctl(fd, SIOCGIFCONF, ifconf)).isZero();
        assertThat(ifconf.get(0)).as("no interfaces").isZero();
        assertThat(server.ioctl(fd, Sock.SIOCINQ, ifreq)).as("trace: SIOCINQ is ENOTTY in 6.12.117").isEqualTo(-ENOTTY);
        assertThat(server.setuid(65534)).isZero();
        assertThat(server.ioctl(fd, SIOCGSKNS, null)).as("CAP_NET_ADMIN").isEqualTo(-EPERM);
    }

    @Test
    void shouldStillAnswerSiocoutqThroughVsock() {
        int[] p = t.connect(PORT, false);
        IntBuffer v = IntBuffer.wrap(new int[] {-1});
        assertThat(client.ioctl(p[1], Sock.SIOCOUTQ, v)).isZero();
        assertThat(v.get(0)).isZero();
        assertThat(client.ioctl(p[1], Sock.SIOCOUTQ, null)).isEqualTo(-EFAULT);
        int nb = client.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertThat(client.ioctl(nb, Sock.SIOCOUTQ, v)).as("no transport yet").isEqualTo(-EOPNOTSUPP);
    }
}
