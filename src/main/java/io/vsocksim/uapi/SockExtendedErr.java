package io.vsocksim.uapi;

import static io.vsocksim.uapi.Sock.SO_EE_CODE_ZEROCOPY_COPIED;
import static io.vsocksim.uapi.Sock.SO_EE_ORIGIN_ZEROCOPY;

import io.vsocksim.Linux;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct sock_extended_err} (include/uapi/linux/errqueue.h) as a MSG_ZEROCOPY completion on a
 * socket's error queue: {@code ee_errno} 0, {@code ee_origin} {@link io.vsocksim.uapi.Sock#SO_EE_ORIGIN_ZEROCOPY},
 * {@code ee_code} with {@link io.vsocksim.uapi.Sock#SO_EE_CODE_ZEROCOPY_COPIED} when the data was
 * copied, and the range of notification ids {@code [ee_info, ee_data]} (u32, inclusive) it completes.
 *
 * <pre>
 *   0        4          5         6        7        8         12        16
 *   +--------+----------+---------+--------+--------+---------+---------+
 *   |ee_errno|ee_origin |ee_type  |ee_code |ee_pad  |ee_info  |ee_data  |
 *   +--------+----------+---------+--------+--------+---------+---------+
 * </pre>
 *
 * <p>A value: a socket's error queue holds these (the kernel's error-queue skb and its
 * {@code SKB_EXT_ERR} control block), and a later completion merged into the last one
 * ({@code skb_zerocopy_notify_extend}) replaces it with {@link #withEeData}.
 */
@Linux(file = "include/uapi/linux/errqueue.h", fn = "struct sock_extended_err")
public final class SockExtendedErr {
    /** {@code sizeof(struct sock_extended_err)}. */
    public static final int SIZE = 16;
    /** {@code sizeof(struct cmsghdr)} on x86-64 ({@code size_t cmsg_len; int level; int type}). */
    public static final int CMSGHDR_SIZE = 16;
    /** {@code CMSG_LEN(sizeof(struct sock_extended_err))}. */
    public static final int CMSG_LEN = CMSGHDR_SIZE + SIZE;

    /** {@code ee_errno}. */
    public final int eeErrno;
    /** {@code ee_origin}. */
    public final int eeOrigin;
    /** {@code ee_type}. */
    public final int eeType;
    /** {@code ee_code}. */
    public final int eeCode;
    /** {@code ee_info}: first notification id of the range (u32). */
    public final int eeInfo;
    /** {@code ee_data}: last notification id of the range (u32). */
    public final int eeData;

    private SockExtendedErr(int eeErrno, int eeOrigin, int eeType, int eeCode, int eeInfo, int eeData) {
        this.eeErrno = eeErrno;
        this.eeOrigin = eeOrigin;
        this.eeType = eeType;
        this.eeCode = eeCode;
        this.eeInfo = eeInfo;
        this.eeData = eeData;
    }

    /** A zerocopy completion for ids {@code [lo, hi]} (u32), {@code copied} if the data was copied. */
    public static SockExtendedErr zerocopy(int lo, int hi, boolean copied) {
        return new SockExtendedErr(0, SO_EE_ORIGIN_ZEROCOPY, 0, copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0, lo, hi);
    }

    /** This completion with {@code ee_data} (its last id) set to {@code eeData}. */
    public SockExtendedErr withEeData(int eeData) {
        return new SockExtendedErr(eeErrno, eeOrigin, eeType, eeCode, eeInfo, eeData);
    }

    /** First id completed ({@code ee_info}). */
    public long lo() {
        return Integer.toUnsignedLong(eeInfo);
    }

    /** Last id completed ({@code ee_data}). */
    public long hi() {
        return Integer.toUnsignedLong(eeData);
    }

    /** True if {@code SO_EE_CODE_ZEROCOPY_COPIED} is set: the kernel copied instead of pinning. */
    public boolean copied() {
        return (eeCode & SO_EE_CODE_ZEROCOPY_COPIED) != 0;
    }

    /** Writes the 16-byte struct (little-endian) at {@code dst}'s position, advancing it. */
    public void write(ByteBuffer dst) {
        ByteOrder o = dst.order();
        dst.order(ByteOrder.LITTLE_ENDIAN);
        dst.putInt(eeErrno).put((byte) eeOrigin).put((byte) eeType).put((byte) eeCode).put((byte) 0)
                .putInt(eeInfo).putInt(eeData);
        dst.order(o);
    }

    /** Parses a 16-byte struct (little-endian) at {@code src}'s absolute index {@code at}. */
    public static SockExtendedErr read(ByteBuffer src, int at) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return new SockExtendedErr(b.getInt(at), Byte.toUnsignedInt(b.get(at + 4)), Byte.toUnsignedInt(b.get(at + 5)),
                Byte.toUnsignedInt(b.get(at + 6)), b.getInt(at + 8), b.getInt(at + 12));
    }

    @Override
    public String toString() {
        return "sock_extended_err{errno=" + eeErrno + " origin=" + eeOrigin + " code=" + eeCode + " info=" + lo()
                + " data=" + hi() + "}";
    }
}
