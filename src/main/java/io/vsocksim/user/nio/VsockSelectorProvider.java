package io.vsocksim.user.nio;

import io.vsocksim.sim.Machine;
import io.vsocksim.user.UserProcess;
import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;

/**
 * The NIO face of the simulator: a {@link SelectorProvider} whose channels and selectors are descriptors of
 * one simulated {@link UserProcess}. Code written against {@code SocketChannel}, {@code ServerSocketChannel}
 * and {@code Selector} runs unchanged on vsock when it opens them through this provider and uses
 * {@link io.vsocksim.user.VsockAddress} where it used an {@code InetSocketAddress}:
 *
 * <pre>
 *   SelectorProvider nio = VsockSelectorProvider.of(UserProcess.spawn(guest, "client"));
 *   try (SocketChannel ch = nio.openSocketChannel()) {
 *       ch.connect(VsockAddress.ofHostPort(1234));
 *       ch.write(ByteBuffer.wrap(request));
 *   }
 * </pre>
 *
 * <p>Every call is a system call of the process (socket, bind, listen, accept4, connect, send with
 * MSG_NOSIGNAL, recv, sendmsg/recvmsg for gathering and scattering, shutdown, fcntl, getsockopt/setsockopt,
 * poll, epoll, eventfd), with the JDK 17 Linux implementation's states, checks and exceptions; the package
 * documentation lists what differs. Not provided: datagram channels (AF_VSOCK has no datagrams over
 * virtio), pipes, and the {@code socket()} adaptors of the channels (they throw
 * {@code UnsupportedOperationException}).
 */
public final class VsockSelectorProvider extends SelectorProvider {
    private final UserProcess process;

    private VsockSelectorProvider(UserProcess process) {
        this.process = Objects.requireNonNull(process, "process");
    }

    /** The provider whose channels and selectors are descriptors of {@code process}. */
    public static VsockSelectorProvider of(UserProcess process) {
        return new VsockSelectorProvider(process);
    }

    /** The provider of a new process on {@code machine}, named "nio" ({@code UserProcess.spawn(machine, "nio")}). */
    public static VsockSelectorProvider of(Machine machine) {
        return new VsockSelectorProvider(UserProcess.spawn(machine, "nio"));
    }

    /** The process whose descriptors this provider's channels and selectors are. */
    public UserProcess process() {
        return process;
    }

    /** A blocking, unconnected stream channel: socket(AF_VSOCK, SOCK_STREAM, 0). */
    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return new VsockSocketChannel(this);
    }

    /** A blocking, unbound server channel: socket(AF_VSOCK, SOCK_STREAM, 0), listened on at bind. */
    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return new VsockServerSocketChannel(this);
    }

    /** A selector on an epoll instance and an eventfd of the process. */
    @Override
    public AbstractSelector openSelector() throws IOException {
        return new VsockSelector(this);
    }

    /**
     * Not supported: AF_VSOCK over virtio has no datagram sockets (socket(AF_VSOCK, SOCK_DGRAM, 0) is
     * ENODEV on such a kernel).
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public DatagramChannel openDatagramChannel() {
        throw new UnsupportedOperationException("AF_VSOCK has no datagram sockets over virtio (SOCK_DGRAM is ENODEV)");
    }

    /**
     * Not supported, as {@link #openDatagramChannel()}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public DatagramChannel openDatagramChannel(java.net.ProtocolFamily family) {
        return openDatagramChannel();
    }

    /**
     * Not supported: the simulated process has no pipe(2), and a pipe of the JDK's default provider could not
     * be registered with this provider's selectors. A selector is woken with {@code Selector.wakeup()}, which
     * writes to the selector's own eventfd.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public Pipe openPipe() {
        throw new UnsupportedOperationException("no pipe(2) in a simulated process; use Selector.wakeup()");
    }
}
