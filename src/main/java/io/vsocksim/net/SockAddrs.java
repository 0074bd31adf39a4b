package io.vsocksim.net;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.EINVAL;

import io.vsocksim.Linux;
import io.vsocksim.uapi.SockaddrVm;
import java.nio.ByteBuffer;

/**
 * Addresses going out to user memory (the way in is {@code VsockSocket.moveAddrToKernel}).
 * Addresses crossing the user/kernel boundary. A {@link ByteBuffer} stands for user memory at its
 * position (a null one is NULL; bytes beyond its capacity, or a read-only buffer written to, fault);
 * an {@code int[]} of one element stands for an {@code int *} length (null is NULL).
 */
public final class SockAddrs {
    /** {@code sizeof(struct sockaddr_storage)}. */
    public static final int SOCKADDR_STORAGE_SIZE = 128;

    private SockAddrs() {
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
}
