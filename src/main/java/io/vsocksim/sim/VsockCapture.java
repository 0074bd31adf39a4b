package io.vsocksim.sim;

import io.vsocksim.kernel.RealClock;
import io.vsocksim.vsock.Vsockmon;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A packet capture of one machine's vsock traffic into a file Wireshark and tshark open: what
 * {@code ip link add vsockmon0 type vsockmon; ip link set vsockmon0 up; tcpdump -i vsockmon0 -w FILE}
 * records on Linux. Every packet a transport of the machine sends or receives (guest driver, vhost,
 * loopback) is one record: {@code struct af_vsockmon_hdr}, the 44-byte virtio header, the payload
 * (link type {@code LINKTYPE_VSOCK}, 271).
 *
 * <p>A file name ending in {@code .pcapng} gets pcapng, any other classic pcap with nanosecond
 * timestamps. Timestamps are the machine's clock, anchored to the wall clock when the capture starts
 * (so a jump of the simulated clock shows as a jump between records). On a host, the capture sees the
 * guest's packets as vhost moves them; on a guest, as its driver does.
 *
 * <pre>{@code
 * try (VsockCapture cap = host.capture(Path.of("vsock.pcapng"))) {   // or VsockCapture.start(host, path)
 *     ... run the exchange ...
 * }   // then: wireshark vsock.pcapng
 * }</pre>
 *
 * <p>It sits beside {@link Machine} (not in {@code io.vsocksim.user}) so that {@link Machine#capture}
 * can start one without the machine layer importing a layer above it; it needs only the machine's
 * af_vsock taps and clock.
 */
public final class VsockCapture implements AutoCloseable {
    private final Vsockmon dev;
    private final CaptureFile file;
    private final long wallAnchorNanos;
    private final long clockAnchorNanos;
    private long records;
    private boolean closed;
    private IOException failure;

    private VsockCapture(Machine m, Vsockmon dev, CaptureFile file) {
        this.dev = dev;
        this.file = file;
        this.wallAnchorNanos = RealClock.epochNanos();
        this.clockAnchorNanos = m.kernel().clock().nanoTime();
    }

    /**
     * Starts capturing {@code machine}'s vsock packets into {@code path} (created or truncated).
     *
     * @throws IOException if the file cannot be written
     */
    public static VsockCapture start(Machine machine, Path path) throws IOException {
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        CaptureFile file = name.endsWith(".pcapng") ? new PcapngFile(out, "vsockmon0") : new PcapFile(out);
        Vsockmon dev = new Vsockmon(machine.core());
        VsockCapture cap = new VsockCapture(machine, dev, file);
        dev.addListener(cap::record);
        dev.open();
        return cap;
    }

    private synchronized void record(byte[] frame, long nanos) {
        if (closed || failure != null) {
            return;
        }
        try {
            file.record(wallAnchorNanos + (nanos - clockAnchorNanos), frame);
            records++;
        } catch (IOException e) {
            failure = e; // reported by close(): a packet path never throws for a capture
        }
    }

    /** Records written so far. */
    public synchronized long records() {
        return records;
    }

    /**
     * Stops the capture (the device goes down) and closes the file.
     *
     * @throws UncheckedIOException if a record or the close could not be written
     */
    @Override
    public void close() {
        dev.stop();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                file.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                }
            }
            if (failure != null) {
                throw new UncheckedIOException("vsock capture", failure);
            }
        }
    }
}
