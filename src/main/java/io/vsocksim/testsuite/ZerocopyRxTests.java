package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_ZEROCOPY;

import io.vsocksim.NotUpstream;
import io.vsocksim.uapi.Mman;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.ZerocopyPolicy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The two vsock_test cases the zerocopy receive RFC adds (IDs 26 and 27 here). The RFC's test patch
 * was never found, so its exact steps are unknown; these follow what its cover letters say ("invalid
 * usage" and "a correct transmission") and the errno rules of its patches as
 * {@code docs/zerocopy.md} lists them. The receiving role runs on a machine switched to the
 * {@link ZerocopyPolicy#PAGES} allocation policy for the test (the RFC kernel), then switched back.
 */
@NotUpstream("virtio/vsock zerocopy receive RFC v1: its two vsock_test cases (reconstructed)")
final class ZerocopyRxTests {
    static final int PAGE = 4096;
    static final int MAP_PAGES = 16;
    static final int TOTAL = 512 * 1024;

    private ZerocopyRxTests() {
    }

    /** The receiving machine switched to the RFC kernel's allocation policy while the test runs. */
    private static final class Rfc implements AutoCloseable {
        final Machine m;
        final ZerocopyPolicy old;

        Rfc(Machine m) {
            this.m = m;
            this.old = m.zerocopyPolicy();
            m.setZerocopyPolicy(ZerocopyPolicy.PAGES);
        }

        @Override
        public void close() {
            m.setZerocopyPolicy(old);
        }
    }

    /** getsockopt(SO_VM_SOCKETS_ZEROCOPY) with the mapping address: 0 or {@code -errno}. */
    private static int mapRx(TestContext t, int fd, long addr, int optlen) {
        ByteBuffer opt = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, addr);
        int ret = t.proc.getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY, opt, optlen);
        return Math.min(ret, 0);
    }

    private static void expect(int got, int errno, String what) {
        if (got != -errno) {
            throw new TestFailure(what + ": expected " + (errno == 0 ? "success" : Errno.name(errno)) + ", got "
                    + (got == 0 ? "success" : Errno.name(-got)));
        }
    }

    /** mmap(2) of the socket, which must fail with {@code expectedErrno} (or succeed for 0). */
    private static long mmap(TestContext t, int fd, long len, int prot, int expectedErrno, String what) {
        long addr = t.proc.mmap(0, len, prot, Mman.MAP_SHARED, fd, 0);
        if (addr >= 0 && expectedErrno != 0) {
            throw new TestFailure(what + ": expected " + Errno.name(expectedErrno) + ", got success");
        }
        if (addr < 0 && addr != -expectedErrno) {
            throw TestContext.perror(what, (int) -addr);
        }
        return addr;
    }

    private static void waitReadable(TestContext t, int fd) {
        if ((t.poll(fd, Poll.POLLIN, TestContext.TIMEOUT_MS) & Poll.POLLIN) == 0) {
            throw new TestFailure("poll: no data within TIMEOUT");
        }
    }

    /** 26 client: one page of data once the server has checked the setup errors. */
    static void invalidClient(TestContext t) {
        int fd = t.streamConnect();
        t.control.expectln("READY");
        byte[] page = t.randomBytes(PAGE);
        t.sendBuf(fd, page, PAGE, 0, PAGE);
        t.control.writeln("SENT");
        t.control.expectln("DONE");
        t.close(fd);
    }

    /** 26 server: every misuse gets its errno and maps nothing. */
    static void invalidServer(TestContext t) {
        try (Rfc rfc = new Rfc(t.machine)) {
            int fd = t.streamAccept();
            mmap(t, fd, MAP_PAGES * PAGE, Mman.PROT_READ | Mman.PROT_WRITE, EPERM, "mmap(PROT_WRITE)");
            mmap(t, fd, MAP_PAGES * PAGE, Mman.PROT_READ | Mman.PROT_EXEC, EPERM, "mmap(PROT_EXEC)");
            long addr = mmap(t, fd, MAP_PAGES * PAGE, Mman.PROT_READ, 0, "mmap");
            expect(mapRx(t, fd, addr, 7), EINVAL, "getsockopt(optlen 7)");
            expect(mapRx(t, fd, addr + PAGE, 8), EFAULT, "getsockopt(address inside the mapping)");
            long foreign = TestContext.checkAddr(t.proc.mmap(0, 2 * PAGE, Mman.PROT_READ,
                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0), "mmap(anonymous)");
            expect(mapRx(t, fd, foreign, 8), EINVAL, "getsockopt(address of another mapping)");
            t.control.writeln("READY");
            t.control.expectln("SENT");
            waitReadable(t, fd);
            expect(mapRx(t, fd, addr, 8), 0, "getsockopt");
            int len = t.proc.readU32(addr);
            if (len != PAGE) {
                throw new TestFailure("first header length " + len + ", expected " + PAGE);
            }
            expect(mapRx(t, fd, addr, 8), EFAULT, "getsockopt(pages still mapped)");
            TestContext.check(t.proc.madvise(addr, MAP_PAGES * PAGE, Mman.MADV_DONTNEED), "madvise");
            TestContext.check(t.proc.munmap(addr, MAP_PAGES * PAGE), "munmap");
            long small = mmap(t, fd, PAGE, Mman.PROT_READ, 0, "mmap(1 page)");
            expect(mapRx(t, fd, small, 8), EFAULT, "getsockopt(one-page mapping)");
            t.control.writeln("DONE");
            t.close(fd);
        }
    }

    /** 27 client: a random stream of random write sizes; its length first, its djb2 hash last. */
    static void transferClient(TestContext t) {
        int fd = t.streamConnect();
        byte[] data = t.randomBytes(TOTAL);
        t.control.writeulong(TOTAL);
        int sent = 0;
        while (sent < TOTAL) {
            int n = Math.min(TOTAL - sent, 1 + t.rand.nextInt(3 * PAGE));
            t.sendBuf(fd, java.util.Arrays.copyOfRange(data, sent, sent + n), n, 0, n);
            sent += n;
        }
        t.control.writeulong(TestContext.hashDjb2(data, 0, TOTAL));
        t.close(fd);
    }

    /** 27 server: receives the whole stream through the mapping only and checks the hash. */
    static void transferServer(TestContext t) {
        try (Rfc rfc = new Rfc(t.machine)) {
            int fd = t.streamAccept();
            long total = t.control.readulong();
            long addr = mmap(t, fd, MAP_PAGES * PAGE, Mman.PROT_READ, 0, "mmap");
            byte[] data = new byte[(int) total];
            int got = 0;
            while (got < total) {
                waitReadable(t, fd);
                expect(mapRx(t, fd, addr, 8), 0, "getsockopt");
                int page = 1;
                for (int h = 0; h < PAGE / 8; h++) {
                    int len = t.proc.readU32(addr + 8L * h);
                    if (len == 0) {
                        break;
                    }
                    if (got + len > total) {
                        throw new TestFailure("more data than sent: " + (got + len) + " > " + total);
                    }
                    t.proc.read(addr + (long) page * PAGE, data, got, len);
                    got += len;
                    page += (len + PAGE - 1) / PAGE;
                }
                TestContext.check(t.proc.madvise(addr, MAP_PAGES * PAGE, Mman.MADV_DONTNEED), "madvise");
            }
            long remote = t.control.readulong();
            if (TestContext.hashDjb2(data, 0, got) != remote) {
                throw new TestFailure("hash mismatch");
            }
            t.close(fd);
        }
    }
}
