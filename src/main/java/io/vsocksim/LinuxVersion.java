package io.vsocksim;

/** The one kernel release the whole simulator models. */
public final class LinuxVersion {
    /** Linux 6.12.117 as Debian ships it (linux-source-6.12 6.12.117-1~deb12u1). */
    public static final String PINNED = "6.12.117";

    private LinuxVersion() {
    }
}
