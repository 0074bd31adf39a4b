package io.vsocksim.vsock;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_ERRQUEUE;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_ZEROCOPY;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_ZEROCOPY;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.UserBuffer;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockCounters.Counter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MSG_ZEROCOPY send over loopback on a deterministic machine (virtio-transport.md §3,
 * socket-layer.md §7/§10): pinning instead of copying, the completion's timing (when the receiver has
 * read the packet), coalescing, the copy fallbacks, the ENOMEM abort, the error queue and EPOLLERR.
 */
@Timeout(60)
class MsgZerocopyTest {
    private static final int PAGE = 4096;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private final LoopbackTestContext c = LoopbackTestContext.manual("zctx", leaks);
    private final SplittableRandom rnd = new SplittableRandom(18);

    @AfterEach
    void tearDown() {
        c.close();
    }

    private VsockSocket[] zcPair(int type) throws Exception {
        VsockSocket[] p = c.pair(type);
        p[0].setsockoptInt(SOL_SOCKET, SO_ZEROCOPY, 1);
        return p;
    }

    private UserBuffer userBuffer(int n) throws Exception {
        UserBuffer b = SimInternals.allocUserBuffer(c.m, n);
        for (int i = 0; i < n; i++) {
            b.buffer().put(i, (byte) rnd.nextInt());
        }
        return b;
    }

    private static byte[] bytes(UserBuffer b, int off, int n) {
        byte[] out = new byte[n];
        b.buffer().get(off, out);
        return out;
    }

    private static byte[] readAll(VsockSocket s, int n) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            assertThat(s.recv(buf, MSG_DONTWAIT)).isPositive();
        }
        return buf.array();
    }

    private static boolean pollErr(VsockSocket s) throws Exception {
        return (s.poll(0, 0) & Poll.POLLERR) != 0;
    }

    @Test
    void shouldPinUserPagesAndCompleteOnlyAfterTheReceiverReadWhenSendingWithMsgZerocopy() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(2 * PAGE + 200)) {
            long copiedBefore = c.counter(Counter.BYTES_COPIED_FROM_USER);

            assertThat(UserInternals.send(p[0], ub, 0, ub.size(), MSG_ZEROCOPY)).isEqualTo(ub.size());

            assertThat(c.counter(Counter.BYTES_COPIED_FROM_USER)).isEqualTo(copiedBefore);
            assertThat(c.counter(Counter.BYTES_PINNED_FROM_USER)).isEqualTo(ub.size());
            assertThat(ub.pageRefCount()).isEqualTo(1 + 3); // the process + one pin per page
            c.drain(); // delivered to the receiver's queue, still unread
            assertThat(ub.pageRefCount()).isEqualTo(4);
            assertThat(pollErr(p[0])).isFalse();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);

            assertThat(readAll(p[1], ub.size())).isEqualTo(bytes(ub, 0, ub.size()));

            assertThat(ub.pageRefCount()).isEqualTo(1);
            assertThat(pollErr(p[0])).isTrue();
            SockExtendedErr serr = p[0].recvErrqueue();
            assertThat(serr.eeOrigin).isEqualTo(Sock.SO_EE_ORIGIN_ZEROCOPY);
            assertThat(serr.eeErrno).isZero();
            assertThat(serr.copied()).isFalse();
            assertThat(serr.lo()).isZero();
            assertThat(serr.hi()).isZero();
            assertThat(pollErr(p[0])).isFalse();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);
        }
    }

    @Test
    void shouldMergeConsecutiveIdsIntoOneRangeWhenThePreviousCompletionIsStillQueued() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(3 * PAGE)) {
            for (int i = 0; i < 3; i++) {
                assertThat(UserInternals.send(p[0], ub, i * PAGE, PAGE, MSG_ZEROCOPY)).isEqualTo(PAGE);
            }
            c.drain();
            readAll(p[1], 3 * PAGE);
            SockExtendedErr merged = p[0].recvErrqueue();
            assertThat(merged.lo()).isZero();
            assertThat(merged.hi()).isEqualTo(2);
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);

            // Queue empty again: the next id starts a new entry.
            assertThat(UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY)).isEqualTo(PAGE);
            c.drain();
            readAll(p[1], PAGE);
            SockExtendedErr next = p[0].recvErrqueue();
            assertThat(next.lo()).isEqualTo(3);
            assertThat(next.hi()).isEqualTo(3);
        }
    }

    @Test
    void shouldMergeRegardlessOfTheCopiedBitAndKeepTheQueuedEntrysCodeWhenIdsAreConsecutive() throws Exception {
        // skb_zerocopy_notify_extend() compares only the ids, not ee_code (6.12).
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(PAGE)) {
            assertThat(UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY)).isEqualTo(PAGE);
            assertThat(p[0].send(ByteBuffer.allocate(PAGE), MSG_ZEROCOPY)).isEqualTo(PAGE); // heap: copied
            c.drain();
            readAll(p[1], 2 * PAGE);
            SockExtendedErr serr = p[0].recvErrqueue();
            assertThat(serr.lo()).isZero();
            assertThat(serr.hi()).isEqualTo(1);
            assertThat(serr.copied()).isFalse();
        }
    }

    @Test
    void shouldWrapTheU32IdAndStillMergeWhenZckeyOverflows() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        UserInternals.sock(p[0]).zckey.set(-1); // next id 0xFFFFFFFF
        try (UserBuffer ub = userBuffer(2 * PAGE)) {
            UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY);
            UserInternals.send(p[0], ub, PAGE, PAGE, MSG_ZEROCOPY);
            c.drain();
            readAll(p[1], 2 * PAGE);
            SockExtendedErr serr = p[0].recvErrqueue();
            assertThat(serr.lo()).isEqualTo(0xFFFF_FFFFL);
            assertThat(serr.hi()).isZero();
        }
    }

    @Test
    void shouldQueueANewEntryWhenThePreviousCompletionWasReadBeforeTheNextOneArrived() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(2 * PAGE)) {
            UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY); // id 0
            c.drain();
            UserInternals.send(p[0], ub, PAGE, PAGE, MSG_ZEROCOPY); // id 1, still in flight while id 0 completes
            readAll(p[1], PAGE);
            assertThat(UserInternals.sock(p[0]).zckey.get()).isEqualTo(2);
            SockExtendedErr first = p[0].recvErrqueue();
            assertThat(first.lo()).isZero();
            assertThat(first.hi()).isZero();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);
            c.drain();
            readAll(p[1], PAGE);
            assertThat(p[0].recvErrqueue().lo()).isEqualTo(1);
        }
    }

    @Test
    void shouldCopyAndReportCopiedWhenTheBufferIsOnTheJavaHeap() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        long copiedBefore = c.counter(Counter.BYTES_COPIED_FROM_USER);

        assertThat(p[0].send(ByteBuffer.allocate(PAGE), MSG_ZEROCOPY)).isEqualTo(PAGE);

        assertThat(c.counter(Counter.BYTES_COPIED_FROM_USER)).isEqualTo(copiedBefore + PAGE);
        c.drain();
        readAll(p[1], PAGE);
        SockExtendedErr serr = p[0].recvErrqueue();
        assertThat(serr.copied()).isTrue();
        assertThat(serr.lo()).isZero();
    }

    @Test
    void shouldCopyAndReportCopiedWhenTheDataIsLargerThanTheCredit() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        int window = 256 * 1024;
        try (UserBuffer ub = userBuffer(100 * PAGE)) {
            long copiedBefore = c.counter(Counter.BYTES_COPIED_FROM_USER);

            // One round of the send loop: the credit, copied; then EAGAIN for credit.
            assertThat(UserInternals.send(p[0], ub, 0, ub.size(), MSG_ZEROCOPY | MSG_DONTWAIT)).isEqualTo(window);

            assertThat(c.counter(Counter.BYTES_COPIED_FROM_USER)).isEqualTo(copiedBefore + window);
            assertThat(c.counter(Counter.BYTES_PINNED_FROM_USER)).isZero();
            assertThat(ub.pageRefCount()).isEqualTo(1);
            c.drain();
            assertThat(readAll(p[1], window)).isEqualTo(bytes(ub, 0, window));
            SockExtendedErr serr = p[0].recvErrqueue();
            assertThat(serr.copied()).isTrue();
            assertThat(serr.lo()).isZero();
            assertThat(serr.hi()).isZero();
        }
    }

    @Test
    void shouldFailWithEnomemAndWithdrawTheIdWhenAPageIsNotMapped() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(3 * PAGE)) {
            assertErrno(() -> UserInternals.send(p[0], ub, 0, 3 * PAGE, MSG_ZEROCOPY, PAGE), Errno.ENOMEM);

            assertThat(ub.pageRefCount()).isEqualTo(1);
            c.drain();
            assertThat(pollErr(p[0])).isFalse();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);
            assertThat(UserInternals.sock(p[0]).zckey.get()).isZero();
            assertThat(c.counter(Counter.BYTES_SENT)).isZero();

            assertThat(UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY)).isEqualTo(PAGE);
            c.drain();
            readAll(p[1], PAGE);
            assertThat(p[0].recvErrqueue().lo()).isZero(); // id 0 was given back
        }
    }

    @Test
    void shouldCopySilentlyWithoutCompletionWhenSoZerocopyIsOff() throws Exception {
        VsockSocket[] p = c.pair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(PAGE)) {
            assertThat(UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY)).isEqualTo(PAGE);

            assertThat(c.counter(Counter.BYTES_PINNED_FROM_USER)).isZero();
            c.drain();
            readAll(p[1], PAGE);
            assertThat(pollErr(p[0])).isFalse();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);
            assertThat(UserInternals.sock(p[0]).zckey.get()).isZero();
        }
    }

    @Test
    void shouldPinAndCompleteOnceForAWholeMessageWhenSeqpacket() throws Exception {
        VsockSocket[] p = zcPair(SOCK_SEQPACKET);
        int len = 192 * 1024; // three 64 KiB skbs in one round
        try (UserBuffer ub = userBuffer(len)) {
            assertThat(UserInternals.send(p[0], ub, 0, len, MSG_ZEROCOPY | MSG_EOR)).isEqualTo(len);

            assertThat(c.counter(Counter.BYTES_PINNED_FROM_USER)).isEqualTo(len);
            assertThat(ub.pageRefCount()).isEqualTo(1 + len / PAGE);
            c.drain();
            ByteBuffer buf = ByteBuffer.allocate(len);
            int[] flags = new int[1];
            assertThat(p[1].recvmsg(buf, MSG_DONTWAIT, flags)).isEqualTo(len);
            assertThat(flags[0] & MSG_EOR).isEqualTo(MSG_EOR);
            assertThat(buf.array()).isEqualTo(bytes(ub, 0, len));
            assertThat(ub.pageRefCount()).isEqualTo(1);
            SockExtendedErr serr = p[0].recvErrqueue();
            assertThat(serr.copied()).isFalse();
            assertThat(serr.hi()).isZero();
            assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN);
        }
    }

    @Test
    void shouldKeepFragmentOffsetsWhenTheRegionIsNotPageAligned() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(3 * PAGE)) {
            assertThat(UserInternals.send(p[0], ub, 1, PAGE + 100, MSG_ZEROCOPY)).isEqualTo(PAGE + 100);
            c.drain();
            assertThat(readAll(p[1], PAGE + 100)).isEqualTo(bytes(ub, 1, PAGE + 100));
            assertThat(p[0].recvErrqueue().copied()).isFalse();
        }
    }

    @Test
    void shouldWriteTheCmsgBytesAsPutCmsgDoesWhenReadingWithMsgErrqueue() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        try (UserBuffer ub = userBuffer(PAGE)) {
            UserInternals.send(p[0], ub, 0, PAGE, MSG_ZEROCOPY);
            c.drain();
            readAll(p[1], PAGE);
            ByteBuffer control = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
            int[] flags = new int[1];

            assertThat(p[0].recvmsg(ByteBuffer.allocate(16), control, MSG_ERRQUEUE, flags)).isZero();

            assertThat(flags[0] & MSG_ERRQUEUE).isEqualTo(MSG_ERRQUEUE);
            assertThat(control.position()).isEqualTo(32);
            assertThat(control.getLong(0)).isEqualTo(32); // cmsg_len = CMSG_LEN(16)
            assertThat(control.getInt(8)).isEqualTo(VmSockets.SOL_VSOCK);
            assertThat(control.getInt(12)).isEqualTo(VmSockets.VSOCK_RECVERR);
            assertThat(control.getInt(16)).isZero(); // ee_errno
            assertThat(control.get(20)).isEqualTo((byte) Sock.SO_EE_ORIGIN_ZEROCOPY);
            assertThat(control.get(22)).isZero(); // ee_code: not copied
            assertThat(control.getInt(24)).isZero(); // ee_info = lo
            assertThat(control.getInt(28)).isZero(); // ee_data = hi
        }
    }

    @Test
    void shouldSetCtruncWhenTheControlBufferIsTooSmall() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        p[0].send(ByteBuffer.allocate(8), MSG_ZEROCOPY);
        c.drain();
        readAll(p[1], 8);
        int[] flags = new int[1];

        assertThat(p[0].recvmsg(ByteBuffer.allocate(0), ByteBuffer.allocate(8), MSG_ERRQUEUE, flags)).isZero();

        assertThat(flags[0] & Sock.MSG_CTRUNC).isEqualTo(Sock.MSG_CTRUNC);
        assertErrno(() -> p[0].recvErrqueue(), Errno.EAGAIN); // the completion was consumed anyway
    }

    @Test
    void shouldReleasePinnedPagesAndDropTheCompletionWhenTheSenderClosesFirst() throws Exception {
        VsockSocket[] p = zcPair(SOCK_STREAM);
        UserBuffer ub = userBuffer(2 * PAGE);
        assertThat(UserInternals.send(p[0], ub, 0, 2 * PAGE, MSG_ZEROCOPY)).isEqualTo(2 * PAGE);
        ub.close(); // munmap while pinned: the packet keeps the pages
        assertThat(ub.pageRefCount()).isEqualTo(2);
        p[0].close();
        c.drain();
        assertThat(readAll(p[1], 2 * PAGE)).hasSize(2 * PAGE);
        // The pages went back with the last packet; LeakCheck verifies nothing else is left.
    }
}
