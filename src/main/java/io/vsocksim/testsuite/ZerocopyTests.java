package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Sock.MSG_ERRQUEUE;
import static io.vsocksim.uapi.Sock.MSG_ZEROCOPY;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_EE_CODE_ZEROCOPY_COPIED;
import static io.vsocksim.uapi.Sock.SO_EE_ORIGIN_ZEROCOPY;
import static io.vsocksim.uapi.Sock.SO_ZEROCOPY;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.uapi.SockExtendedErr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * vsock_test 18 and 19 ({@code vsock_test_zerocopy.c}): seven MSG_ZEROCOPY sends, each on a new
 * connection, with the completion read from the error queue ({@code msg_zerocopy_common.c}) and the
 * data checked by djb2 on the server.
 *
 * <p>SIM: {@code sendmsg} takes one iterator, so the iovecs of a case are laid out back to back in
 * one anonymous mapping of the client process (in its machine's memory: a guest's RAM over virtio),
 * sent with one {@code send}: the unmapped iovec of case 5 becomes a hole from its page to the end of
 * the mapping (everything from it on faults — the outcome, ENOMEM and no completion, is the same),
 * and case 4's 100-byte iovec "at offset 1" becomes a region whose third iovec starts 100 bytes into
 * a page, so the send still has unaligned fragments.
 */
@Linux(file = "tools/testing/vsock/vsock_test_zerocopy.c", fn = "test_data_array")
final class ZerocopyTests {
    static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;
    /** {@code POLL_TIMEOUT_MS}. */
    static final int POLL_TIMEOUT_MS = 100;

    /**
     * One row of {@code test_data_array}.
     *
     * @param unmapped index of the unmapped iovec, or -1
     */
    record Case(boolean streamOnly, boolean zerocopied, boolean soZerocopy, int sendmsgErrno, int unmapped, int... vecs) {
        int total() {
            int n = 0;
            for (int v : vecs) {
                n += v;
            }
            return n;
        }

        int mappedBytes() {
            if (unmapped < 0) {
                return total();
            }
            int n = 0;
            for (int i = 0; i < unmapped; i++) {
                n += vecs[i];
            }
            return n;
        }
    }

    static final List<Case> CASES = List.of(
        // Last element has non-page aligned size.
        new Case(false, true, true, 0, -1, PAGE_SIZE, PAGE_SIZE, 200),
        // All elements have page aligned base and size.
        new Case(false, true, true, 0, -1, PAGE_SIZE, PAGE_SIZE * 2, PAGE_SIZE * 3),
        // Page aligned, but more than 64 KiB.
        new Case(false, true, true, 0, -1, PAGE_SIZE * 16, PAGE_SIZE * 16, PAGE_SIZE * 16),
        // Middle element has both non-page aligned base and size.
        new Case(false, true, true, 0, -1, PAGE_SIZE, 100, PAGE_SIZE),
        // Middle element is unmapped.
        new Case(false, false, true, Errno.ENOMEM, 1, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE),
        // Valid data, but SO_ZEROCOPY is off: a plain copy, no completion required.
        new Case(false, false, false, 0, -1, PAGE_SIZE),
        // Bigger than the peer's buffer: copied (SEQPACKET would give EMSGSIZE).
        new Case(true, false, true, 0, -1, 100 * PAGE_SIZE));

    private ZerocopyTests() {
    }

    /** 18 / 19 client: every case (stream-only ones skipped for SEQPACKET). */
    static void client(TestContext t, boolean seqpacket) {
        for (Case c : CASES) {
            if (seqpacket && c.streamOnly()) {
                continue;
            }
            testClient(t, c, seqpacket);
        }
    }

    /** 18 / 19 server. */
    static void server(TestContext t, boolean seqpacket) {
        for (Case c : CASES) {
            if (seqpacket && c.streamOnly()) {
                continue;
            }
            testServer(t, c, seqpacket);
        }
    }

    @Linux(file = "tools/testing/vsock/vsock_test_zerocopy.c", fn = "test_client")
    private static void testClient(TestContext t, Case c, boolean seqpacket) {
        int fd = seqpacket ? t.seqpacketConnect() : t.streamConnect();
        if (c.soZerocopy()) {
            t.setsockoptIntCheck(fd, SOL_SOCKET, SO_ZEROCOPY, 1, "setsockopt SO_ZEROCOPY");
        }
        int total = c.total();
        long iov = TestContext.checkAddr(t.proc.mmap(0, total, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE, -1, 0), "mmap");
        int mapped = c.mappedBytes();
        byte[] data = t.randomBytes(mapped);
        t.proc.write(iov, data, 0, mapped);
        if (c.unmapped() >= 0) {
            // The unmapped iovec: a hole from its first page on (the rest of the region goes with it).
            long hole = iov + ((mapped + PAGE_SIZE - 1) & -PAGE_SIZE);
            TestContext.check(t.proc.munmap(hole, total - (hole - iov)), "munmap");
        }
        long res = t.proc.send(fd, iov, total, MSG_ZEROCOPY);
        int errno = res < 0 ? (int) -res : 0;
        if (errno != c.sendmsgErrno()) {
            throw new TestFailure("expected 'errno' == " + c.sendmsgErrno() + ", got " + errno);
        }
        if (errno == 0 && res != total) {
            throw new TestFailure("expected 'sendmsg()' == " + total + ", got " + res);
        }
        int revents = t.poll(fd, 0, POLL_TIMEOUT_MS);
        if ((revents & Poll.POLLERR) != 0) {
            recvCompletion(t, fd, c.zerocopied());
        } else if (c.soZerocopy() && c.sendmsgErrno() == 0) {
            throw new TestFailure("POLLERR expected");
        }
        t.control.writeulong(c.sendmsgErrno() == 0 ? TestContext.hashDjb2(data, 0, total) : 0);
        t.control.writeln("DONE");
        t.proc.munmap(iov, total);
        t.close(fd);
    }

    /** msg_zerocopy_common.c:vsock_recv_completion, through the raw cmsg bytes. */
    @Linux(file = "tools/testing/vsock/msg_zerocopy_common.c", fn = "vsock_recv_completion")
    static void recvCompletion(TestContext t, int fd, boolean zerocopied) {
        ByteBuffer cmsg = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        UserMsghdr msg = UserMsghdr.of();
        msg.control = cmsg;
        msg.controllen = cmsg.capacity();
        long res = t.proc.recvmsg(fd, msg, MSG_ERRQUEUE);
        if (res < 0) {
            throw new TestFailure("failed to read error queue: -1 (" + Errno.name((int) -res) + ")");
        }
        if (res != 0) {
            throw new TestFailure("failed to read error queue: " + res);
        }
        if (msg.controllen < SockExtendedErr.CMSGHDR_SIZE) {
            throw new TestFailure("cmsg: no cmsg");
        }
        if (cmsg.getInt(8) != VmSockets.SOL_VSOCK) {
            throw new TestFailure("cmsg: unexpected 'cmsg_level'");
        }
        if (cmsg.getInt(12) != VmSockets.VSOCK_RECVERR) {
            throw new TestFailure("cmsg: unexpected 'cmsg_type'");
        }
        SockExtendedErr serr = SockExtendedErr.read(cmsg, SockExtendedErr.CMSGHDR_SIZE);
        if (serr.eeOrigin != SO_EE_ORIGIN_ZEROCOPY) {
            throw new TestFailure("serr: wrong origin: " + serr.eeOrigin);
        }
        if (serr.eeErrno != 0) {
            throw new TestFailure("serr: wrong error code: " + serr.eeErrno);
        }
        if (zerocopied && (serr.eeCode & SO_EE_CODE_ZEROCOPY_COPIED) != 0) {
            throw new TestFailure("serr: was copy instead of zerocopy");
        }
        if (!zerocopied && (serr.eeCode & SO_EE_CODE_ZEROCOPY_COPIED) == 0) {
            throw new TestFailure("serr: was zerocopy instead of copy");
        }
    }

    @Linux(file = "tools/testing/vsock/vsock_test_zerocopy.c", fn = "test_server")
    private static void testServer(TestContext t, Case c, boolean seqpacket) {
        int fd = seqpacket ? t.seqpacketAccept() : t.streamAccept();
        int dataLen = c.total();
        byte[] data = new byte[dataLen];
        int total = 0;
        while (total != dataLen) {
            long n = t.proc.recv(fd, ByteBuffer.wrap(data, total, dataLen - total), 0);
            if (n <= 0) {
                break;
            }
            total += (int) n;
        }
        long localHash = c.sendmsgErrno() == 0 ? TestContext.hashDjb2(data, 0, dataLen) : 0;
        long remoteHash = t.control.readulong();
        if (remoteHash != localHash) {
            throw new TestFailure("hash mismatch");
        }
        t.control.expectln("DONE");
        t.close(fd);
    }
}
