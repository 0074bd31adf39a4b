package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class SockaddrVmTest {
    /** AF_VSOCK, port 1234, CID 2, VMADDR_FLAG_TO_HOST, little-endian host order. */
    private static final byte[] GOLDEN = {
        40, 0, 0, 0, (byte) 0xD2, 0x04, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
    };

    @Test
    void shouldEncodeCStructLayout() {
        assertThat(new SockaddrVm(VmSockets.VMADDR_CID_HOST, 1234, VmSockets.VMADDR_FLAG_TO_HOST).toBytes())
                .containsExactly(GOLDEN);
    }

    @Test
    void shouldDecodeGoldenBytes() {
        SockaddrVm[] out = new SockaddrVm[1];
        assertThat(SockaddrVm.decode(ByteBuffer.wrap(GOLDEN), 0, 16, out)).isZero();
        assertThat(out[0]).isEqualTo(new SockaddrVm(2, 1234, 1));
    }

    @Test
    void shouldFailShortAddressWithEfault() {
        SockaddrVm[] out = new SockaddrVm[1];
        assertThat(SockaddrVm.decode(ByteBuffer.wrap(GOLDEN), 0, 15, out)).isEqualTo(-Errno.EFAULT);
        assertThat(out[0]).isNull();
    }

    @Test
    void shouldFailWrongFamilyWithEafnosupport() {
        byte[] bytes = GOLDEN.clone();
        bytes[0] = 2; // AF_INET
        assertThat(SockaddrVm.decode(ByteBuffer.wrap(bytes), 0, 16, new SockaddrVm[1])).isEqualTo(-Errno.EAFNOSUPPORT);
    }

    @Test
    void shouldFailUnknownFlagWithEinval() {
        byte[] bytes = GOLDEN.clone();
        bytes[12] = 2;
        assertThat(SockaddrVm.decode(ByteBuffer.wrap(bytes), 0, 16, new SockaddrVm[1])).isEqualTo(-Errno.EINVAL);
    }

    @Test
    void shouldTreatPortAnyAsUnbound() {
        assertThat(new SockaddrVm(VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY).isBound()).isFalse();
        assertThat(new SockaddrVm(VmSockets.VMADDR_CID_ANY, 0).isBound()).isTrue();
        assertThat(new SockaddrVm(VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY).toString())
                .isEqualTo("4294967295:4294967295");
    }
}
