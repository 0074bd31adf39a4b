package io.vsocksim.uapi;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;

/**
 * {@code struct user_msghdr} as a C caller fills it for sendmsg(2)/recvmsg(2). Buffers stand for user
 * memory at their positions; {@code null} is a NULL pointer. recvmsg writes back
 * {@link #namelen} (when {@link #name} is not NULL), {@link #flags} and {@link #controllen}, as the
 * kernel writes the caller's structure. The kernel's checks and copies of it are in {@code io.vsocksim.net}
 * ({@code copy_msghdr_from_user}).
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

    /** An empty msghdr: no name, no iovec, no control (all NULL), no flags. */
    public UserMsghdr() {
    }

    /** A msghdr with no name and no control over {@code iov}. */
    public static UserMsghdr of(ByteBuffer... iov) {
        UserMsghdr m = new UserMsghdr();
        m.iov = iov;
        m.iovlen = iov.length;
        return m;
    }
}
