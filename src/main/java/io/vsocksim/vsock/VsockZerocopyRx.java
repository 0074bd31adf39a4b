package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EBUSY;
import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPERM;

import io.vsocksim.NotUpstream;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.mm.VmArea;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.ZerocopyPolicy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * af_vsock's half of zerocopy receive (RFC v1, 2022, never merged; {@code zerocopy-rfc.md}): the
 * socket's {@code mmap} and {@code getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY /* 9 *&#47;)}. The
 * transport's half is {@code VirtioTransportZerocopy}.
 *
 * <p>Present only on a machine whose {@link ZerocopyPolicy} is not OFF; with OFF the socket behaves
 * exactly as in 6.12.117 ({@code sock_no_mmap} → ENODEV, option 9 → ENOPROTOOPT).
 *
 * <p><b>Errno order of the getsockopt</b>, as the RFC patches check:
 * <ol>
 *   <li>{@code optlen < 8} → EINVAL; an {@code optval} that cannot hold 8 bytes → EFAULT;</li>
 *   <li>no transport, or a transport without the {@code zerocopy_dequeue} hook → EOPNOTSUPP;</li>
 *   <li>no area at the address, or an area this socket's mmap did not create → EINVAL (also for a
 *       socket that belongs to no process: its address space has nothing mapped);</li>
 *   <li>socket not connected: as {@code recvmsg} — SOCK_DONE or local RCV_SHUTDOWN gives success with
 *       an empty header list (end of stream), otherwise ENOTCONN;</li>
 *   <li>transport (v2): address not the area's start, area under 2 pages, pages of an earlier call
 *       still mapped → EFAULT, nothing mapped.</li>
 * </ol>
 * Locks: socket lock, then the mm lock (the RFC takes {@code mmap_write_lock}), then the transport's
 * rx lock.
 */
@NotUpstream("virtio/vsock zerocopy RX RFC v1: af_vsock zerocopy receive logic (patch 3)")
public final class VsockZerocopyRx {
    private VsockZerocopyRx() {
    }

    /** True if zerocopy receive exists on {@code sk}'s machine (policy not OFF). */
    public static boolean enabled(VsockSock sk) {
        return ZerocopySetting.policy(sk.core()) != ZerocopyPolicy.OFF;
    }

    /**
     * {@code vsock_mmap}: a read-only area of {@code length} bytes (whole pages, rounded up as
     * {@code do_mmap} does) owned by {@code sk}.
     *
     * @return the address, or -ENODEV (policy OFF), -EPERM (PROT_WRITE/PROT_EXEC), -EINVAL (length not
     *         positive, unknown prot), -EBUSY (the socket already has a live mapping), -ENOMEM
     */
    @NotUpstream("RFC v1/v2 vsock_mmap: no VM_MAYWRITE/VM_MAYEXEC, owner-tagged area")
    public static long mmap(VsockSock sk, MmStruct mm, long length, int prot) {
        if (!enabled(sk)) {
            return -ENODEV;
        }
        if (mm == null) {
            throw new IllegalStateException("socket belongs to no process: use UserProcess.socket()");
        }
        if ((prot & (Mman.PROT_WRITE | Mman.PROT_EXEC)) != 0) {
            return -EPERM;
        }
        if (length <= 0) {
            return -EINVAL;
        }
        long npages = (length + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT;
        if (npages > MmStruct.MAX_AREA_PAGES) {
            return -io.vsocksim.uapi.Errno.ENOMEM;
        }
        sk.lockSock();
        try {
            if (liveArea(sk) != null) {
                return -EBUSY;
            }
            long addr = mm.mmap((int) npages, prot, sk);
            if (addr > 0) {
                sk.zerocopyRx = mm.findVma(addr);
            }
            return addr;
        } finally {
            sk.releaseSock();
        }
    }

    /** The socket's mapping if it is still in its address space (not unmapped); socket lock held. */
    private static VmArea liveArea(VsockSock sk) {
        VmArea vma = (VmArea) sk.zerocopyRx;
        if (vma == null) {
            return null;
        }
        if (vma.mm().findVma(vma.start()) != vma) {
            sk.zerocopyRx = null;
            return null;
        }
        return vma;
    }

    /**
     * {@code getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY)}: {@code optval} holds the u64 start address
     * of the socket's mapping; fills it (see the class comment for the errno order).
     *
     * @return {@code optlen} (8 or more, unchanged) on success, else {@code -errno}
     */
    @NotUpstream("RFC v1/v2 vsock_connectible_getsockopt: SO_VM_SOCKETS_ZEROCOPY / MAP_RX")
    public static int getsockopt(VsockSock sk, MmStruct mm, ByteBuffer optval, int optlen) {
        if (optlen < Long.BYTES) {
            return -EINVAL;
        }
        if (optval == null || optval.capacity() < Long.BYTES) {
            return -EFAULT;
        }
        long raw = optval.getLong(0); // the user's u64, little-endian whatever the buffer's order
        long addr = optval.order() == ByteOrder.LITTLE_ENDIAN ? raw : Long.reverseBytes(raw);
        sk.lockSock();
        try {
            VsockTransport t = sk.transport;
            if (t == null || !t.hasZerocopyDequeue()) {
                return -EOPNOTSUPP;
            }
            if (mm == null) {
                return -EINVAL; // no process: an address space with nothing mapped
            }
            synchronized (mm) {
                VmArea vma = mm.findVma(addr);
                if (vma == null || vma.owner() != sk) {
                    return -EINVAL;
                }
                boolean eof = (sk.skShutdown & io.vsocksim.uapi.Sock.RCV_SHUTDOWN) != 0;
                if (sk.skState != TcpState.TCP_ESTABLISHED) {
                    if (!sk.sockFlag(VsockSock.SOCK_DONE)) {
                        return -ENOTCONN;
                    }
                    eof = true;
                }
                int rc = t.zerocopyDequeue(sk, vma, addr, eof);
                return rc < 0 ? rc : optlen;
            }
        } finally {
            sk.releaseSock();
        }
    }
}
