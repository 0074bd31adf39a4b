package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.ENODEV;

import io.vsocksim.Linux;
import java.util.Arrays;

/**
 * The taps of one machine's af_vsock (net/vmw_vsock/af_vsock_tap.c): the vsockmon devices that are up,
 * each of which gets a copy of every packet a transport sends or receives.
 *
 * <p>With no tap, delivering costs one volatile read: the frame is not even built
 * ({@code vsock_deliver_tap}'s {@code list_empty} test). The list is copy-on-write, read without a
 * lock as the kernel reads its RCU list.
 */
@Linux(file = "net/vmw_vsock/af_vsock_tap.c", fn = "vsock_tap_all")
public final class AfVsockTap {
    /** A device that takes frames: {@code struct vsock_tap}'s {@code dev}. */
    public interface Tap {
        /**
         * {@code dev_queue_xmit} of one frame (af_vsockmon_hdr + transport header + payload). The array
         * is shared by every tap of this delivery: read it, do not keep or change it.
         */
        void xmit(byte[] frame);
    }

    /** {@code build_skb(opaque)}: the frame for one packet, or null when it cannot be built. */
    @FunctionalInterface
    public interface Builder<T> {
        byte[] build(T opaque);
    }

    private static final Tap[] NONE = {};
    private volatile Tap[] taps = NONE;

    /** {@code vsock_add_tap}: {@code tap} receives every packet from now on. */
    @Linux(file = "net/vmw_vsock/af_vsock_tap.c", fn = "vsock_add_tap")
    public synchronized void addTap(Tap tap) {
        Tap[] t = Arrays.copyOf(taps, taps.length + 1);
        System.arraycopy(t, 0, t, 1, t.length - 1); // list_add_rcu: at the head
        t[0] = tap;
        taps = t;
    }

    /** {@code vsock_remove_tap}: 0, or {@code -ENODEV} if {@code tap} was not added. */
    @Linux(file = "net/vmw_vsock/af_vsock_tap.c", fn = "vsock_remove_tap")
    public synchronized int removeTap(Tap tap) {
        Tap[] t = taps;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == tap) {
                Tap[] n = new Tap[t.length - 1];
                System.arraycopy(t, 0, n, 0, i);
                System.arraycopy(t, i + 1, n, i, t.length - i - 1);
                taps = n.length == 0 ? NONE : n;
                return 0;
            }
        }
        return -ENODEV;
    }

    /** True while a tap is up. */
    public boolean active() {
        return taps.length != 0;
    }

    /** {@code vsock_deliver_tap}: builds the frame only if some tap is up, then hands it to each. */
    @Linux(file = "net/vmw_vsock/af_vsock_tap.c", fn = "vsock_deliver_tap")
    public <T> void deliverTap(Builder<T> build, T opaque) {
        Tap[] t = taps;
        if (t.length == 0) {
            return;
        }
        byte[] frame = build.build(opaque);
        if (frame == null) {
            return;
        }
        for (Tap tap : t) {
            tap.xmit(frame);
        }
    }
}
