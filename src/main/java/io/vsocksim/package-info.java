/**
 * vsocksim: a pure-Java model of Linux VM sockets (AF_VSOCK) over virtio.
 *
 * <p><b>API and kernel model.</b> The module ({@code module-info}) exports what a program that embeds the
 * simulator uses, and nothing else:
 * <ul>
 *   <li>{@code io.vsocksim.sim}: machines ({@code Host}, {@code Guest}, {@code Machine}), each factory
 *       saying which clock it keeps ({@code virtualTime}, {@code realTime}, {@code manualTime}), and
 *       packet capture ({@code VsockCapture});</li>
 *   <li>{@code io.vsocksim.user}: processes ({@code UserProcess}, the C-shaped system calls by descriptor),
 *       sockets ({@code VsockSocket}, the exception-throwing object; {@code VsockSocket.open(machine, type)}),
 *       {@code VsockAddress}, {@code VsockNet} (java.net), {@code Faults} (pause, migration, device replug,
 *       memory pressure), {@code VsockStats} (the counters as immutable snapshots);
 *       {@code io.vsocksim.user.junit}: the JUnit 5 extension ({@code @VsockSim}); {@code io.vsocksim.user.nio}: the NIO channels and selectors
 *       ({@code VsockSelectorProvider}); {@code io.vsocksim.user.bridge}: a guest's vsock behind a Unix
 *       socket ({@code HybridVsock});</li>
 *   <li>{@code io.vsocksim.uapi}: the kernel's numbers and structs ({@code Sock}, {@code VmSockets},
 *       {@code Errno}, {@code Poll}, {@code Epoll}, {@code Mman}, ...) and {@code ErrnoException};</li>
 *   <li>this package: the {@code @Linux} and {@code @NotUpstream} citations the API carries, and the
 *       pinned version.</li>
 * </ul>
 * Everything else is concealed: the kernel model ({@code kernel}, {@code mm}, {@code fs}, {@code net},
 * {@code virtio}, {@code vhost}, {@code vsock} and its sub-packages), to read next to Linux rather than build
 * on; the internals bridges ({@code sim.internal}, {@code user.internal}) through which the module's own
 * code reaches a machine's or a process's inside; the {@code vsock_test} port ({@code testsuite}),
 * deterministic simulation ({@code chaos}) and the command line ({@code tools}).
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
 * {@code src/main} holds static mutable state (the internals bridges' one field each is written once,
 * when {@code Machine} or {@code UserProcess} is initialised).
 *
 * <p><b>Layers</b>, lowest first, each importing only the ones below it (checked by
 * {@code PackageLayersTest}; the picture with every floor is in {@code docs/architecture.md}):
 * <pre>
 *   uapi     include/uapi/linux/*: wire header, user header, sockaddr_vm, option/errno numbers
 *   mm       guest physical memory, page allocator, user mappings (mm/)
 *   kernel   per-machine context: work queues, wait queues, clock, WARN_ONCE (kernel/workqueue.c, wait.h)
 *   fs | virtio | vhost   descriptors and files; the split virtqueue's driver and device sides
 *   vsock, vsock.virtio, then vsock.loopback | vsock.guest | vsock.vhost   af_vsock and the transports
 *   net      the socket calls of net/socket.c
 *   sim      machines (the API), sim.internal
 *   user     processes and sockets (the API), user.nio, user.bridge, user.internal
 *   testsuite | chaos, then tools
 * </pre>
 */
package io.vsocksim;
