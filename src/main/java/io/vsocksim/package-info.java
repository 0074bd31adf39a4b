/**
 * vsocksim: a pure-Java model of Linux VM sockets (AF_VSOCK) over virtio.
 *
 * <p><b>API and kernel model.</b> A program that embeds the simulator uses these packages (README, "Which
 * packages are the API"):
 * <ul>
 *   <li>{@code io.vsocksim.sim}: machines ({@code Host}, {@code Guest}, {@code Machine}) and their processes
 *       ({@code UserProcess}, the C-shaped system calls by descriptor);</li>
 *   <li>{@code io.vsocksim.user}: Java's own socket types on vsock: {@code VsockAddress}, {@code VsockNet}
 *       (java.net), {@code Faults} (pause, migration, device replug, memory
 *       pressure); {@code io.vsocksim.user.nio}: the NIO channels and selectors
 *       ({@code VsockSelectorProvider}); {@code io.vsocksim.user.bridge}: a guest's vsock behind a Unix socket
 *       ({@code HybridVsock}); {@code VsockStats}: the counters as immutable snapshots;
 *       {@code io.vsocksim.user.junit}: the JUnit 5 extension ({@code @VsockSim});</li>
 *   <li>{@code io.vsocksim.sim}: machines ({@code Host}, {@code Guest}, {@code Machine}), processes
 *       ({@code UserProcess}, the C-shaped descriptor face), {@code VsockSocket} (the exception-throwing
 *       socket object, a handle on a process's descriptor) and {@code VsockCapture} (pcap);</li>
 *   <li>{@code io.vsocksim.vsock}: {@code ZerocopyPolicy} (and {@code VsockCounters}, read through
 *       {@code VsockStats}); the rest of that
 *       package is af_vsock's model;</li>
 *   <li>{@code io.vsocksim.uapi}: the kernel's numbers ({@code Sock}, {@code VmSockets}, {@code Errno},
 *       {@code Poll}, {@code Epoll}) and {@code ErrnoException}.</li>
 * </ul>
 * Everything else is the kernel model those run on ({@code kernel}, {@code mm}, {@code fs}, {@code net},
 * {@code virtio}, {@code vhost} and the {@code vsock.*} sub-packages), to read next to Linux rather than build
 * on, plus the command line ({@code tools}) and the {@code vsock_test} port ({@code testsuite}). The API
 * documentation groups the packages the same way.
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
