package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VirtioVsockConstantsTest {
    @Test
    void shouldNumberOpsAsTheKernel() {
        assertThat(VirtioVsockOp.values()).extracting(VirtioVsockOp::value).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(VirtioVsockOp.fromWire(5)).isEqualTo(VirtioVsockOp.VIRTIO_VSOCK_OP_RW);
        assertThat(VirtioVsockOp.fromWire(7)).isEqualTo(VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_REQUEST);
        assertThat(VirtioVsockOp.fromWire(8)).isNull();
        assertThat(VirtioVsockOp.fromWire(0xFFFF)).isNull();
    }

    @Test
    void shouldNumberTypesAsTheKernel() {
        assertThat(VirtioVsockType.fromWire(1)).isEqualTo(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM);
        assertThat(VirtioVsockType.fromWire(2)).isEqualTo(VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET);
        assertThat(VirtioVsockType.fromWire(0)).isNull();
        assertThat(VirtioVsockType.fromWire(3)).isNull();
    }

    @Test
    void shouldNumberFlagsEventsAndFeatures() {
        assertThat(VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_RCV).isEqualTo(1);
        assertThat(VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_SEND).isEqualTo(2);
        assertThat(VirtioVsock.VIRTIO_VSOCK_SEQ_EOM).isEqualTo(1);
        assertThat(VirtioVsock.VIRTIO_VSOCK_SEQ_EOR).isEqualTo(2);
        assertThat(VirtioVsock.VIRTIO_VSOCK_EVENT_TRANSPORT_RESET).isZero();
        assertThat(VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET).isEqualTo(1);
        assertThat(VirtioVsock.VIRTIO_ID_VSOCK).isEqualTo(19);
    }

    @Test
    void shouldNumberVmSocketsOptionsAndAddresses() {
        assertThat(VmSockets.AF_VSOCK).isEqualTo(40);
        assertThat(VmSockets.SOL_VSOCK).isEqualTo(287);
        assertThat(U32.toLong(VmSockets.VMADDR_CID_ANY)).isEqualTo(0xFFFF_FFFFL);
        assertThat(U32.toLong(VmSockets.VMADDR_PORT_ANY)).isEqualTo(0xFFFF_FFFFL);
        assertThat(new int[] {VmSockets.SO_VM_SOCKETS_BUFFER_SIZE, VmSockets.SO_VM_SOCKETS_BUFFER_MIN_SIZE,
            VmSockets.SO_VM_SOCKETS_BUFFER_MAX_SIZE, VmSockets.SO_VM_SOCKETS_PEER_HOST_VM_ID,
            VmSockets.SO_VM_SOCKETS_TRUSTED, VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD,
            VmSockets.SO_VM_SOCKETS_NONBLOCK_TXRX, VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW,
            VmSockets.SO_VM_SOCKETS_ZEROCOPY})
                .containsExactly(0, 1, 2, 3, 5, 6, 7, 8, 9);
        assertThat(VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT).isEqualTo(6);
        assertThat(VmSockets.IOCTL_VM_SOCKETS_GET_LOCAL_CID).isEqualTo(0x7b9);
    }

    @Test
    void shouldNumberGenericSocketConstants() {
        assertThat(Sock.SOCK_STREAM).isEqualTo(1);
        assertThat(Sock.SOCK_SEQPACKET).isEqualTo(5);
        assertThat(Sock.MSG_PEEK).isEqualTo(2);
        assertThat(Sock.MSG_TRUNC).isEqualTo(0x20);
        assertThat(Sock.MSG_DONTWAIT).isEqualTo(0x40);
        assertThat(Sock.MSG_EOR).isEqualTo(0x80);
        assertThat(Sock.MSG_WAITALL).isEqualTo(0x100);
        assertThat(Sock.MSG_ERRQUEUE).isEqualTo(0x2000);
        assertThat(Sock.MSG_NOSIGNAL).isEqualTo(0x4000);
        assertThat(Sock.MSG_ZEROCOPY).isEqualTo(0x4000000);
        assertThat(Sock.SO_ZEROCOPY).isEqualTo(60);
        assertThat(Sock.SIOCOUTQ).isEqualTo(0x5411);
        assertThat(Sock.SIOCINQ).isEqualTo(0x541B);
        assertThat(TcpState.TCP_ESTABLISHED.value()).isEqualTo(1);
        assertThat(TcpState.TCP_CLOSE.value()).isEqualTo(7);
        assertThat(TcpState.TCP_LISTEN.value()).isEqualTo(10);
        assertThat(TcpState.fromValue(11)).isEqualTo(TcpState.TCP_CLOSING);
        assertThat(SocketState.SS_DISCONNECTING.value()).isEqualTo(4);
    }

    @Test
    void shouldRenderAndParsePollMasks() {
        int mask = Poll.POLLIN | Poll.POLLRDNORM | Poll.POLLOUT | Poll.POLLWRNORM | Poll.POLLWRBAND;
        assertThat(mask).isEqualTo(0x345);
        assertThat(Poll.names(mask)).isEqualTo("POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM|POLLWRBAND");
        assertThat(Poll.parse("POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM|POLLWRBAND")).isEqualTo(mask);
        assertThat(Poll.names(0)).isEqualTo("0");
        assertThat(Poll.parse("POLLHUP|POLLRDHUP|POLLERR")).isEqualTo(0x2018);
    }
}
