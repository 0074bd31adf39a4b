package io.vsocksim.uapi;

import io.vsocksim.Linux;
import io.vsocksim.NotUpstream;

/**
 * {@code include/uapi/linux/vm_sockets.h}: address family, special CIDs and ports, and the
 * {@code SO_VM_SOCKETS_*} options (level {@link #AF_VSOCK}). CIDs and ports are u32 held in Java
 * {@code int}s, so {@link #VMADDR_CID_ANY} and {@link #VMADDR_PORT_ANY} are {@code -1}.
 */
@Linux(file = "include/uapi/linux/vm_sockets.h", fn = "VMADDR_CID_ANY")
public final class VmSockets {
    /** Address family and option level. */
    public static final int AF_VSOCK = 40;
    /** Level of MSG_ZEROCOPY completion control messages. */
    public static final int SOL_VSOCK = 287;
    /** cmsg type of MSG_ZEROCOPY completions at {@link #SOL_VSOCK}. */
    public static final int VSOCK_RECVERR = 1;

    public static final int VMADDR_CID_HYPERVISOR = 0;
    /** Loopback inside one machine (vsock_loopback). */
    public static final int VMADDR_CID_LOCAL = 1;
    /** The host. */
    public static final int VMADDR_CID_HOST = 2;
    /** 0xFFFFFFFF: wildcard for bind, and "no CID". */
    public static final int VMADDR_CID_ANY = -1;
    /** 0xFFFFFFFF: "pick a port"; a socket is bound iff its port is not this. */
    public static final int VMADDR_PORT_ANY = -1;
    /** The only flag allowed in {@code svm_flags}: route to the host even for a local CID. */
    public static final int VMADDR_FLAG_TO_HOST = 0x01;
    /** Ports up to this need CAP_NET_BIND_SERVICE (include/net/af_vsock.h). */
    public static final int LAST_RESERVED_PORT = 1023;

    public static final int SO_VM_SOCKETS_BUFFER_SIZE = 0;
    public static final int SO_VM_SOCKETS_BUFFER_MIN_SIZE = 1;
    public static final int SO_VM_SOCKETS_BUFFER_MAX_SIZE = 2;
    public static final int SO_VM_SOCKETS_PEER_HOST_VM_ID = 3;
    public static final int SO_VM_SOCKETS_TRUSTED = 5;
    public static final int SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD = 6;
    public static final int SO_VM_SOCKETS_NONBLOCK_TXRX = 7;
    public static final int SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW = 8;
    /** The user alias: the old (native long timeval) number on x86-64. */
    public static final int SO_VM_SOCKETS_CONNECT_TIMEOUT = SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD;
    /**
     * Zerocopy receive: maps RX pages at the given mapping address (RFC v1 numbering; v2/v3 call
     * option 9 SO_VM_SOCKETS_MAP_RX). Unknown to 6.12.117, which answers ENOPROTOOPT.
     */
    @NotUpstream("virtio/vsock zerocopy receive RFC v1")
    public static final int SO_VM_SOCKETS_ZEROCOPY = 9;

    /** ioctl on /dev/vsock: {@code _IO(7, 0xb9)}. */
    public static final int IOCTL_VM_SOCKETS_GET_LOCAL_CID = (7 << 8) | 0xb9;

    private VmSockets() {
    }
}
