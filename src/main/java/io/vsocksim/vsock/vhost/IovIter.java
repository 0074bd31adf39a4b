package io.vsocksim.vsock.vhost;

import io.vsocksim.Linux;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.vhost.Iov;
import io.vsocksim.vsock.virtio.VsockSkb;

/**
 * The {@code iov_iter} copies vhost-vsock does between a guest chain (guest memory) and a host skb
 * (host memory): {@code copy_from_iter}, {@code copy_to_iter}, {@code skb_copy_datagram_from_iter} and
 * {@code skb_copy_datagram_iter}. Positions are byte offsets into the readable or writable part of
 * the chain. Stateless and allocation-free; every entry of an {@link Iov} lies inside guest memory.
 */
final class IovIter {
    private IovIter() {
    }

    /**
     * Copies {@code n} bytes between the chain part {@code [first, last)} of {@code iov} starting {@code pos}
     * bytes into it and host memory at {@code hostGpa}. Returns the bytes copied (short if the part ends).
     */
    private static int copy(Iov iov, int first, int last, GuestMemory guest, long pos, GuestMemory host, long hostGpa,
            int n, boolean toGuest) {
        int done = 0;
        for (int i = first; i < last && done < n; i++) {
            long l = Integer.toUnsignedLong(iov.len(i));
            if (pos >= l) {
                pos -= l;
                continue;
            }
            int c = (int) Math.min(l - pos, n - done);
            int r = toGuest ? guest.copy(iov.gpa(i) + pos, host, hostGpa + done, c)
                    : host.copy(hostGpa + done, guest, iov.gpa(i) + pos, c);
            if (r < 0) {
                return done;
            }
            done += c;
            pos = 0;
        }
        return done;
    }

    /** {@code copy_from_iter}: readable chain bytes at {@code pos} into host memory. */
    @Linux(file = "include/linux/uio.h", fn = "copy_from_iter")
    static int fromOut(Iov iov, GuestMemory guest, long pos, GuestMemory host, long hostGpa, int n) {
        return copy(iov, 0, iov.out(), guest, pos, host, hostGpa, n, false);
    }

    /** {@code copy_to_iter}: host memory into the writable chain part at {@code pos}. */
    @Linux(file = "include/linux/uio.h", fn = "copy_to_iter")
    static int toIn(Iov iov, GuestMemory guest, long pos, GuestMemory host, long hostGpa, int n) {
        return copy(iov, iov.out(), iov.count(), guest, pos, host, hostGpa, n, true);
    }

    /**
     * Copies {@code n} payload bytes of {@code skb} starting at payload offset {@code off} to (or, with
     * {@code toSkb}, from) the chain at {@code pos}, walking the linear part and the fragments with the
     * kernel's offset arithmetic ({@code start = skb_headlen(skb)} in an int, which is negative when
     * {@code len < data_len}). Returns 0, or -1 on a short copy (a fault).
     */
    @Linux(file = "net/core/datagram.c", fn = "skb_copy_datagram_from_iter")
    static int skbPayload(VsockSkb skb, GuestMemory host, int off, Iov iov, GuestMemory guest, long pos, int n,
            boolean toSkb) {
        int linear = skb.len() - skb.dataLen();
        int left = n;
        if (off < linear && left > 0) {
            int c = Math.min(left, linear - off);
            long at = skb.headGpa() + VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + off;
            int r = toSkb ? fromOut(iov, guest, pos, host, at, c) : toIn(iov, guest, pos, host, at, c);
            if (r != c) {
                return -1;
            }
            left -= c;
            off += c;
            pos += c;
        }
        // skb_headlen() as an int, as in the kernel: negative for a guest TX skb whose chain was longer
        // than 44 + hdr.len (vhost_vsock_alloc_skb sized data_len for the chain, virtio_vsock_skb_put set
        // len = hdr.len only). The payload then sits in the last hdr.len bytes of the fragments, exactly
        // where skb_copy_datagram_iter / skb_copy_bits (VsockSkb) look for it.
        int fragStart = linear;
        for (int i = 0; i < skb.nrFrags() && left > 0; i++) {
            int fragEnd = fragStart + skb.fragSize(i);
            if (off < fragEnd) {
                int c = Math.min(left, fragEnd - off);
                long at = skb.fragGpa(i) + (off - fragStart);
                int r = toSkb ? fromOut(iov, guest, pos, host, at, c) : toIn(iov, guest, pos, host, at, c);
                if (r != c) {
                    return -1;
                }
                left -= c;
                off += c;
                pos += c;
            }
            fragStart = fragEnd;
        }
        return left == 0 ? 0 : -1;
    }
}
