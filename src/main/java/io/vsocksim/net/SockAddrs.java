package io.vsocksim.net;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EMSGSIZE;

import io.vsocksim.Linux;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.UserMsghdr;
import java.nio.ByteBuffer;

/**
 * Addresses crossing the user/kernel boundary, in ({@code move_addr_to_kernel}) and out
 * ({@code move_addr_to_user}). A {@link ByteBuffer} stands for user memory at its
 * position (a null one is NULL; bytes beyond its capacity, or a read-only buffer written to, fault);
 * an {@code int[]} of one element stands for an {@code int *} length (null is NULL). Also the import of a
 * {@link UserMsghdr}'s name and iovec ({@code copy_msghdr_from_user}).
 */
public final class SockAddrs {
    /** {@code sizeof(struct sockaddr_storage)}. */
    public static final int SOCKADDR_STORAGE_SIZE = 128;

    private SockAddrs() {
    }

    /**
     * The syscall layer's copy of a user address before the protocol sees it: a length beyond
     * {@code sizeof(struct sockaddr_storage)} is EINVAL, an unreadable buffer (a NULL address, a
     * buffer shorter than {@code addrlen}) EFAULT; a zero length copies nothing. 0 or {@code -errno}.
     */
    @Linux(file = "net/socket.c", fn = "move_addr_to_kernel")
    public static int moveAddrToKernel(ByteBuffer addr, int addrlen) {
        if (addrlen < 0 || addrlen > SOCKADDR_STORAGE_SIZE) {
            return -EINVAL;
        }
        if (addrlen == 0) {
            return 0;
        }
        return addr == null || addr.capacity() - addr.position() < addrlen ? -EFAULT : 0;
    }

    /**
     * {@code vsock_addr_cast} on an address {@link #moveAddrToKernel} copied: a length below
     * {@code sizeof(struct sockaddr_vm)} fails before the bytes are looked at, so {@code (NULL, 0)} gets
     * the protocol's EINVAL, not a fault. What {@link SockaddrVm#decode} returns, {@code out[0]} set on 0.
     */
    static int decode(ByteBuffer addr, int addrlen, SockaddrVm[] out) {
        if (addr == null) {
            return -EFAULT; // only reached with addrlen 0: nothing was copied
        }
        return SockaddrVm.decode(addr, addr.position(), addrlen, out);
    }

    /**
     * Copies the kernel's address of {@code klen} bytes ({@code kaddr}, null when the protocol filled
     * in none) out to user memory: reads the buffer size from {@code ulen} (EFAULT if NULL), copies at
     * most that many bytes (EINVAL if it is negative; EFAULT if the buffer cannot take them), and
     * writes back {@code klen}, the full size, even when the copy was cut short. 0 or {@code -errno};
     * nothing is written on failure.
     */
    @Linux(file = "net/socket.c", fn = "move_addr_to_user")
    public static int moveAddrToUser(SockaddrVm kaddr, int klen, ByteBuffer uaddr, int[] ulen) {
        if (ulen == null || ulen.length < 1) {
            return -EFAULT;
        }
        int len = Math.min(ulen[0], klen);
        if (len < 0) {
            return -EINVAL;
        }
        if (len > 0) {
            if (uaddr == null || uaddr.isReadOnly() || uaddr.capacity() - uaddr.position() < len) {
                return -EFAULT;
            }
            uaddr.put(uaddr.position(), kaddr.toBytes(), 0, len);
        }
        ulen[0] = klen;
        return 0;
    }

    /**
     * The name ({@code msg_namelen} is 0 without one, cut to 128; EINVAL if negative; for a send it is
     * also copied in: EINVAL/EFAULT), then EMSGSIZE for more than UIO_MAXIOV segments
     * ({@code msg_iovlen} is unsigned). Returns the name's length or {@code -errno}.
     */
    @Linux(file = "net/socket.c", fn = "__copy_msghdr")
    static int copyMsghdr(UserMsghdr msg, boolean send) {
        int namelen = 0;
        if (msg.name != null) {
            if (msg.namelen < 0) {
                return -EINVAL;
            }
            namelen = Math.min(msg.namelen, SOCKADDR_STORAGE_SIZE);
        }
        if (send && namelen > 0) {
            int err = moveAddrToKernel(msg.name, namelen);
            if (err < 0) {
                return err;
            }
        }
        return Integer.compareUnsigned(msg.iovlen, Iovec.UIO_MAXIOV) > 0 ? -EMSGSIZE : namelen;
    }

    /**
     * The msghdr's checks in the kernel's order: EFAULT for a NULL {@code msg}, the name (EINVAL; for a
     * send also copied in: EINVAL/EFAULT), EMSGSIZE for too many segments, then the iovec's import.
     * Returns the total data length or {@code -errno}.
     */
    @Linux(file = "net/socket.c", fn = "copy_msghdr_from_user")
    public static long copyMsghdrFromUser(UserMsghdr msg, boolean send) {
        if (msg == null) {
            return -EFAULT;
        }
        int err = copyMsghdr(msg, send);
        return err < 0 ? err : Iovec.importIovec(msg.iov, msg.iovlen);
    }
}
