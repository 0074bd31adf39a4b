package io.vsocksim.vsock.guest;

import io.vsocksim.NotUpstream;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.ZerocopySetting;
import io.vsocksim.vsock.guest.VirtioVsockCounters.Counter;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VirtioTransportZerocopy;
import io.vsocksim.vsock.virtio.VsockSkb;

/**
 * The guest driver's part of zerocopy receive (RFC, never merged): while the machine's
 * {@link ZerocopyPolicy} is not OFF, {@code virtio_vsock_rx_fill} posts buffers of a 44-byte header
 * descriptor followed by whole pages, so that a payload starts on a page of its own and can be mapped
 * into the reader's address space, and {@code virtio_transport_rx_work} takes such a buffer back through
 * {@link #received}, its one hook. {@code VirtioVsock.rxFill} and {@code VirtioVsock.rxWorkFn} call these
 * hooks where a comment marks them and are otherwise 6.12.117's. With the policy OFF only the policy is
 * read, and once no page buffer posted earlier is left the driver is upstream's.
 *
 * <p>The skb mechanics (page fragments, trimming, the copy out of a page) are in
 * {@link VirtioTransportZerocopy}; this class holds the driver's decisions. Caller context: the RX work
 * or the probe, with {@code rx_lock} held.
 */
@NotUpstream("virtio/vsock zerocopy RX RFC v1/v2: guest RX buffers of a header and whole pages (patch 2)")
final class ZerocopyRxBuffers {
    private ZerocopyRxBuffers() {
    }

    /**
     * Data pages of each RX buffer a fill posts now: 0 while {@code core}'s policy is OFF (the upstream
     * 3776-byte buffer), else {@link ZerocopySetting#rxPagesPerBuffer}. Buffers posted earlier keep their
     * layout; {@link #received} goes by the buffer, not by the policy.
     */
    static int pagesPerBuffer(VsockCore core) {
        return ZerocopySetting.policy(core) == ZerocopyPolicy.OFF ? 0 : ZerocopySetting.rxPagesPerBuffer(core);
    }

    /** A buffer of {@code npages} whole pages after its header; null on ENOMEM. */
    static VsockSkb alloc(SkbPool pool, int npages) {
        return VirtioTransportZerocopy.allocRxPageSkb(pool, npages);
    }

    /**
     * Writes the device-writable scatter list of a buffer from {@link #alloc}: the header descriptor (44
     * bytes at the head), then one entry per page. Returns the number of entries.
     */
    static int sg(VsockSkb skb, long[] inGpa, int[] inLen) {
        int inSg = 0;
        inGpa[inSg] = skb.headGpa();
        inLen[inSg++] = VirtioVsockHdr.SIZE;
        for (int i = 0; i < skb.nrFrags(); i++) {
            inGpa[inSg] = skb.fragGpa(i);
            inLen[inSg++] = skb.fragSize(i);
        }
        return inSg;
    }

    /**
     * A used page buffer the device wrote {@code len} bytes into: dropped (and counted, as the RX work
     * counts them) if {@code len} is shorter than the header or longer than the buffer, or if the
     * header's {@code len} is more than was written. Otherwise its payload is the first bytes of its
     * pages (pages left unused are freed at once), and under {@link ZerocopyPolicy#SMALL_COPY} a small
     * payload is copied out of its page into a sub-page skb (copybreak). Takes ownership of {@code skb};
     * returns the skb to deliver, or null if it was dropped.
     */
    static VsockSkb received(VirtioVsock vsock, VsockSkb skb, long len) {
        if (len < VirtioVsockHdr.SIZE || len > VirtioTransportZerocopy.rxCapacity(skb)) {
            vsock.counters.inc(Counter.RX_DROP_SHORT_LONG);
            skb.kfreeSkb();
            return null;
        }
        long payloadLen = Integer.toUnsignedLong(skb.hdr().len());
        if (payloadLen > len - VirtioVsockHdr.SIZE) {
            vsock.counters.inc(Counter.RX_DROP_BAD_LEN);
            skb.kfreeSkb();
            return null;
        }
        VirtioTransportZerocopy.rxPagePut(skb, (int) payloadLen);
        if (ZerocopySetting.policy(vsock.transport.core()) == ZerocopyPolicy.SMALL_COPY
                && !ZerocopyPolicy.SMALL_COPY.pageBacked((int) payloadLen) && payloadLen != 0) {
            return VirtioTransportZerocopy.copyBreak(skb);
        }
        return skb;
    }
}
