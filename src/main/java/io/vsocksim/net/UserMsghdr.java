package io.vsocksim.net;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import java.nio.ByteBuffer;

/**
 * {@code struct user_msghdr} as a C caller fills it for sendmsg(2)/recvmsg(2). Buffers stand for user
 * memory as in {@link SockAddrs}; {@code null} is a NULL pointer. recvmsg writes back
 * {@link #namelen} (when {@link #name} is not NULL), {@link #flags} and {@link #controllen}, as the
 * kernel writes the caller's structure.
 */
@Linux(file = "include/linux/socket.h", fn = "struct user_msghdr")
public final class UserMsghdr {
    /** {@code msg_name}: the address buffer, at its position. */
    public ByteBuffer name;
    /** {@code msg_namelen}. */
    public int namelen;
    /** {@code msg_iov}: the data segments, each its remaining bytes; a null segment is {@code {NULL, 0}}. */
    public ByteBuffer[] iov;
    /** {@code msg_iovlen} (a {@code size_t}: negative values are huge). */
    public int iovlen;
    /** {@code msg_control}: the control buffer, at its position. */
    public ByteBuffer control;
    /** {@code msg_controllen} (a {@code size_t}). */
    public int controllen;
    /** {@code msg_flags}: ignored by sendmsg; the out flags of recvmsg. */
    public int flags;

    /** A msghdr with no name and no control over {@code iov}. */
    public static UserMsghdr of(ByteBuffer... iov) {
        UserMsghdr m = new UserMsghdr();
        m.iov = iov;
        m.iovlen = iov.length;
        return m;
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
                return -Errno.EINVAL;
            }
            namelen = Math.min(msg.namelen, SockAddrs.SOCKADDR_STORAGE_SIZE);
        }
        if (send && namelen > 0) {
            int err = SockAddrs.moveAddrToKernel(msg.name, namelen);
            if (err < 0) {
                return err;
            }
        }
        return Integer.compareUnsigned(msg.iovlen, Iovec.UIO_MAXIOV) > 0 ? -Errno.EMSGSIZE : namelen;
    }

    /**
     * The msghdr's checks in the kernel's order: EFAULT for a NULL {@code msg}, the name (EINVAL; for a
     * send also copied in: EINVAL/EFAULT), EMSGSIZE for too many segments, then the iovec's import.
     * Returns the total data length or {@code -errno}.
     */
    @Linux(file = "net/socket.c", fn = "copy_msghdr_from_user")
    public static long copyFromUser(UserMsghdr msg, boolean send) {
        if (msg == null) {
            return -Errno.EFAULT;
        }
        int err = copyMsghdr(msg, send);
        return err < 0 ? err : Iovec.importIovec(msg.iov, msg.iovlen);
    }
}
