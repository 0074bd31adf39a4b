package io.vsocksim.uapi;

/**
 * A simulated user access to an address with no page behind it, or without the needed protection:
 * where a real process would get {@code SIGSEGV}. It is a bug in the simulated program (or in the
 * layer that should have mapped the page), so it is an exception, not an errno.
 */
public final class SegmentationFault extends IllegalStateException {
    private final long addr;

    /**
     * @param message Agrona-style {@code key=value} description
     * @param addr    the faulting user address
     */
    public SegmentationFault(String message, long addr) {
        super(message);
        this.addr = addr;
    }

    /** The faulting user address ({@code si_addr}). */
    public long addr() {
        return addr;
    }
}
