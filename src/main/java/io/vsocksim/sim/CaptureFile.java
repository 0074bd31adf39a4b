package io.vsocksim.sim;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A capture file being written: its header first, then one record per frame (not thread-safe). */
abstract class CaptureFile implements AutoCloseable {
    /** Frames are kept whole up to this length (libpcap's usual maximum). */
    static final int SNAPLEN = 262_144;

    final OutputStream out;
    private final ByteBuffer scratch = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

    CaptureFile(OutputStream out) {
        this.out = out;
    }

    /** One frame captured at {@code epochNanos}. */
    abstract void record(long epochNanos, byte[] frame) throws IOException;

    /** Little-endian scratch space for a block's fixed fields, cleared. */
    ByteBuffer scratch() {
        return scratch.clear();
    }

    /** Writes what was put into the scratch buffer. */
    void flushScratch() throws IOException {
        out.write(scratch.array(), 0, scratch.position());
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
