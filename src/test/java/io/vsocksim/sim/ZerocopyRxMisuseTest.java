package io.vsocksim.sim;

import static io.vsocksim.sim.ZerocopyRxSupport.PAGE;
import static io.vsocksim.sim.ZerocopyRxSupport.mapRx;
import static io.vsocksim.sim.ZerocopyRxSupport.pattern;
import static io.vsocksim.sim.ZerocopyRxSupport.readMapping;
import static io.vsocksim.sim.ZerocopyRxSupport.sendAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Mman;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.SegmentationFault;
import io.vsocksim.mm.VmArea;
import io.vsocksim.sim.ZerocopyRxSupport.Pkt;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockTransport;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.virtio.VirtioTransport;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Zerocopy receive misuse and errno rules, on loopback with poison-on-free. */
@Timeout(60)
class ZerocopyRxMisuseTest {
    static final int PORT = 7100;
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    Machine m;
    UserProcess p;
    VsockSocket listener;
    VsockSocket tx;
    VsockSocket rx;

    @BeforeEach
    void setUp() throws Exception {
        m = TestMachine.threaded("zc", leaks);
        m.setZerocopyPolicy(ZerocopyPolicy.PAGES);
        p = UserProcess.spawn(m, "rx");
    }

    void connect(int type) throws Exception {
        listener = p.socket(type);
        listener.bind(VmSockets.VMADDR_CID_ANY, PORT);
        listener.listen(4);
        tx = VsockSocket.open(m, type);
        tx.connect(VmSockets.VMADDR_CID_LOCAL, PORT);
        rx = listener.accept();
    }

    @AfterEach
    void tearDown() {
        for (VsockSocket s : new VsockSocket[] {tx, rx, listener}) {
            if (s != null) {
                s.close();
            }
        }
        p.close();
        TestMachine.settle(m);
        m.close();
    }

    void await(int bytes) {
        for (int i = 0; i < 20000 && VirtioTransport.vvs(UserInternals.sock(rx)).rxBytes < bytes; i++) {
            TestMachine.drain(m);
            Thread.yield();
        }
        assertThat(VirtioTransport.vvs(UserInternals.sock(rx)).rxBytes).isEqualTo(bytes);
    }

    static int errno(ThrowingCall c) {
        try {
            c.run();
        } catch (ErrnoException e) {
            return e.errno();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no error");
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void shouldFailWithEfaultAndMapNothingWhenPreviousPagesNotReleased() throws Exception {
        connect(Sock.SOCK_STREAM);
        sendAll(tx, pattern(100, 1), 0);
        await(100);
        long addr = rx.mmap(4L * PAGE, Mman.PROT_READ);
        mapRx(rx, addr, 8);
        sendAll(tx, pattern(200, 2), 0);
        await(200);

        assertThat(errno(() -> mapRx(rx, addr, 8))).isEqualTo(Errno.EFAULT);
        assertThat(UserInternals.mm(p).mappedPages()).isEqualTo(2);
        assertThat(VirtioTransport.vvs(UserInternals.sock(rx)).rxBytes).isEqualTo(200);
        // Releasing only the data page is not enough: the header page is still mapped.
        assertThat(p.madvise(addr + PAGE, PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThat(errno(() -> mapRx(rx, addr, 8))).isEqualTo(Errno.EFAULT);
        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThat(readAndRelease(addr, 4)).extracting(Pkt::length).containsExactly(200);
    }

    List<Pkt> readAndRelease(long addr, int npages) throws Exception {
        return ZerocopyRxSupport.takeOnce(p, rx, addr, npages);
    }

    @Test
    void shouldFreePagesOnceWhenReleasedTwice() throws Exception {
        connect(Sock.SOCK_STREAM);
        sendAll(tx, pattern(3 * PAGE, 1), 0);
        await(3 * PAGE);
        long addr = rx.mmap(8L * PAGE, Mman.PROT_READ);
        long before = m.kernel().pages().pagesInUse();
        mapRx(rx, addr, 8);
        assertThat(p.madvise(addr, 8L * PAGE, Mman.MADV_DONTNEED)).isZero();
        long after = m.kernel().pages().pagesInUse();

        assertThat(p.madvise(addr, 8L * PAGE, Mman.MADV_DONTNEED)).isZero();

        assertThat(m.kernel().pages().pagesInUse()).isEqualTo(after);
        assertThat(after).isLessThan(before);
    }

    @Test
    void shouldFailWithEnomemWhenReleasingRangeNotMapped() throws Exception {
        connect(Sock.SOCK_STREAM);
        long addr = rx.mmap(2L * PAGE, Mman.PROT_READ);

        assertThat(-p.madvise(addr + 2L * PAGE, PAGE, Mman.MADV_DONTNEED)).isEqualTo(Errno.ENOMEM);
        assertThat(-p.madvise(addr + 1, PAGE, Mman.MADV_DONTNEED)).isEqualTo(Errno.EINVAL);
    }

    @Test
    void shouldSucceedAndKeepPagesWhenMadviseReadAheadHintOnSocketMapping() throws Exception {
        connect(Sock.SOCK_STREAM);
        sendAll(tx, pattern(100, 1), 0);
        await(100);
        long addr = rx.mmap(4L * PAGE, Mman.PROT_READ);
        mapRx(rx, addr, 8);
        long mapped = UserInternals.mm(p).mappedPages();
        assertThat(mapped).as("header page + data page").isEqualTo(2);
        int first = p.readByte(addr + PAGE);

        for (int advice : new int[] {Mman.MADV_NORMAL, Mman.MADV_RANDOM, Mman.MADV_SEQUENTIAL, Mman.MADV_WILLNEED}) {
            assertThat(p.madvise(addr, 4L * PAGE, advice)).isZero();
            assertThat(p.madvise(addr + PAGE, PAGE, advice)).isZero();
            assertThat(-p.madvise(addr, 5L * PAGE, advice)).as("advice %d past the area", advice)
                    .isEqualTo(Errno.ENOMEM);
        }

        assertThat(UserInternals.mm(p).mappedPages()).isEqualTo(mapped);
        assertThat(UserInternals.mm(p).mapCount()).isEqualTo(1);
        assertThat(p.readByte(addr + PAGE)).isEqualTo(first);
        assertThat(-p.madvise(addr, 4L * PAGE, 5)).isEqualTo(Errno.EINVAL);
        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();
    }

    @Test
    void shouldFailWithEinvalWhenMappingBelongsToAnotherSocket() throws Exception {
        connect(Sock.SOCK_STREAM);
        VsockSocket other = p.socket(Sock.SOCK_STREAM);
        try {
            long foreign = other.mmap(4L * PAGE, Mman.PROT_READ);
            assertThat(errno(() -> mapRx(rx, foreign, 8))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> mapRx(rx, 0x1000_0000L, 8))).isEqualTo(Errno.EINVAL);
        } finally {
            other.close();
        }
    }

    @Test
    void shouldApplyRfcErrnoRulesWhenArgumentsAreBad() throws Exception {
        connect(Sock.SOCK_STREAM);
        assertThat(errno(() -> rx.mmap(PAGE, Mman.PROT_READ | Mman.PROT_WRITE))).isEqualTo(Errno.EPERM);
        assertThat(errno(() -> rx.mmap(PAGE, Mman.PROT_READ | Mman.PROT_EXEC))).isEqualTo(Errno.EPERM);
        assertThat(errno(() -> rx.mmap(0, Mman.PROT_READ))).isEqualTo(Errno.EINVAL);
        long small = rx.mmap(PAGE, Mman.PROT_READ);
        assertThat(errno(() -> rx.mmap(4L * PAGE, Mman.PROT_READ))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> mapRx(rx, small, 8))).isEqualTo(Errno.EFAULT);
        assertThat(p.munmap(small, PAGE)).isZero();
        long addr = rx.mmap(4L * PAGE, Mman.PROT_READ);

        assertThat(errno(() -> mapRx(rx, addr, 7))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> mapRx(rx, addr + PAGE, 8))).isEqualTo(Errno.EFAULT);
        assertThat(UserInternals.mm(p).mappedPages()).isZero();
        assertThat(mapRx(rx, addr, 8)).isEqualTo(8);
        assertThat(readMapping(p, addr)).isEmpty();
        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();
    }

    @Test
    void shouldFailWithEopnotsuppWhenNoTransportOrNoHook() throws Exception {
        VsockSocket s = p.socket(Sock.SOCK_STREAM);
        try {
            long addr = s.mmap(2L * PAGE, Mman.PROT_READ);
            assertThat(errno(() -> mapRx(s, addr, 8))).isEqualTo(Errno.EOPNOTSUPP);
            VsockTransport noHook = (VsockTransport) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {VsockTransport.class}, (proxy, method, args) -> method.isDefault()
                            ? java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args) : null);
            UserInternals.sock(s).transport = noHook;
            assertThat(errno(() -> mapRx(s, addr, 8))).isEqualTo(Errno.EOPNOTSUPP);
            UserInternals.sock(s).transport = null;
        } finally {
            s.close();
        }
    }

    @Test
    void shouldFailWithEnotconnWhenConnectWasRefused() throws Exception {
        VsockSocket s = p.socket(Sock.SOCK_STREAM);
        try {
            assertThat(errno(() -> s.connect(VmSockets.VMADDR_CID_LOCAL, PORT + 1))).isEqualTo(Errno.ECONNRESET);
            long addr = s.mmap(2L * PAGE, Mman.PROT_READ);
            assertThat(UserInternals.sock(s).transport).isNotNull();
            assertThat(errno(() -> mapRx(s, addr, 8))).isEqualTo(Errno.ENOTCONN);
        } finally {
            s.close();
        }
    }

    @Test
    void shouldBehaveAsUpstreamWhenPolicyOff() throws Exception {
        m.setZerocopyPolicy(ZerocopyPolicy.OFF);
        connect(Sock.SOCK_STREAM);
        assertThat(errno(() -> rx.mmap(4L * PAGE, Mman.PROT_READ))).isEqualTo(Errno.ENODEV);
        assertThat(errno(() -> mapRx(rx, 0x7000_0000L, 8))).isEqualTo(Errno.ENOPROTOOPT);
    }

    @Test
    void shouldKeepPagesUntilReleasedWhenSocketClosedWhileMapped() throws Exception {
        connect(Sock.SOCK_STREAM);
        byte[] data = pattern(2 * PAGE + 10, 7);
        sendAll(tx, data, 0);
        await(data.length);
        long addr = rx.mmap(4L * PAGE, Mman.PROT_READ);
        mapRx(rx, addr, 8);
        long inUse = m.kernel().pages().pagesInUse();

        rx.close();
        tx.close();
        listener.close();
        TestMachine.settle(m);

        assertThat(m.liveSockets()).isZero();
        // No page is freed while the process can still read it.
        assertThat(readMapping(p, addr)).extracting(Pkt::data).singleElement().isEqualTo(data);
        assertThat(UserInternals.mm(p).mappedPages()).isEqualTo(4);
        long released = m.kernel().pages().pagesInUse();
        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();
        assertThat(m.kernel().pages().pagesInUse()).isEqualTo(released - 4);
        assertThat(inUse).isGreaterThanOrEqualTo(released);
    }

    @Test
    void shouldFaultAndShowOnlyPoisonWhenReaderTouchesReleasedSlot() throws Exception {
        connect(Sock.SOCK_STREAM);
        sendAll(tx, pattern(PAGE, 3), 0);
        await(PAGE);
        long addr = rx.mmap(4L * PAGE, Mman.PROT_READ);
        mapRx(rx, addr, 8);
        VmArea vma = UserInternals.mm(p).findVma(addr);
        ByteBuffer stale = vma.read(1); // a reader that kept a pointer into the slot
        long pfn = PageAllocator.pfn(vma.handleAt(1));

        assertThat(p.madvise(addr, 4L * PAGE, Mman.MADV_DONTNEED)).isZero();

        assertThatThrownBy(() -> p.readByte(addr + PAGE)).isInstanceOf(SegmentationFault.class)
                .hasMessageContaining("unmapped");
        assertThat(m.kernel().pages().isPoisoned(pfn)).isTrue();
        byte[] seen = new byte[PAGE];
        stale.get(0, seen);
        byte[] poison = new byte[PAGE];
        Arrays.fill(poison, PageAllocator.PAGE_POISON);
        assertThat(seen).isEqualTo(poison);
    }

    @Test
    void shouldMapEndOfStreamWhenPeerShutDown() throws Exception {
        connect(Sock.SOCK_STREAM);
        long addr = rx.mmap(2L * PAGE, Mman.PROT_READ);
        tx.close();
        for (int i = 0; i < 20000 && (UserInternals.sock(rx).peerShutdown & Sock.SEND_SHUTDOWN) == 0; i++) {
            TestMachine.drain(m);
            Thread.yield();
        }
        assertThat(mapRx(rx, addr, 8)).isEqualTo(8);
        assertThat(p.readU32(addr)).isZero();
        assertThat(p.madvise(addr, 2L * PAGE, Mman.MADV_DONTNEED)).isZero();
    }

    @Test
    void shouldCopyRemainingBytesWhenStreamPacketPartlyRead() throws Exception {
        connect(Sock.SOCK_STREAM);
        byte[] data = pattern(3 * PAGE, 5);
        sendAll(tx, data, 0);
        await(data.length);
        ByteBuffer head = ByteBuffer.allocate(100);
        assertThat(rx.recv(head, 0)).isEqualTo(100);
        long addr = rx.mmap(8L * PAGE, Mman.PROT_READ);

        List<Pkt> pk = readAndRelease(addr, 8);

        assertThat(pk).extracting(Pkt::length).containsExactly(3 * PAGE - 100);
        assertThat(pk.get(0).data()).isEqualTo(Arrays.copyOfRange(data, 100, 3 * PAGE));
        assertThat(VirtioTransport.vvs(UserInternals.sock(rx)).rxBytes).isZero();
    }

    @Test
    void shouldDeliverRestWithRecvWhenSeqpacketMessagePartlyMapped() throws Exception {
        connect(Sock.SOCK_SEQPACKET);
        byte[] msg = pattern(5 * PAGE + 7, 6);
        sendAll(tx, msg, Sock.MSG_EOR);
        await(msg.length);
        long addr = rx.mmap(3L * PAGE, Mman.PROT_READ);
        List<Pkt> first = readAndRelease(addr, 3);
        assertThat(first).extracting(Pkt::length).containsExactly(2 * PAGE);
        assertThat(first.get(0).flags() & VirtioVsock.VIRTIO_VSOCK_SEQ_EOM).isZero();

        ByteBuffer rest = ByteBuffer.allocate(8 * PAGE);
        int[] flags = new int[1];
        int n = rx.recvmsg(rest, 0, flags);

        assertThat(n).isEqualTo(3 * PAGE + 7);
        assertThat(flags[0] & Sock.MSG_EOR).isNotZero();
        byte[] all = new byte[msg.length];
        System.arraycopy(first.get(0).data(), 0, all, 0, 2 * PAGE);
        rest.flip();
        rest.get(all, 2 * PAGE, n);
        assertThat(all).isEqualTo(msg);
        assertThat(VirtioTransport.vvs(UserInternals.sock(rx)).rxBytes).isZero();
        assertThat(VirtioTransport.vvs(UserInternals.sock(rx)).msgCount).isZero();
    }
}
