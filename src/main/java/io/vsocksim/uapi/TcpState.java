package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * {@code sk_state} values. vsock reuses the TCP numbers of include/net/tcp_states.h; they are what
 * ss and sock_diag show, so the numbers must match Linux.
 */
@Linux(file = "include/net/tcp_states.h", fn = "TCP_ESTABLISHED")
public enum TcpState {
    TCP_ESTABLISHED(1),
    TCP_SYN_SENT(2),
    TCP_SYN_RECV(3),
    TCP_FIN_WAIT1(4),
    TCP_FIN_WAIT2(5),
    TCP_TIME_WAIT(6),
    TCP_CLOSE(7),
    TCP_CLOSE_WAIT(8),
    TCP_LAST_ACK(9),
    TCP_LISTEN(10),
    TCP_CLOSING(11);

    private static final TcpState[] BY_VALUE = new TcpState[12];

    static {
        for (TcpState s : values()) {
            BY_VALUE[s.value] = s;
        }
    }

    private final int value;

    TcpState(int value) {
        this.value = value;
    }

    /** The Linux number. */
    public int value() {
        return value;
    }

    /** The state with Linux number {@code v}, or null. */
    public static TcpState fromValue(int v) {
        return v > 0 && v < BY_VALUE.length ? BY_VALUE[v] : null;
    }
}
