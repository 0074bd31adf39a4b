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
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.VsockSocket;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** The SOCK_SEQPACKET tests of vsock_test.c. */
@Linux(file = "tools/testing/vsock/vsock_test.c", fn = "test_cases")
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
        VsockSocket fd = t.seqpacketConnect();
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
        fd.close();
    }

    /** 6 - SOCK_SEQPACKET msg bounds, server. */
    static void msgBoundsServer(TestContext t) {
        VsockSocket fd = t.seqpacketAccept();
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_MAX_SIZE)");
        t.setsockoptUllCheck(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, SOCK_BUF_SIZE, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE)");
        t.control.writeln("SRVREADY");
        t.control.expectln("SENDDONE");
        byte[] iov = new byte[MAX_MSG_PAGES * PAGE_SIZE];
        int[] msgFlags = new int[1];
        long currHash = 0;
        for (;;) {
            int recvSize;
            try {
                recvSize = fd.recvmsg(ByteBuffer.wrap(iov), 0, msgFlags);
            } catch (ErrnoException e) {
                throw TestContext.perror("recvmsg", e);
            }
            if (recvSize == 0) {
                break;
            }
            if ((msgFlags[0] & MSG_EOR) != 0) {
                currHash++;
            }
            currHash += TestContext.hashDjb2(iov, 0, recvSize);
        }
        fd.close();
        long remoteHash = t.control.readulong();
        if (currHash != remoteHash) {
            throw new TestFailure("Message bounds broken");
        }
    }

    /** 7 - SOCK_SEQPACKET MSG_TRUNC flag, client. */
    static void msgTruncClient(TestContext t) {
        VsockSocket fd = t.seqpacketConnect();
        byte[] buf = new byte[MESSAGE_TRUNC_SZ];
        t.sendBuf(fd, buf, buf.length, 0, buf.length);
        t.control.writeln("SENDDONE");
        fd.close();
    }

    /** 7 - SOCK_SEQPACKET MSG_TRUNC flag, server. */
    static void msgTruncServer(TestContext t) {
        VsockSocket fd = t.seqpacketAccept();
        t.control.expectln("SENDDONE");
        int[] msgFlags = new int[1];
        int ret;
        try {
            ret = fd.recvmsg(ByteBuffer.allocate(MESSAGE_TRUNC_SZ / 2), MSG_TRUNC, msgFlags);
        } catch (ErrnoException e) {
            throw TestContext.perror("MSG_TRUNC doesn't work", e);
        }
        if (ret != MESSAGE_TRUNC_SZ) {
            throw new TestFailure(ret + "\nMSG_TRUNC doesn't work");
        }
        if ((msgFlags[0] & MSG_TRUNC) == 0) {
            throw new TestFailure("MSG_TRUNC expected");
        }
        fd.close();
    }

    /** 8 - SOCK_SEQPACKET timeout, client: a 1 s SO_RCVTIMEO must give EAGAIN within 1.25 s. */
    static void timeoutClient(TestContext t) {
        VsockSocket fd = t.seqpacketConnect();
        t.setsockoptTimevalCheck(fd, SOL_SOCKET, SO_RCVTIMEO, RCVTIMEO_TIMEOUT_SEC, 0, "setsockopt(SO_RCVTIMEO)");
        long enter = t.nanoTime();
        try {
            fd.read(ByteBuffer.allocate(1));
            throw new TestFailure("expected 'dummy' read(2) failure");
        } catch (ErrnoException e) {
            if (e.errno() != EAGAIN) {
                throw TestContext.perror("EAGAIN expected", e);
            }
        }
        long overhead = t.nanoTime() - enter - 1_000_000_000L * RCVTIMEO_TIMEOUT_SEC;
        if (overhead > READ_OVERHEAD_NSEC) {
            throw new TestFailure("too much time in read(2), " + overhead + " > " + READ_OVERHEAD_NSEC + " ns");
        }
        t.control.writeln("WAITDONE");
        fd.close();
    }

    /** 9 - SOCK_SEQPACKET invalid receive buffer, client. */
    static void invalidRecBufferClient(TestContext t) {
        VsockSocket fd = t.seqpacketConnect();
        int bufSize = PAGE_SIZE * 3;
        byte[] buf1 = new byte[bufSize];
        byte[] buf2 = new byte[bufSize];
        Arrays.fill(buf1, (byte) 'a');
        Arrays.fill(buf2, (byte) 'b');
        t.sendBuf(fd, buf1, bufSize, 0, bufSize);
        t.sendBuf(fd, buf2, bufSize, 0, bufSize);
        fd.close();
    }

    /** 9 - SOCK_SEQPACKET invalid receive buffer, server: the middle page of the first buffer is unmapped. */
    static void invalidRecBufferServer(TestContext t) {
        VsockSocket fd = t.seqpacketAccept();
        int bufSize = PAGE_SIZE * 3;
        try {
            int res = fd.recvFaulting(ByteBuffer.allocate(bufSize), 0, PAGE_SIZE);
            throw new TestFailure("expected 'broken_buf' read(2) failure, got " + res);
        } catch (ErrnoException e) {
            if (e.errno() != EFAULT) {
                throw TestContext.perror("unexpected errno of 'broken_buf'", e);
            }
        }
        byte[] valid = new byte[bufSize];
        int res;
        try {
            res = fd.read(ByteBuffer.wrap(valid));
        } catch (ErrnoException e) {
            throw TestContext.perror("unexpected 'valid_buf' read(2) failure", e);
        }
        if (res != bufSize) {
            throw new TestFailure("invalid 'valid_buf' read(2), expected " + bufSize + ", got " + res);
        }
        for (int i = 0; i < bufSize; i++) {
            if (valid[i] != 'b') {
                throw new TestFailure("invalid pattern for 'valid_buf' at " + i + ", expected 62, got "
                        + Integer.toHexString(valid[i] & 0xFF));
            }
        }
        fd.close();
    }

    /** 11 - SOCK_SEQPACKET big message, client. */
    static void bigmsgClient(TestContext t) {
        VsockSocket fd = t.seqpacketConnect();
        long sockBufSize;
        try {
            sockBufSize = fd.getsockoptLong(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE);
        } catch (ErrnoException e) {
            throw TestContext.perror("getsockopt", e);
        }
        sockBufSize++;
        if (sockBufSize > Integer.MAX_VALUE) {
            throw new TestFailure("Returned BUFFER_SIZE too large");
        }
        byte[] data = new byte[(int) sockBufSize];
        t.sendBuf(fd, data, data.length, 0, -EMSGSIZE);
        t.control.writeln("CLISENT");
        fd.close();
    }
}
