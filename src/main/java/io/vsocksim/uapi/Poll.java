package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** poll(2) event bits (include/uapi/asm-generic/poll.h), as vsock_poll reports them. */
@Linux(file = "include/uapi/asm-generic/poll.h", fn = "POLLIN")
public final class Poll {
    public static final int POLLIN = 0x0001;
    public static final int POLLPRI = 0x0002;
    public static final int POLLOUT = 0x0004;
    public static final int POLLERR = 0x0008;
    public static final int POLLHUP = 0x0010;
    public static final int POLLNVAL = 0x0020;
    public static final int POLLRDNORM = 0x0040;
    public static final int POLLRDBAND = 0x0080;
    public static final int POLLWRNORM = 0x0100;
    public static final int POLLWRBAND = 0x0200;
    public static final int POLLMSG = 0x0400;
    public static final int POLLRDHUP = 0x2000;

    private static final int[] BITS = {POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM,
        POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG, POLLRDHUP};
    private static final String[] NAMES = {"POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL",
        "POLLRDNORM", "POLLRDBAND", "POLLWRNORM", "POLLWRBAND", "POLLMSG", "POLLRDHUP"};

    private Poll() {
    }

    /** {@code "POLLIN|POLLRDNORM"}-style rendering of a mask ({@code "0"} when empty). */
    public static String names(int mask) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < BITS.length; i++) {
            if ((mask & BITS[i]) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(NAMES[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    /** Parses {@code "POLLIN|POLLOUT"} back into a mask. */
    public static int parse(String names) {
        int mask = 0;
        if (names.isEmpty() || "0".equals(names)) {
            return 0;
        }
        for (String n : names.split("\\|")) {
            int i = java.util.Arrays.asList(NAMES).indexOf(n.trim());
            if (i < 0) {
                throw new IllegalArgumentException("unknown poll bit: name=" + n);
            }
            mask |= BITS[i];
        }
        return mask;
    }
}
