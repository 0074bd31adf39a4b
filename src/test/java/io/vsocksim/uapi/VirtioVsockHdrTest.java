package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class VirtioVsockHdrTest {
    /**
     * A guest (CID 3) port 1024 sending 4096 bytes of SEQPACKET data with EOM|EOR to host port
     * 0x12345678, window 256 KiB, fwd_cnt about to wrap. Written out by hand, field by field.
     */
    private static final byte[] GOLDEN = {
        0x03, 0, 0, 0, 0, 0, 0, 0, // src_cid = 3
        0x02, 0, 0, 0, 0, 0, 0, 0, // dst_cid = 2
        0x00, 0x04, 0, 0, // src_port = 1024
        0x78, 0x56, 0x34, 0x12, // dst_port = 0x12345678
        0x00, 0x10, 0, 0, // len = 4096
        0x02, 0x00, // type = SEQPACKET
        0x05, 0x00, // op = RW
        0x03, 0, 0, 0, // flags = EOM | EOR
        0x00, 0x00, 0x04, 0x00, // buf_alloc = 262144
        (byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, // fwd_cnt = 0xFFFFFFFE
    };

    @Test
    void shouldHaveKernelSizeAndOffsets() {
        assertThat(VirtioVsockHdr.SIZE).isEqualTo(44);
        assertThat(new int[] {VirtioVsockHdr.OFF_SRC_CID, VirtioVsockHdr.OFF_DST_CID, VirtioVsockHdr.OFF_SRC_PORT,
            VirtioVsockHdr.OFF_DST_PORT, VirtioVsockHdr.OFF_LEN, VirtioVsockHdr.OFF_TYPE, VirtioVsockHdr.OFF_OP,
            VirtioVsockHdr.OFF_FLAGS, VirtioVsockHdr.OFF_BUF_ALLOC, VirtioVsockHdr.OFF_FWD_CNT})
                .containsExactly(0, 8, 16, 20, 24, 28, 30, 32, 36, 40);
        assertThat(GOLDEN).hasSize(VirtioVsockHdr.SIZE);
    }

    @Test
    void shouldDecodeGoldenBytesAtAnOffset() {
        ByteBuffer buf = ByteBuffer.allocate(100).order(ByteOrder.BIG_ENDIAN); // order must not matter
        buf.put(13, GOLDEN);
        VirtioVsockHdr hdr = new VirtioVsockHdr().wrap(buf, 13);

        assertThat(hdr.srcCid()).isEqualTo(3L);
        assertThat(hdr.dstCid()).isEqualTo(2L);
        assertThat(hdr.srcPort()).isEqualTo(1024);
        assertThat(hdr.dstPort()).isEqualTo(0x12345678);
        assertThat(hdr.len()).isEqualTo(4096);
        assertThat(hdr.type()).isEqualTo(VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET.value());
        assertThat(hdr.op()).isEqualTo(VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value());
        assertThat(hdr.flags()).isEqualTo(VirtioVsock.VIRTIO_VSOCK_SEQ_EOM | VirtioVsock.VIRTIO_VSOCK_SEQ_EOR);
        assertThat(hdr.bufAlloc()).isEqualTo(262144);
        assertThat(U32.toLong(hdr.fwdCnt())).isEqualTo(0xFFFF_FFFEL);
    }

    @Test
    void shouldEncodeExactlyTheGoldenBytes() {
        ByteBuffer buf = ByteBuffer.allocateDirect(70);
        new VirtioVsockHdr().wrap(buf, 20).clear()
                .srcCid(3).dstCid(2).srcPort(1024).dstPort(0x12345678).len(4096)
                .type(VirtioVsockType.VIRTIO_VSOCK_TYPE_SEQPACKET.value()).op(VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value())
                .flags(3).bufAlloc(262144).fwdCnt(0xFFFF_FFFE);
        byte[] out = new byte[44];
        buf.get(20, out);
        assertThat(out).containsExactly(GOLDEN);
        assertThat(buf.get(19)).isZero();
        assertThat(buf.get(20 + 44)).isZero();
    }

    @Test
    void shouldKeepFullU64CidsAndU32Extremes() {
        ByteBuffer buf = ByteBuffer.allocate(44);
        VirtioVsockHdr hdr = new VirtioVsockHdr().wrap(buf, 0).srcCid(0xFFFF_FFFF_FFFF_FFFFL).srcPort(-1).len(-1);
        assertThat(hdr.srcCid()).isEqualTo(-1L);
        assertThat(U32.toLong(hdr.srcPort())).isEqualTo(0xFFFF_FFFFL);
        assertThat(buf.array()).startsWith((byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF);
    }

    @Test
    void shouldClearAllFortyFourBytes() {
        ByteBuffer buf = ByteBuffer.allocate(50);
        for (int i = 0; i < 50; i++) {
            buf.put(i, (byte) 0x5A);
        }
        new VirtioVsockHdr().wrap(buf, 3).clear();
        for (int i = 0; i < 50; i++) {
            assertThat(buf.get(i)).as("byte %d", i).isEqualTo(i >= 3 && i < 47 ? (byte) 0 : (byte) 0x5A);
        }
    }

    @Test
    void shouldRefuseHeaderThatDoesNotFit() {
        assertThatThrownBy(() -> new VirtioVsockHdr().wrap(ByteBuffer.allocate(60), 17))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void shouldRenderUnknownOpAndType() {
        ByteBuffer buf = ByteBuffer.allocate(44);
        String s = new VirtioVsockHdr().wrap(buf, 0).op(99).type(7).toString();
        assertThat(s).contains("op=?99").contains("type=?7");
    }

    @Test
    void shouldCopyAHeaderBetweenOffsetsWithoutTouchingTheBytesAround() {
        // Slab objects put headers anywhere in a page: the copy must use both offsets.
        ByteBuffer page = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
        VirtioVsockHdr src = new VirtioVsockHdr().wrap(page, 640);
        src.srcCid(3).dstCid(2).srcPort(1024).dstPort(5000).len(7).type(1).op(5).flags(1).bufAlloc(65536).fwdCnt(9);
        VirtioVsockHdr dst = new VirtioVsockHdr().wrap(page, 3200);
        dst.copyFrom(src);
        assertThat(dst.toString()).isEqualTo(src.toString());
        for (int i = 0; i < 640; i++) {
            assertThat(page.get(i)).as("byte %d before both headers", i).isZero();
        }
        assertThat(page.get(3200 + VirtioVsockHdr.SIZE)).isZero();
    }
}
