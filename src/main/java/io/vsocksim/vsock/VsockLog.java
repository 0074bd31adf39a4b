package io.vsocksim.vsock;

import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.U32;
import io.vsocksim.uapi.VirtioVsockHdr;
import org.slf4j.Logger;

/**
 * The shapes of the DEBUG lines that concern one connection, shared by the loggers of af_vsock and the
 * transports ({@link io.vsocksim.kernel.LoggerNames}), so every layer writes them alike:
 * <pre>
 *   host: state TCP_SYN_SENT -&gt; TCP_ESTABLISHED, local 2:1024, remote 3:5000
 *   host: RST sent, local 2:5000, remote 3:1024: no socket (answering VIRTIO_VSOCK_OP_REQUEST)
 * </pre>
 * The machine comes first, then the event, this machine's end ({@code cid:port}, unsigned), the
 * peer's end and the cause. Every argument handed to SLF4J is immutable (a string, an enum, a
 * {@link io.vsocksim.uapi.SockaddrVm}), so an appender that formats later still prints what was true
 * when the line was logged. Each method returns at once when DEBUG is off.
 */
public final class VsockLog {
    private VsockLog() {
    }

    /** Logs {@code sk}'s {@code sk_state} change from {@code old} to {@code now} (nothing if equal). */
    static void state(Logger log, VsockSock sk, TcpState old, TcpState now) {
        if (old != now && log.isDebugEnabled()) {
            log.debug("{}: state {} -> {}, local {}, remote {}", sk.core().kernel().name(), old, now, sk.localAddr,
                    sk.remoteAddr);
        }
    }

    /** Logs {@code what} happened to {@code sk}'s connection because of {@code cause}. */
    public static void event(Logger log, VsockSock sk, String what, String cause) {
        if (log.isDebugEnabled()) {
            log.debug("{}: {}, local {}, remote {}: {}", sk.core().kernel().name(), what, sk.localAddr,
                    sk.remoteAddr, cause);
        }
    }

    /**
     * Logs {@code what} happened on {@code machine} for the connection {@code hdr} belongs to, seen from
     * the receiver of {@code hdr}: its destination is the local end.
     */
    public static void eventRx(Logger log, String machine, VirtioVsockHdr hdr, String what, String cause) {
        if (log.isDebugEnabled()) {
            log.debug("{}: {}, local {}, remote {}: {}", machine, what, addr(hdr.dstCid(), hdr.dstPort()),
                    addr(hdr.srcCid(), hdr.srcPort()), cause);
        }
    }

    /**
     * Logs a packet {@code machine} dropped: {@code reason} is the name of the counter that counted it
     * (or the errno the drop returned), {@code detail} says what was wrong, {@code hdr} (may be null when
     * no header was read) is the packet.
     */
    public static void drop(Logger log, String machine, String reason, String detail, VirtioVsockHdr hdr) {
        if (log.isDebugEnabled()) {
            log.debug("{}: drop {} ({}): {}", machine, reason, detail, hdr == null ? "no header" : hdr.toString());
        }
    }

    /** {@code cid:port} with both as unsigned numbers, as {@link io.vsocksim.uapi.SockaddrVm} prints them. */
    public static String addr(long cid, int port) {
        return Long.toUnsignedString(cid) + ":" + U32.toString(port);
    }
}
