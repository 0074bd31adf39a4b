package io.vsocksim.vsock;

import io.vsocksim.NotUpstream;
import io.vsocksim.uapi.ZerocopyPolicy;
import java.util.Objects;

/**
 * A machine's zerocopy receive setting (RFC, not upstream): its {@link ZerocopyPolicy} and the data
 * pages per guest RX buffer, kept as an attachment of the machine's {@link VsockCore} and read by the
 * transports when they allocate receive buffers.
 */
@NotUpstream("virtio/vsock zerocopy RX RFC v1/v2: packet allocation rework (patches 1-2)")
public final class ZerocopySetting {
    private volatile ZerocopyPolicy policy = ZerocopyPolicy.OFF;
    private volatile int rxPagesPerBuffer = 1;

    private ZerocopySetting() {
    }

    private static ZerocopySetting of(VsockCore core) {
        return core.attachment(ZerocopySetting.class, ZerocopySetting::new);
    }

    /** The machine's current policy. */
    public static ZerocopyPolicy policy(VsockCore core) {
        return of(core).policy;
    }

    /** Sets the machine's policy; buffers allocated before keep their layout (they are copied when mapped). */
    public static void setPolicy(VsockCore core, ZerocopyPolicy policy) {
        of(core).policy = Objects.requireNonNull(policy);
    }

    /**
     * Data pages per guest RX buffer when the policy is not OFF: 1 (the RFC's layout, a header
     * descriptor plus one page; the device splits larger packets) up to
     * {@link ZerocopyPolicy#MAX_RX_PAGES_PER_BUFFER} (a whole 64 KiB packet per buffer, as virtio-net's
     * "big packets" mode posts pages; the pages a packet leaves unused are freed at once). Read by the
     * guest driver when it posts buffers.
     */
    public static int rxPagesPerBuffer(VsockCore core) {
        return of(core).rxPagesPerBuffer;
    }

    /** Sets {@link #rxPagesPerBuffer}; {@code 1 <= pages <= MAX_RX_PAGES_PER_BUFFER}. */
    public static void setRxPagesPerBuffer(VsockCore core, int pages) {
        if (pages < 1 || pages > ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER) {
            throw new IllegalArgumentException("rx pages per buffer outside 1.." + ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER
                    + ": " + pages);
        }
        of(core).rxPagesPerBuffer = pages;
    }
}
