package io.vsocksim.chaos;

import io.vsocksim.user.UserProcess;
import java.util.Arrays;

/**
 * One connection of a {@link ChaosRun}: its two ends, the bytes each way (what was sent, and how much of
 * it arrived, checked), and what the connection has lived through, which decides whether a failed
 * call on it has a cause.
 */
final class ChaosConn {
    /** The connecting end and its descriptor. */
    final UserProcess a;
    final int fdA;
    /** The accepting end; its descriptor once accepted, else -1. */
    final UserProcess b;
    int fdB = -1;
    /** The connecting end's local port, by which the accepted end is matched to it. */
    final int portA;
    /** The guest the connection runs to or from (index into the run's guests). */
    final int guest;
    /** The guest's reset count when the connection was made: a reset since then explains a break. */
    final int resetEpoch;
    /** A call at the connecting end succeeded: the handshake is over on both sides. */
    boolean up;
    /**
     * A receiver reset it with ENOBUFS: a packet that did not fit its buffer, or more queued packets than
     * its buffer bounds ({@code virtio_transport_inc_rx_pkt}).
     */
    boolean overflowed;
    /** The schedule shut one of its directions down: end of stream and EPIPE are expected from now on. */
    boolean shut;
    final Stream aToB = new Stream();
    final Stream bToA = new Stream();

    ChaosConn(UserProcess a, int fdA, UserProcess b, int portA, int guest, int resetEpoch) {
        this.a = a;
        this.fdA = fdA;
        this.b = b;
        this.portA = portA;
        this.guest = guest;
        this.resetEpoch = resetEpoch;
    }

    /** One direction: the bytes accepted by send(2), and how many of them recv(2) returned, checked. */
    static final class Stream {
        private byte[] sent = new byte[0];
        private int sentLen;
        private int received;

        void sent(byte[] b, int n) {
            if (sentLen + n > sent.length) {
                sent = Arrays.copyOf(sent, Math.max(sent.length * 2, sentLen + n));
            }
            System.arraycopy(b, 0, sent, sentLen, n);
            sentLen += n;
        }

        /** Null if {@code got[0, n)} is the next part of what was sent, else why not. */
        String received(byte[] got, int n) {
            if (received + n > sentLen) {
                return "received " + (received + n) + " bytes, only " + sentLen + " were sent";
            }
            for (int i = 0; i < n; i++) {
                if (got[i] != sent[received + i]) {
                    return "byte " + (received + i) + " differs from what was sent (reordered or duplicated)";
                }
            }
            received += n;
            return null;
        }
    }
}
