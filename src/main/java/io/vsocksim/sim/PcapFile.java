package io.vsocksim.sim;

import io.vsocksim.uapi.VsockMon;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Classic pcap with nanosecond timestamps (magic {@code 0xa1b23c4d}, version 2.4, little-endian),
 * link type {@code LINKTYPE_VSOCK}.
 */
final class PcapFile extends CaptureFile {
    static final int MAGIC_NANOS = 0xa1b23c4d;

    PcapFile(OutputStream out) throws IOException {
        super(out);
        scratch().putInt(MAGIC_NANOS).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(SNAPLEN)
                .putInt(VsockMon.LINKTYPE_VSOCK);
        flushScratch();
    }

    @Override
    void record(long epochNanos, byte[] frame) throws IOException {
        int caplen = Math.min(frame.length, SNAPLEN);
        scratch().putInt((int) (epochNanos / 1_000_000_000L)).putInt((int) (epochNanos % 1_000_000_000L))
                .putInt(caplen).putInt(frame.length);
        flushScratch();
        out.write(frame, 0, caplen);
    }
}
