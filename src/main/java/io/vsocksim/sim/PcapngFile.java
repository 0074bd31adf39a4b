package io.vsocksim.sim;

import io.vsocksim.uapi.VsockMon;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * pcapng (little-endian): a Section Header Block, one Interface Description Block (link type
 * {@code LINKTYPE_VSOCK}, the device's name, {@code if_tsresol} = 9: nanoseconds), then an Enhanced
 * Packet Block per frame.
 */
final class PcapngFile extends CaptureFile {
    static final int SHB = 0x0A0D0D0A;
    static final int IDB = 0x00000001;
    static final int EPB = 0x00000006;
    static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    static final short OPT_ENDOFOPT = 0;
    static final short IF_NAME = 2;
    static final short IF_TSRESOL = 9;

    PcapngFile(OutputStream out, String ifName) throws IOException {
        super(out);
        scratch().putInt(SHB).putInt(28).putInt(BYTE_ORDER_MAGIC).putShort((short) 1).putShort((short) 0)
                .putLong(-1L).putInt(28);
        flushScratch();
        byte[] name = ifName.getBytes(StandardCharsets.UTF_8);
        int namePadded = pad4(name.length);
        int len = 16 + 4 + namePadded + 4 + 4 + 4 + 4;
        scratch().putInt(IDB).putInt(len).putShort((short) VsockMon.LINKTYPE_VSOCK).putShort((short) 0).putInt(SNAPLEN)
                .putShort(IF_NAME).putShort((short) name.length);
        flushScratch();
        out.write(name);
        out.write(new byte[namePadded - name.length]);
        scratch().putShort(IF_TSRESOL).putShort((short) 1).put((byte) 9).put((byte) 0).put((byte) 0).put((byte) 0)
                .putShort(OPT_ENDOFOPT).putShort((short) 0).putInt(len);
        flushScratch();
    }

    static int pad4(int n) {
        return (n + 3) & ~3;
    }

    @Override
    void record(long epochNanos, byte[] frame) throws IOException {
        int caplen = Math.min(frame.length, SNAPLEN);
        int padded = pad4(caplen);
        int len = 32 + padded;
        scratch().putInt(EPB).putInt(len).putInt(0).putInt((int) (epochNanos >>> 32)).putInt((int) epochNanos)
                .putInt(caplen).putInt(frame.length);
        flushScratch();
        out.write(frame, 0, caplen);
        out.write(PAD, 0, padded - caplen);
        scratch().putInt(len);
        flushScratch();
    }

    private static final byte[] PAD = new byte[3];
}
