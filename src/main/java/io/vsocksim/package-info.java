/**
 * vsocksim: a pure-Java model of Linux VM sockets (AF_VSOCK) over virtio.
 *
 * <p><b>Pinned kernel.</b> Every rule in this code base follows <b>Linux 6.12.117</b> (the 6.12 LTS
 * kernel as Debian ships it, package linux-source-6.12 6.12.117-1~deb12u1): the sk_buff era of
 * virtio-vsock. Rules are cited as {@code file:function} with {@link io.vsocksim.Linux}; the version
 * string is {@link io.vsocksim.LinuxVersion#PINNED}. Code that is not upstream (the zerocopy receive
 * RFC) carries {@link io.vsocksim.NotUpstream}; simulator-only behaviour is marked with a
 * {@code SIM:} comment.
 *
 * <p><b>No globals.</b> The kernel keeps the bind and connected tables, the registered transports and
 * the virtio device as globals. Here one JVM holds a host kernel and several guest kernels at once, so
 * every such global is a field of a per-machine context ({@code io.vsocksim.kernel.KernelContext}).
 * This is the one structural deviation that runs through the whole project; nothing in
 * {@code src/main} holds static mutable state.
 *
 * <p><b>Layers</b>, lowest first, each importing only the ones below it:
 * <pre>
 *   uapi     include/uapi/linux/*: wire header, user header, sockaddr_vm, option/errno numbers
 *   mm       guest physical memory, page allocator, user mappings (mm/)
 *   kernel   per-machine context: work queues, wait queues, clock, WARN_ONCE (kernel/workqueue.c, wait.h)
 *   virtio   split virtqueue, driver side (drivers/virtio/virtio_ring.c)
 *   vhost    split virtqueue, device side (drivers/vhost/vhost.c)
 * </pre>
 * The socket layer and the transports sit above these (see {@code docs/architecture.md}).
 */
package io.vsocksim;
