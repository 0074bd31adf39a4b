package io.vsocksim.user.nio;

import java.io.IOException;

/**
 * What {@link VsockSelector} needs of a channel (the JDK's {@code SelChImpl}): its descriptor, the
 * translation between selection-key operations and poll events, and the last step of a close that a
 * registration held up.
 */
interface VsockSelectable {
    /** The channel's descriptor and process. */
    ChannelFd channelFd();

    /** The poll events that stand for the key operations {@code ops} (what epoll is asked to watch). */
    int translateInterestOps(int ops);

    /**
     * The key operations among {@code interestOps} that the poll events {@code events} make ready, for
     * events without POLLERR/POLLHUP/POLLNVAL (the key handles those alike for every channel).
     */
    int translateReadyOps(int events, int interestOps);

    /** Closes the descriptor of a closed channel once its last key is deregistered. */
    void kill() throws IOException;
}
