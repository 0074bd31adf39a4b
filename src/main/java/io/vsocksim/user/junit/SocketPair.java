package io.vsocksim.user.junit;

import io.vsocksim.user.VsockSocket;

/**
 * Two connected sockets ({@link Simulation#connectedPair}): the one that called {@code connect} and the
 * one its listener's {@code accept} returned. They are the test's to close; closing the pair closes
 * both.
 *
 * @param client the connecting socket
 * @param server the accepted socket
 */
public record SocketPair(VsockSocket client, VsockSocket server) implements AutoCloseable {
    /** Closes both sockets. */
    @Override
    public void close() {
        try {
            client.close();
        } finally {
            server.close();
        }
    }
}
