package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** {@code socket_state} of {@code struct socket} ({@code sock->state}), include/uapi/linux/net.h. */
@Linux(file = "include/uapi/linux/net.h", fn = "socket_state")
public enum SocketState {
    SS_FREE(0),
    SS_UNCONNECTED(1),
    SS_CONNECTING(2),
    SS_CONNECTED(3),
    SS_DISCONNECTING(4);

    private final int value;

    SocketState(int value) {
        this.value = value;
    }

    /** The Linux number. */
    public int value() {
        return value;
    }
}
