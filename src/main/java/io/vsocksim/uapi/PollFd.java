package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** {@code struct pollfd}: a descriptor, the events asked for, and the events poll(2) reports. */
@Linux(file = "include/uapi/asm-generic/poll.h", fn = "struct pollfd")
public final class PollFd {
    /** The descriptor; a negative one is skipped (its revents stay 0). */
    public int fd;
    /** Events of interest ({@link Poll}); POLLERR, POLLHUP and POLLNVAL are reported regardless. */
    public short events;
    /** What poll(2) found. */
    public short revents;

    public PollFd(int fd, int events) {
        this.fd = fd;
        this.events = (short) events;
    }

    @Override
    public String toString() {
        return "pollfd{fd=" + fd + ", events=0x" + Integer.toHexString(events & 0xffff) + ", revents=0x"
                + Integer.toHexString(revents & 0xffff) + "}";
    }
}
