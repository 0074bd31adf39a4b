package io.vsocksim.sim;

import static io.vsocksim.uapi.Mman.MADV_DONTNEED;
import static io.vsocksim.uapi.Mman.MAP_ANONYMOUS;
import static io.vsocksim.uapi.Mman.MAP_PRIVATE;
import static io.vsocksim.uapi.Mman.MAP_SHARED;
import static io.vsocksim.uapi.Mman.PROT_READ;
import static io.vsocksim.uapi.Mman.PROT_WRITE;
import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOMEM;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.SegmentationFault;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.user.UserProcess;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Anonymous memory of a process and the socket calls that copy from and to it by address. */
class ProcessMemoryTest extends ProcessTestBase {
    private static final int PAGE = 4096;

    private long anon(UserProcess p, long len, int prot) {
        long addr = p.mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertThat(addr).isPositive();
        return addr;
    }

    @Test
    void anonymousMemoryIsZeroedWritableAndComesFromTheMachine() {
        long before = m.kernel().pages().pagesInUse();
        long a = anon(client, 3 * PAGE, PROT_READ | PROT_WRITE);
        assertThat(m.kernel().pages().pagesInUse() - before).isEqualTo(4); // one order-2 block
        assertThat(client.readU32(a + PAGE)).isZero();
        client.write(a + PAGE - 2, new byte[] {1, 2, 3, 4}, 0, 4);
        assertThat(client.readU32(a + PAGE - 2)).isEqualTo(0x04030201);
        assertThat(client.madvise(a, PAGE, MADV_DONTNEED)).isZero();
        assertThat(client.readByte(a + PAGE - 2)).isZero(); // a fresh zero page, as Linux gives
        assertThat(client.readByte(a + PAGE)).isEqualTo(3);
        assertThat(client.munmap(a + PAGE, PAGE)).isZero();
        assertThatThrownBy(() -> client.readByte(a + PAGE)).isInstanceOf(SegmentationFault.class);
        assertThat(m.kernel().pages().pagesInUse() - before).isEqualTo(4); // the block lives while a page is mapped
        assertThat(client.munmap(a, 3 * PAGE)).isZero();
        assertThat(m.kernel().pages().pagesInUse()).isEqualTo(before);
    }

    @Test
    void mmapChecksItsArgumentsAsLinuxDoes() {
        assertThat(client.mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).isEqualTo(-EINVAL);
        assertThat(client.mmap(0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0)).isEqualTo(-EINVAL);
        assertThat(client.mmap(0, PAGE, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).isEqualTo(-EINVAL);
        assertThat(client.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1)).isEqualTo(-EINVAL);
        assertThat(client.mmap(0, PAGE, PROT_READ, MAP_SHARED, 42, 0)).isEqualTo(-EBADF);
        int ep = client.epollCreate1(0);
        assertThat(client.mmap(0, PAGE, PROT_READ, MAP_SHARED, ep, 0)).isEqualTo(-ENODEV);
        assertThat(client.mmap(0, UserBuffer.MAX_BYTES + 1L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
                .isEqualTo(-ENOMEM);
        assertThat(client.close(ep)).isZero();
    }

    @Test
    void sendAndRecvByAddressMoveTheBytesOfProcessMemory() {
        int[] fds = t.connect(1300, false);
        long src = anon(client, 2 * PAGE, PROT_READ | PROT_WRITE);
        byte[] data = new byte[5000];
        Arrays.fill(data, (byte) 'x');
        data[4999] = 'y';
        client.write(src, data, 0, data.length);
        assertThat(client.send(fds[1], src, data.length, 0)).isEqualTo(5000);
        long dst = anon(server, 2 * PAGE, PROT_READ | PROT_WRITE);
        assertThat(server.recv(fds[0], dst + 100, 5000, 0)).isEqualTo(5000);
        byte[] got = new byte[5000];
        server.read(dst + 100, got, 0, got.length);
        assertThat(got).isEqualTo(data);
    }

    @Test
    void recvIntoNullOrAHoleIsEfaultAndLosesNothing() {
        int[] fds = t.connect(1301, false);
        assertThat(client.send(fds[1], ByteBuffer.wrap(new byte[3 * PAGE]), 0)).isEqualTo(3 * PAGE);
        assertThat(server.recv(fds[0], 0L, 3 * PAGE, 0)).isEqualTo(-EFAULT);
        long buf = anon(server, 3 * PAGE, PROT_READ | PROT_WRITE);
        assertThat(server.munmap(buf + PAGE, PAGE)).isZero();
        assertThat(server.recv(fds[0], buf, 3 * PAGE, 0)).isEqualTo(-EFAULT);
        long ro = anon(server, PAGE, PROT_READ);
        assertThat(server.recv(fds[0], ro, PAGE, 0)).isEqualTo(-EFAULT);
        assertThat(server.recv(fds[0], ByteBuffer.allocate(4 * PAGE), MSG_DONTWAIT)).isEqualTo(3 * PAGE);
        assertThat(server.recv(fds[0], buf, PAGE, MSG_DONTWAIT)).isEqualTo(-EAGAIN);
    }

    @Test
    void sendFromAHoleFailsThePacketItFallsIn() {
        int[] fds = t.connect(1302, false);
        long buf = anon(client, 3 * PAGE, PROT_READ | PROT_WRITE);
        assertThat(client.munmap(buf + PAGE, PAGE)).isZero();
        // One packet would carry all 12 KiB; its copy faults, nothing was sent: ENOMEM, as the transport says.
        assertThat(client.send(fds[1], buf, 3 * PAGE, 0)).isEqualTo(-ENOMEM);
        assertThat(client.send(fds[1], 0L, PAGE, 0)).isEqualTo(-ENOMEM);
        long big = anon(client, 17 * PAGE, PROT_READ | PROT_WRITE);
        assertThat(client.munmap(big + 16 * PAGE, PAGE)).isZero();
        // The first 64 KiB packet is whole; the second faults: a short count.
        assertThat(client.send(fds[1], big, 17 * PAGE, 0)).isEqualTo(16 * PAGE);
        assertThat(server.recv(fds[0], ByteBuffer.allocate(32 * PAGE), 0)).isEqualTo(16 * PAGE);
        assertThat(server.recv(fds[0], ByteBuffer.allocate(PAGE), MSG_DONTWAIT)).isEqualTo(-EAGAIN);
    }

    @Test
    void processExitReturnsAnonymousMemory() {
        long before = m.kernel().pages().pagesInUse();
        UserProcess p = UserProcess.spawn(m, "short-lived");
        anon(p, 5 * PAGE, PROT_READ);
        assertThat(m.kernel().pages().pagesInUse()).isEqualTo(before + 8);
        p.close();
        assertThat(m.kernel().pages().pagesInUse()).isEqualTo(before);
    }
}
