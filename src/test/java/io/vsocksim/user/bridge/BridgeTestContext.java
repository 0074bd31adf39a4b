package io.vsocksim.user.bridge;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.GuestHostTestContext;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;

/**
 * A host and guest 3 on manual virtual clocks ({@link GuestHostTestContext}), a bridge at
 * {@code <dir>/vm.sock}, and helpers standing in for the external program with JDK Unix channels.
 * {@link #close()} closes the bridge, checks its threads ended and nothing stayed in it, then closes
 * the machines (which checks sockets and pages).
 */
final class BridgeTestContext implements AutoCloseable {
    static final int GUEST_CID = 3;
    /** The first host port Firecracker's muxer hands out. */
    static final int FIRST_HOST_PORT = 1 << 30;

    final GuestHostTestContext machines;
    final Guest guest;
    final Path path;
    final HybridVsock bridge;
    private final List<AutoCloseable> unix = new ArrayList<>();

    BridgeTestContext(LeakCheck leaks, Path dir) throws IOException, ErrnoException {
        machines = new GuestHostTestContext(leaks);
        guest = machines.guest(GUEST_CID);
        path = dir.resolve("vm.sock");
        bridge = HybridVsock.expose(guest, path);
    }

    /** A guest listener on {@code port} (any CID), tracked. */
    VsockSocket guestListen(int port) throws ErrnoException {
        VsockSocket l = machines.track(VsockSocket.open(guest, Sock.SOCK_STREAM));
        l.bind(VMADDR_CID_ANY, port);
        l.listen(16);
        return l;
    }

    /** A blocking Unix connection to the bridge, closed by {@link #close()}. */
    SocketChannel unixConnect() throws IOException {
        return unixTrack(SocketChannel.open(UnixDomainSocketAddress.of(path)));
    }

    /** {@code program} connected to the bridge (nothing written yet), ended by {@link #close()}. */
    ExternalProgram.Peer connect(ExternalProgram program) throws IOException {
        program.require();
        return unixTrack(program.connect(path));
    }

    /** {@code program} listening at {@code <path>_<port>}, ended by {@link #close()}. */
    ExternalProgram.Listener listen(ExternalProgram program, int port) throws IOException {
        program.require();
        return unixTrack(program.listen(HybridVsock.portPath(path, port)));
    }

    <T extends AutoCloseable> T unixTrack(T c) {
        unix.add(c);
        return c;
    }

    static void write(ByteChannel c, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** Reads up to and including a newline, or to end of stream; the bytes read as ASCII. */
    static String readLine(ByteChannel c) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (c.read(one.clear()) == 1) {
            sb.append((char) one.get(0));
            if (one.get(0) == '\n') {
                break;
            }
        }
        return sb.toString();
    }

    /** Reads until end of stream; what arrived as ASCII. */
    static String readAll(ByteChannel c) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (c.read(b.clear()) >= 0) {
            sb.append(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII));
        }
        return sb.toString();
    }

    /** Reads everything a guest socket receives until end of stream, as ASCII. */
    static String recvAll(VsockSocket s) throws ErrnoException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer b = ByteBuffer.allocate(4096);
        for (int n; (n = s.recv(b.clear(), 0)) > 0;) {
            sb.append(new String(b.array(), 0, n, StandardCharsets.US_ASCII));
        }
        return sb.toString();
    }

    /** Spins (yielding) until {@code cond} holds; the test's {@code @Timeout} bounds it. */
    static void await(BooleanSupplier cond) {
        while (!cond.getAsBoolean()) {
            Thread.yield();
        }
    }

    // ---- bulk transfer with checksums -----------------------------------------------------------------

    /** A sink or source's count and CRC-32 of the bytes, in order. */
    record Sum(long bytes, long crc) {
    }

    /** The CRC-32 of {@code bytes} bytes of the seeded stream {@link #fill} makes. */
    static Sum expected(long seed, long bytes) {
        CRC32 crc = new CRC32();
        Random r = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        for (long done = 0; done < bytes; done += chunk.length) {
            fill(r, chunk);
            crc.update(chunk, 0, (int) Math.min(chunk.length, bytes - done));
        }
        return new Sum(bytes, crc.getValue());
    }

    private static void fill(Random r, byte[] chunk) {
        r.nextBytes(chunk);
    }

    /** Where seeded bytes go, one buffer at a time (the buffer must be consumed whole). */
    interface Sink {
        void write(ByteBuffer b) throws Exception;
    }

    /** Where bytes come from: a read's count, {@code <= 0} at end of stream. */
    interface Source {
        int read(ByteBuffer b) throws Exception;
    }

    /** Writes {@code bytes} seeded bytes to {@code sink}; their sum. */
    static Sum sendSeeded(long seed, long bytes, Sink sink) throws Exception {
        Random r = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        CRC32 crc = new CRC32();
        for (long done = 0; done < bytes; done += chunk.length) {
            fill(r, chunk);
            ByteBuffer b = ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, bytes - done));
            crc.update(b.duplicate());
            sink.write(b);
        }
        return new Sum(bytes, crc.getValue());
    }

    /** Reads {@code source} to end of stream; the sum of what came. */
    static Sum recvSum(Source source) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        CRC32 crc = new CRC32();
        long total = 0;
        for (int n; (n = source.read(b.clear())) > 0;) {
            crc.update(b.array(), 0, n);
            total += n;
        }
        return new Sum(total, crc.getValue());
    }

    /** Reads a Unix channel to end of stream. */
    static Sum unixRecv(ByteChannel c) throws Exception {
        return recvSum(c::read);
    }

    /**
     * Both directions at once: {@code bytes} seeded bytes from the Unix side ({@code seed}) and from the
     * guest ({@code seed + 1}), each ended by a half-close, checked against their sums on arrival. Returns
     * the milliseconds it took (information only).
     */
    long exchange(ExternalProgram.Peer c, VsockSocket g, long seed, long bytes) throws Exception {
        long start = System.nanoTime();
        Future<Sum> toGuest = async(() -> {
            Sum s = sendSeeded(seed, bytes, b -> {
                while (b.hasRemaining()) {
                    c.write(b);
                }
            });
            c.shutdownOutput();
            return s;
        });
        Future<Sum> fromHost = async(() -> recvSum(b -> g.recv(b, 0)));
        Future<Sum> toHost = async(() -> {
            Sum s = sendSeeded(seed + 1, bytes, b -> {
                while (b.hasRemaining()) {
                    g.send(b, 0);
                }
            });
            g.shutdown(Sock.SHUT_WR);
            return s;
        });
        Sum fromGuest = unixRecv(c);
        assertThat(fromHost.get()).isEqualTo(toGuest.get()).isEqualTo(expected(seed, bytes));
        assertThat(fromGuest).isEqualTo(toHost.get()).isEqualTo(expected(seed + 1, bytes));
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** A Unix client and the guest's end of its connection. */
    record Connected(ExternalProgram.Peer unix, VsockSocket guest) {
    }

    /** {@link #connectFromHost(ExternalProgram, VsockSocket)} with a JDK client. */
    Connected connectFromHost(VsockSocket l) throws Exception {
        return connectFromHost(ExternalProgram.JDK, l);
    }

    /**
     * {@code program}, having written {@code CONNECT <port>\n} for the guest's listener {@code l}, and
     * the guest's accepted end (tracked), with the program's {@code OK} line read and checked.
     */
    Connected connectFromHost(ExternalProgram program, VsockSocket l) throws Exception {
        ExternalProgram.Peer c = connect(program);
        write(c, "CONNECT " + l.getsockname().port() + "\n");
        VsockSocket g = machines.track(l.accept());
        assertThat(readLine(c)).isEqualTo("OK " + FIRST_HOST_PORT + "\n");
        return new Connected(c, g);
    }

    /**
     * {@code program} listening on {@code <path>_<port>}, a guest socket (tracked) connected to
     * {@code (2, port)} through the bridge, and the program's accepted end, with the guest's peer address
     * checked.
     */
    Connected connectFromGuest(ExternalProgram program, int port) throws Exception {
        ExternalProgram.Listener server = listen(program, port);
        VsockSocket g = machines.track(VsockSocket.open(guest, Sock.SOCK_STREAM));
        g.connect(VmSockets.VMADDR_CID_HOST, port);
        assertThat(g.getpeername()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, port));
        return new Connected(unixTrack(server.accept()), g);
    }

    /** A socat peer must have exited on its own with status 0 once both directions ended; a JDK one has nothing to check. */
    static void assertExitedCleanly(ExternalProgram.Peer c) throws InterruptedException {
        if (c instanceof ExternalProgram.SocatPeer socat) {
            assertThat(socat.awaitExit()).as("socat's exit status; its log:%n%s", socat.log()).isZero();
        }
    }

    /** Runs {@code task} on the machines' pool. */
    <T> Future<T> async(java.util.concurrent.Callable<T> task) {
        return machines.pool.submit(task);
    }

    /** Bridge threads alive now. */
    static long bridgeThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("hybrid-vsock") && t.isAlive()).count();
    }

    @Override
    public void close() throws Exception {
        try {
            for (AutoCloseable c : unix) {
                c.close();
            }
            bridge.close();
            assertThat(bridgeThreads()).as("bridge threads after close").isZero();
            assertThat(bridge.connections()).isZero();
            assertThat(bridge.bufferedBytes()).isZero();
            assertThat(bridge.hostPortsInUse()).isZero();
            assertThat(bridge.pendingGuestRequests()).isZero();
            assertThat(path).doesNotExist();
        } finally {
            machines.close();
        }
    }
}
