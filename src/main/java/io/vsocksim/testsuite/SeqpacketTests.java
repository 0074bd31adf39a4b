package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EMSGSIZE;
import static io.vsocksim.uapi.Sock.MSG_EOR;
import static io.vsocksim.uapi.Sock.MSG_TRUNC;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_MAX_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.UserMsghdr;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** The SOCK_SEQPACKET tests of vsock_test.c. */
final class SeqpacketTests {
    static final int SOCK_BUF_SIZE = 2 * 1024 * 1024;
    static final int MAX_MSG_PAGES = 4;
    static final int MESSAGE_TRUNC_SZ = 32;
    static final int RCVTIMEO_TIMEOUT_SEC = 1;
    static final long READ_OVERHEAD_NSEC = 250_000_000L;
    static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;

    private SeqpacketTests() {
    }

    /** 6 - SOCK_SEQPACKET msg bounds, client. */
    static void msgBoundsClient(TestContext t) {
        int fd = t.seqpacketConnect();
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_MAX_SIZE)");
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE)");
        t.control.expectln("SRVREADY");
        long currHash = 0;
        int maxMsgSize = MAX_MSG_PAGES * PAGE_SIZE;
        int msgCount = SOCK_BUF_SIZE / maxMsgSize;
        for (int i = 0; i < msgCount; i++) {
            int bufSize = (i & 1) != 0 ? PAGE_SIZE + t.rand.nextInt(maxMsgSize - PAGE_SIZE) : 1 + t.rand.nextInt(PAGE_SIZE);
            byte[] buf = new byte[bufSize];
            Arrays.fill(buf, (byte) t.rand.nextInt(256));
            int flags = 0;
            if (i == msgCount / 2 || t.rand.nextBoolean()) {
                flags = MSG_EOR;
                currHash++;
            }
            t.sendBuf(fd, buf, bufSize, flags, bufSize);
            currHash += TestContext.hashDjb2(buf, 0, bufSize);
        }
        t.control.writeln("SENDDONE");
        t.control.writeulong(currHash);
        t.close(fd);
    }

    /** 6 - SOCK_SEQPACKET msg bounds, server. */
    static void msgBoundsServer(TestContext t) {
        int fd = t.seqpacketAccept();
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_MAX_SIZE)");
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE)");
        t.control.writeln("SRVREADY");
        t.control.expectln("SENDDONE");
        byte[] iov = new byte[MAX_MSG_PAGES * PAGE_SIZE];
        long currHash = 0;
        for (;;) {
            UserMsghdr msg = UserMsghdr.of(ByteBuffer.wrap(iov));
            int recvSize = TestContext.check(t.proc.recvmsg(fd, msg, 0), "recvmsg");
            if (recvSize == 0) {
                break;
            }
            if ((msg.flags & MSG_EOR) != 0) {
                currHash++;
            }
            currHash += TestContext.hashDjb2(iov, 0, recvSize);
        }
        t.close(fd);
        long remoteHash = t.control.readulong();
        if (currHash != remoteHash) {
            throw new TestFailure("Message bounds broken");
        }
    }

    /** 7 - SOCK_SEQPACKET MSG_TRUNC flag, client. */
    static void msgTruncClient(TestContext t) {
        int fd = t.seqpacketConnect();
        byte[] buf = new byte[MESSAGE_TRUNC_SZ];
        t.sendBuf(fd, buf, buf.length, 0, buf.length);
        t.control.writeln("SENDDONE");
        t.close(fd);
    }

    /** 7 - SOCK_SEQPACKET MSG_TRUNC flag, server. */
    static void msgTruncServer(TestContext t) {
        int fd = t.seqpacketAccept();
        t.control.expectln("SENDDONE");
        UserMsghdr msg = UserMsghdr.of(ByteBuffer.allocate(MESSAGE_TRUNC_SZ / 2));
        long ret = t.proc.recvmsg(fd, msg, MSG_TRUNC);
        if (ret != MESSAGE_TRUNC_SZ) {
            throw new TestFailure(ret + "\nMSG_TRUNC doesn't work");
        }
        if ((msg.flags & MSG_TRUNC) == 0) {
            throw new TestFailure("MSG_TRUNC expected");
        }
        t.close(fd);
    }

    /** 8 - SOCK_SEQPACKET timeout, client: a 1 s SO_RCVTIMEO must give EAGAIN within 1.25 s. */
    static void timeoutClient(TestContext t) {
        int fd = t.seqpacketConnect();
        t.setsockoptTimevalCheck(fd, SOL_SOCKET, SO_RCVTIMEO, RCVTIMEO_TIMEOUT_SEC, 0, "setsockopt(SO_RCVTIMEO)");
        long enter = t.nanoTime();
        long res = t.proc.recv(fd, ByteBuffer.allocate(1), 0);
        if (res >= 0) {
            throw new TestFailure("expected 'dummy' read(2) failure");
        }
        if (res != -EAGAIN) {
            throw TestContext.perror("EAGAIN expected", (int) -res);
        }
        long overhead = t.nanoTime() - enter - 1_000_000_000L * RCVTIMEO_TIMEOUT_SEC;
        if (overhead > READ_OVERHEAD_NSEC) {
            throw new TestFailure("too much time in read(2), " + overhead + " > " + READ_OVERHEAD_NSEC + " ns");
        }
        t.control.writeln("WAITDONE");
        t.close(fd);
    }

    /** 9 - SOCK_SEQPACKET invalid receive buffer, client. */
    static void invalidRecBufferClient(TestContext t) {
        int fd = t.seqpacketConnect();
        int bufSize = PAGE_SIZE * 3;
        byte[] buf1 = new byte[bufSize];
        byte[] buf2 = new byte[bufSize];
        Arrays.fill(buf1, (byte) 'a');
        Arrays.fill(buf2, (byte) 'b');
        t.sendBuf(fd, buf1, bufSize, 0, bufSize);
        t.sendBuf(fd, buf2, bufSize, 0, bufSize);
        t.close(fd);
    }

    /** 9 - SOCK_SEQPACKET invalid receive buffer, server: the middle page of the first buffer is unmapped. */
    @Linux(file = "tools/testing/vsock/vsock_test.c", fn = "test_seqpacket_invalid_rec_buffer_server")
    static void invalidRecBufferServer(TestContext t) {
        int fd = t.seqpacketAccept();
        int bufSize = PAGE_SIZE * 3;
        int prot = Mman.PROT_READ | Mman.PROT_WRITE;
        int flags = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
        long brokenBuf = TestContext.checkAddr(t.proc.mmap(0, bufSize, prot, flags, -1, 0), "mmap for 'broken_buf'");
        TestContext.check(t.proc.munmap(brokenBuf + PAGE_SIZE, PAGE_SIZE), "'broken_buf' setup");
        long validBuf = TestContext.checkAddr(t.proc.mmap(0, bufSize, prot, flags, -1, 0), "mmap for 'valid_buf'");
        long res = t.proc.recv(fd, brokenBuf, bufSize, 0);
        if (res >= 0) {
            throw new TestFailure("expected 'broken_buf' read(2) failure, got " + res);
        }
        if (res != -EFAULT) {
            throw TestContext.perror("unexpected errno of 'broken_buf'", (int) -res);
        }
        res = t.proc.recv(fd, validBuf, bufSize, 0);
        if (res < 0) {
            throw TestContext.perror("unexpected 'valid_buf' read(2) failure", (int) -res);
        }
        if (res != bufSize) {
            throw new TestFailure("invalid 'valid_buf' read(2), expected " + bufSize + ", got " + res);
        }
        byte[] valid = new byte[bufSize];
        t.proc.read(validBuf, valid, 0, bufSize);
        for (int i = 0; i < bufSize; i++) {
            if (valid[i] != 'b') {
                throw new TestFailure("invalid pattern for 'valid_buf' at " + i + ", expected 62, got "
                        + Integer.toHexString(valid[i] & 0xFF));
            }
        }
        t.proc.munmap(brokenBuf, PAGE_SIZE);
        t.proc.munmap(brokenBuf + 2 * PAGE_SIZE, PAGE_SIZE);
        t.proc.munmap(validBuf, bufSize);
        t.close(fd);
    }

    /** 11 - SOCK_SEQPACKET big message, client. */
    static void bigmsgClient(TestContext t) {
        int fd = t.seqpacketConnect();
        long sockBufSize = t.getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, 8, "getsockopt");
        sockBufSize++;
        if (sockBufSize > Integer.MAX_VALUE) {
            throw new TestFailure("Returned BUFFER_SIZE too large");
        }
        byte[] data = new byte[(int) sockBufSize];
        t.sendBuf(fd, data, data.length, 0, -EMSGSIZE);
        t.control.writeln("CLISENT");
        t.close(fd);
    }
}
