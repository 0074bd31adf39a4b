package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class VirtioVsockUsrHdrTest {
    @Test
    void shouldLayOutLengthThenFlagsLittleEndian() {
        ByteBuffer page = ByteBuffer.allocate(4096);
        VirtioVsockUsrHdr h = new VirtioVsockUsrHdr();
        h.wrap(page, 0).length(56).flags(0);
        h.wrap(page, 8).length(8200).flags(VirtioVsock.VIRTIO_VSOCK_SEQ_EOM | VirtioVsock.VIRTIO_VSOCK_SEQ_EOR);
        byte[] first16 = new byte[16];
        page.get(0, first16);
        assertThat(first16).containsExactly(56, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x20, 0, 0, 3, 0, 0, 0);
        assertThat(VirtioVsockUsrHdr.PER_PAGE).isEqualTo(512);
    }

    @Test
    void shouldReadBackFields() {
        ByteBuffer page = ByteBuffer.allocate(16);
        VirtioVsockUsrHdr h = new VirtioVsockUsrHdr().wrap(page, 8).length(-1).flags(2);
        assertThat(U32.toLong(h.length())).isEqualTo(0xFFFF_FFFFL);
        assertThat(h.flags()).isEqualTo(2);
    }
}
