package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * {@code include/uapi/linux/vsockmon.h}: the header a vsockmon device puts in front of every packet it
 * sees, and its op and transport numbers; with the link-layer numbers capture files use for it.
 *
 * <pre>
 *   0          8          16         20         24   26          28   30        32
 *   | src_cid  | dst_cid  | src_port | dst_port | op | transport | len | reserved |
 * </pre>
 *
 * All fields little-endian; {@code len} is the length of the transport header that follows (44 for
 * {@code struct virtio_vsock_hdr}), then the payload.
 */
@Linux(file = "include/uapi/linux/vsockmon.h", fn = "struct af_vsockmon_hdr")
public final class VsockMon {
    /** {@code sizeof(struct af_vsockmon_hdr)}. */
    public static final int HDR_SIZE = 32;
    public static final int OFF_SRC_CID = 0;
    public static final int OFF_DST_CID = 8;
    public static final int OFF_SRC_PORT = 16;
    public static final int OFF_DST_PORT = 20;
    public static final int OFF_OP = 24;
    public static final int OFF_TRANSPORT = 26;
    public static final int OFF_LEN = 28;

    public static final int AF_VSOCK_OP_UNKNOWN = 0;
    public static final int AF_VSOCK_OP_CONNECT = 1;
    public static final int AF_VSOCK_OP_DISCONNECT = 2;
    public static final int AF_VSOCK_OP_CONTROL = 3;
    public static final int AF_VSOCK_OP_PAYLOAD = 4;

    public static final int AF_VSOCK_TRANSPORT_UNKNOWN = 0;
    public static final int AF_VSOCK_TRANSPORT_NO_INFO = 1;
    /** The transport header is {@code struct virtio_vsock_hdr}. */
    public static final int AF_VSOCK_TRANSPORT_VIRTIO = 2;

    /** {@code ARPHRD_VSOCKMON} (include/uapi/linux/if_arp.h): the device type of a vsockmon netdev. */
    public static final int ARPHRD_VSOCKMON = 826;
    /** {@code LINKTYPE_VSOCK} of pcap and pcapng (tcpdump.org link-layer types): frames start with this header. */
    public static final int LINKTYPE_VSOCK = 271;

    private VsockMon() {
    }
}
