package io.vsocksim.uapi;

import io.vsocksim.NotUpstream;

/**
 * How a machine allocates received packet data, per the zerocopy receive RFC (never merged): the
 * RFC needs packet payloads in whole pages so that they can be inserted into a user mapping. One
 * setting per machine ({@code Machine.setZerocopyPolicy}, {@code Host.startGuest}); SIM: a simulator
 * setting, not part of any kernel ABI, kept here beside the RFC's numbers so that every layer can read it.
 *
 * <ul>
 *   <li>{@link #OFF}: Linux 6.12.117 exactly. The guest posts 3776-byte RX buffers with the header
 *       inside, vhost and loopback allocate skbs by the kernel's size rules, and zerocopy receive does
 *       not exist ({@code mmap} fails with ENODEV, option 9 with ENOPROTOOPT).</li>
 *   <li>{@link #PAGES}: as the RFC posts buffers: every data packet's payload starts on a page of its
 *       own (the guest posts a 44-byte header descriptor plus one whole page per RX chain; vhost and
 *       loopback put the payload in page fragments), so every packet costs at least one page.</li>
 *   <li>{@link #SMALL_COPY}: payloads up to {@link #SMALL_COPY_BREAK} bytes are kept in sub-page
 *       (linear) buffers, as with {@link #OFF}, and copied into a fresh page when mapped; larger ones
 *       are page-backed as with {@link #PAGES}.</li>
 * </ul>
 */
@NotUpstream("virtio/vsock zerocopy RX RFC v1/v2: packet allocation rework (patches 1-2)")
public enum ZerocopyPolicy {
    /** Upstream 6.12.117 allocation; zerocopy receive absent. The default. */
    OFF,
    /** Every data packet in whole pages. */
    PAGES,
    /** Small packets in sub-page buffers (copied when mapped), larger ones in whole pages. */
    SMALL_COPY;

    /** Largest payload that {@link #SMALL_COPY} keeps in a sub-page buffer (a 2 KiB kmalloc head). */
    public static final int SMALL_COPY_BREAK = 1024;

    /** Pages of the largest packet: {@code VIRTIO_VSOCK_MAX_PKT_BUF_SIZE} / 4096. */
    public static final int MAX_RX_PAGES_PER_BUFFER = 16;

    /** True if a payload of {@code payloadLen} bytes must be page-backed under this policy. */
    public boolean pageBacked(int payloadLen) {
        return switch (this) {
            case OFF -> false;
            case PAGES -> payloadLen > 0;
            case SMALL_COPY -> payloadLen > SMALL_COPY_BREAK;
        };
    }
}
