package io.vsocksim.sim;

import static io.vsocksim.uapi.Errno.EAFNOSUPPORT;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EMFILE;
import static io.vsocksim.uapi.Errno.ENOTTY;
import static io.vsocksim.uapi.Fcntl.FD_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.F_GETFD;
import static io.vsocksim.uapi.Fcntl.F_GETFL;
import static io.vsocksim.uapi.Fcntl.F_SETFL;
import static io.vsocksim.uapi.Fcntl.FIOCLEX;
import static io.vsocksim.uapi.Fcntl.FIONBIO;
import static io.vsocksim.uapi.Fcntl.FIONCLEX;
import static io.vsocksim.uapi.Fcntl.FIOQSIZE;
import static io.vsocksim.uapi.Fcntl.O_NONBLOCK;
import static io.vsocksim.uapi.Fcntl.O_RDWR;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.SOCK_CLOEXEC;
import static io.vsocksim.uapi.Sock.SOCK_NONBLOCK;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.UserProcess;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sockets by descriptor in a process, as a C program uses them: the descriptor table, dup, fcntl,
 * the VFS ioctls, fork and exec, over connections on a loopback machine.
 */
@Timeout(60)
class ProcessDescriptorTest extends ProcessTestBase {
    private static final int PORT = 5000;


    /** {listener, accepted, client} descriptors of one connection. */
    private int[] connected() {
        return t.connect(PORT, true);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldNumberSocketsLowestFirstAndCheckFamilyAndFlagsWhenCreating() {
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM, 0)).isZero();
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0)).isEqualTo(1);
        assertThat(server.fcntl(1, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(server.socket(2, SOCK_STREAM, 0)).as("AF_INET is not here").isEqualTo(-EAFNOSUPPORT);
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM | 0x10, 0)).isEqualTo(-EINVAL);
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0)).isEqualTo(2);
        assertThat(server.fcntl(2, F_GETFL, 0)).isEqualTo(O_RDWR | O_NONBLOCK);
        assertThat(server.fcntl(0, F_GETFL, 0)).isEqualTo(O_RDWR);
        assertThat(server.close(0)).isZero();
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM, 0)).isZero();
    }

    @Test
    void shouldKeepTheConnectionWhenTheOriginalDescriptorIsClosedAfterDup() {
        int[] p = connected();
        int copy = client.dup(p[2]);
        assertThat(copy).isEqualTo(1);
        assertThat(client.close(p[2])).isZero();
        assertThat(client.send(p[2], ascii("x"), 0)).isEqualTo(-EBADF);
        assertThat(client.send(copy, ascii("hello"), 0)).isEqualTo(5);
        ByteBuffer got = ByteBuffer.allocate(16);
        assertThat(server.recv(p[1], got, 0)).isEqualTo(5);
        assertThat(new String(got.array(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("hello");
    }

    @Test
    void shouldShareNonblockingBetweenDuplicatesBecauseItIsAFileStatusFlag() {
        int[] p = connected();
        int copy = server.dup(p[1]);
        assertThat(server.fcntl(copy, F_SETFL, O_NONBLOCK)).isZero();
        assertThat(server.fcntl(p[1], F_GETFL, 0)).isEqualTo(O_RDWR | O_NONBLOCK);
        assertThat(server.recv(p[1], ByteBuffer.allocate(8), 0)).as("no data, non-blocking").isEqualTo(-EAGAIN);

        IntBuffer off = IntBuffer.allocate(1).put(0, 0);
        assertThat(server.ioctl(p[1], FIONBIO, off)).isZero();
        assertThat(server.fcntl(copy, F_GETFL, 0)).isEqualTo(O_RDWR);
        assertThat(server.ioctl(p[1], FIONBIO, null)).isEqualTo(-EFAULT);
        assertThat(server.recv(p[1], ByteBuffer.allocate(8), MSG_DONTWAIT)).isEqualTo(-EAGAIN);
    }

    @Test
    void shouldSetCloseOnExecByIoctlAndCloseOnlyThoseDescriptorsAtExec() {
        int a = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        int b = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.ioctl(a, FIOCLEX, null)).isZero();
        assertThat(server.fcntl(a, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(server.ioctl(b, FIOCLEX, null)).isZero();
        assertThat(server.ioctl(b, FIONCLEX, null)).isZero();
        assertThat(server.ioctl(b, FIOQSIZE, null)).as("a socket is not a regular file").isEqualTo(-ENOTTY);
        assertThat(server.ioctl(9, FIOCLEX, null)).isEqualTo(-EBADF);

        server.exec();
        assertThat(UserInternals.files(server).openDescriptors()).containsExactly(b);
        assertThat(m.liveSockets()).as("the close-on-exec socket was released").isEqualTo(1);
    }

    @Test
    void shouldPassUnknownIoctlsToTheSocketWhichAnswersOnlySiocoutqIn612() {
        int[] p = connected();
        assertThat(client.send(p[2], ascii("abc"), 0)).isEqualTo(3);
        m.quiesce(); // the loopback work has taken the packet
        IntBuffer outq = IntBuffer.allocate(1).put(0, -1);
        assertThat(client.ioctl(p[2], io.vsocksim.uapi.Sock.SIOCOUTQ, outq)).isZero();
        assertThat(outq.get(0)).as("nothing left unsent").isZero();
        assertThat(client.ioctl(p[2], io.vsocksim.uapi.Sock.SIOCOUTQ, null)).isEqualTo(-EFAULT);
        assertThat(server.ioctl(p[1], io.vsocksim.uapi.Sock.SIOCINQ, IntBuffer.allocate(1)))
                .as("vsock_ioctl of 6.12.117 knows SIOCOUTQ only").isEqualTo(-ENOTTY);
        assertThat(server.ioctl(p[0], io.vsocksim.uapi.Sock.SIOCOUTQ, IntBuffer.allocate(1)))
                .as("a listener has no transport yet").isEqualTo(-io.vsocksim.uapi.Errno.EOPNOTSUPP);
    }

    @Test
    void shouldKeepTheSocketOpenInTheChildWhenTheParentClosesAfterFork() {
        int[] p = connected();
        UserProcess child = client.fork();
        try {
            assertThat(client.close(p[2])).isZero();
            assertThat(child.send(p[2], ascii("from the child"), 0)).isEqualTo(14);
            ByteBuffer got = ByteBuffer.allocate(32);
            assertThat(server.recv(p[1], got, 0)).isEqualTo(14);
        } finally {
            child.close();
        }
        assertThat(server.recv(p[1], ByteBuffer.allocate(8), 0)).as("the last descriptor closed: EOF").isZero();
    }

    @Test
    void shouldLetABlockedRecvFinishWhenAnotherThreadClosesItsDescriptor() throws Exception {
        int[] p = connected();
        Future<Long> reader = pool.submit(() -> server.recv(p[1], ByteBuffer.allocate(8), 0));
        while (!sleeping(p[1])) {
            Thread.onSpinWait(); // until the reader is asleep in its call
        }
        assertThat(server.close(p[1])).isZero();
        assertThat(UserInternals.files(server).peek(p[1])).isNull();
        assertThat(client.send(p[2], ascii("late"), 0)).isEqualTo(4);
        assertThat(reader.get(10, TimeUnit.SECONDS)).as("the call held the file").isEqualTo(4L);
    }

    private boolean sleeping(int fd) {
        io.vsocksim.net.SocketFile s = (io.vsocksim.net.SocketFile) UserInternals.files(server).peek(fd);
        return s != null && s.sock().sleep.waiters() > 0;
    }

    @Test
    void shouldFailWithEmfileAndReleaseTheConnectionWhenAcceptFindsTheTableFull() {
        int l = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.bind(l, VMADDR_CID_ANY, PORT)).isZero();
        assertThat(server.listen(l, 4)).isZero();
        int c = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.connect(c, VMADDR_CID_LOCAL, PORT)).isZero();
        assertThat(UserInternals.files(server).setRlimitNofile(1)).isZero();
        assertThat(server.accept4(l, 0)).isEqualTo(-EMFILE);
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM, 0)).isEqualTo(-EMFILE);
        assertThat(UserInternals.files(server).setRlimitNofile(1024)).isZero();
    }

    @Test
    void shouldMarkAcceptedDescriptorsAsAccept4FlagsSay() {
        int l = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.bind(l, VMADDR_CID_ANY, PORT)).isZero();
        assertThat(server.listen(l, 4)).isZero();
        int c = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.connect(c, VMADDR_CID_LOCAL, PORT)).isZero();
        int a = server.accept4(l, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assertThat(server.fcntl(a, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(server.fcntl(a, F_GETFL, 0)).isEqualTo(O_RDWR | O_NONBLOCK);
        assertThat(server.accept4(l, 0x1)).isEqualTo(-EINVAL);
        assertThat(server.accept4(a + 10, 0)).isEqualTo(-EBADF);
    }

    @Test
    void shouldRefuseSocketpairWithTheErrnoOfEachCheckAndUseUpNoDescriptor() {
        int[] sv = {-1, -1};
        assertThat(server.socketpair(AF_VSOCK, SOCK_STREAM | 0x10, 0, sv)).isEqualTo(-EINVAL);
        assertThat(server.socketpair(AF_VSOCK, SOCK_STREAM, 0, null)).isEqualTo(-EFAULT);
        assertThat(server.socketpair(1, SOCK_STREAM, 0, sv)).as("AF_UNIX is not here").isEqualTo(-EAFNOSUPPORT);
        assertThat(server.socketpair(AF_VSOCK, SOCK_STREAM, 1, sv)).isEqualTo(-io.vsocksim.uapi.Errno.EPROTONOSUPPORT);
        assertThat(server.socketpair(AF_VSOCK, SOCK_STREAM, 0, sv)).as("sock_no_socketpair")
                .isEqualTo(-io.vsocksim.uapi.Errno.EOPNOTSUPP);
        assertThat(sv).containsExactly(-1, -1);
        assertThat(m.liveSockets()).isZero();
        assertThat(UserInternals.files(server).setRlimitNofile(1)).isZero();
        assertThat(server.socketpair(AF_VSOCK, SOCK_STREAM, 0, sv)).isEqualTo(-EMFILE);
        assertThat(UserInternals.files(server).setRlimitNofile(1024)).isZero();
        assertThat(server.socket(AF_VSOCK, SOCK_STREAM, 0)).as("no descriptor was used up").isZero();
    }

    @Test
    void shouldCheckReservedPortsAgainstTheCallerAtBindTimeNotTheSocketsCreator() {
        int fd = server.socket(AF_VSOCK, SOCK_STREAM, 0); // created by root
        assertThat(server.setuid(65534)).isZero();
        assertThat(server.getuid()).isEqualTo(65534);
        assertThat(server.geteuid()).isEqualTo(65534);
        assertThat(server.bind(fd, VMADDR_CID_ANY, 1000)).as("capable() looks at current")
                .isEqualTo(-io.vsocksim.uapi.Errno.EACCES);
        assertThat(server.bind(fd, VMADDR_CID_ANY, 1024)).isZero();
        assertThat(server.setuid(0)).as("no CAP_SETUID any more").isEqualTo(-io.vsocksim.uapi.Errno.EPERM);
        UserProcess child = server.fork();
        try {
            assertThat(child.getuid()).isEqualTo(65534);
            assertThat(UserInternals.cred(child).capEffective).isZero();
        } finally {
            child.close();
        }
    }
}
