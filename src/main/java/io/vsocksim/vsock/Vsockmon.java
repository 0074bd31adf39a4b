package io.vsocksim.vsock;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A vsockmon network device of one machine (drivers/net/vsockmon.c, {@code ip link add type
 * vsockmon}): while it is up ({@link #open}) it is one of af_vsock's taps and sees a frame for every
 * packet a transport of the machine sends or receives; its statistics count them. What a packet
 * socket bound to it would read ({@code tcpdump -i vsockmon0}) goes to its {@link Listener}s, stamped
 * with the machine's clock.
 */
public final class Vsockmon implements AfVsockTap.Tap {
    /** Whoever reads the device: a packet socket's view of each frame ({@code dev_queue_xmit_nit}). */
    @FunctionalInterface
    public interface Listener {
        /**
         * One frame at {@code nanos} on the machine's clock. The array is shared with the other
         * listeners and with the taps' other devices: copy what you keep.
         */
        void frame(byte[] frame, long nanos);
    }

    private static final Listener[] NONE = {};
    private final VsockCore core;
    private final Clock clock;
    private volatile Listener[] listeners = NONE;
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private boolean up;

    /** A device on {@code core}'s machine, down. */
    public Vsockmon(VsockCore core) {
        this.core = core;
        this.clock = core.kernel().clock();
    }

    /** {@code vsockmon_open} (the device goes up): becomes a tap. Idempotent. */
    @Linux(file = "drivers/net/vsockmon.c", fn = "vsockmon_open")
    public synchronized void open() {
        if (!up) {
            core.taps().addTap(this);
            up = true;
        }
    }

    /** {@code vsockmon_close} (the device goes down): no more frames. Idempotent. */
    @Linux(file = "drivers/net/vsockmon.c", fn = "vsockmon_close")
    public synchronized void stop() {
        if (up) {
            core.taps().removeTap(this);
            up = false;
        }
    }

    /** Adds a reader of the device's frames. */
    public synchronized void addListener(Listener l) {
        Listener[] n = Arrays.copyOf(listeners, listeners.length + 1);
        n[n.length - 1] = l;
        listeners = n;
    }

    /** {@code vsockmon_xmit}: counts the frame ({@code dev_lstats_add}), after its readers saw it. */
    @Override
    @Linux(file = "drivers/net/vsockmon.c", fn = "vsockmon_xmit")
    public void xmit(byte[] frame) {
        Listener[] ls = listeners;
        if (ls.length != 0) {
            long now = clock.nanoTime();
            for (Listener l : ls) {
                l.frame(frame, now);
            }
        }
        packets.incrementAndGet();
        bytes.addAndGet(frame.length);
    }

    /** Frames the device has seen ({@code tx_packets} of its lstats). */
    public long packets() {
        return packets.get();
    }

    /** Bytes of those frames. */
    public long bytes() {
        return bytes.get();
    }
}
