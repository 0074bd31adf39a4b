package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Helpers for zerocopy receive tests: one mapped call, read as the RFC's user would. */
final class ZerocopyRxSupport {
    static final int PAGE = GuestMemory.PAGE_SIZE;

    private ZerocopyRxSupport() {
    }

    /** One header of a call and the bytes of its data pages. */
    record Pkt(int length, int flags, byte[] data) {
    }

    /** getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY, &addr, optlen). */
    static int mapRx(VsockSocket s, long addr, int optlen) throws ErrnoException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, addr);
        return s.getsockopt(VmSockets.AF_VSOCK, VmSockets.SO_VM_SOCKETS_ZEROCOPY, b, optlen);
    }

    /** Reads the header page and the data pages the headers describe (no release). */
    static List<Pkt> readMapping(UserProcess p, long addr) {
        List<Pkt> out = new ArrayList<>();
        long page = addr + PAGE;
        for (int i = 0; i < PAGE / 8; i++) {
            int len = p.readU32(addr + 8L * i);
            int flags = p.readU32(addr + 8L * i + 4);
            if (len == 0) {
                break;
            }
            byte[] d = new byte[len];
            p.read(page, d, 0, len);
            page += (long) (len + PAGE - 1) / PAGE * PAGE;
            out.add(new Pkt(len, flags, d));
        }
        return out;
    }

    /** One full call: map, read, release the whole mapping. */
    static List<Pkt> takeOnce(UserProcess p, VsockSocket s, long addr, int npages) throws ErrnoException {
        mapRx(s, addr, 8);
        List<Pkt> pk = readMapping(p, addr);
        assertThat(p.madvise(addr, (long) npages * PAGE, Mman.MADV_DONTNEED)).isZero();
        return pk;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + (i >>> 8));
        }
        return b;
    }

    static void sendAll(VsockSocket s, byte[] b, int flags) throws ErrnoException {
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
            assertThat(s.send(bb, flags)).isPositive();
        }
    }
}
