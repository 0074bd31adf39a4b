/**
 * The loopback transport: {@code net/vmw_vsock/vsock_loopback.c} of Linux 6.12.117.
 *
 * <p>{@link io.vsocksim.vsock.loopback.VsockLoopback} registers as the machine's LOCAL transport (CID 1).
 * {@code sendPkt} takes ownership of the skb, appends it to the transport's packet queue (own lock,
 * a leaf) and queues the delivery work; the work splices the queue, subtracts each skb's payload from
 * its sender's {@code bytes_unsent} without freeing it, and hands it to {@code recvPkt}, which owns it
 * from then on. {@code cancelPkt} frees the socket's skbs still in the queue (including RSTs that
 * {@code reset_no_sock} built for one of its packets, which it owns).
 *
 * <p>Deviations (SIM): the delivery work runs on the machine's system work queue instead of a
 * dedicated "vsock-loopback" workqueue; the transport is an object of one machine, not a module
 * global.
 */
package io.vsocksim.vsock.loopback;
