package io.vsocksim.tools;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * The client role of three of the kernel's vsock_test stream tests, written as a program outside the
 * simulator would be (it stands in for one in another language): the control channel is a TCP
 * connection speaking vsock_test's line protocol (tools/testing/vsock/control.c, the NEXT/SKIP barrier of
 * util.c's {@code run_tests}), and its "vsock" connections go through a Firecracker-style bridge's Unix
 * socket ({@code CONNECT <port>\n}, {@code OK <host port>\n}). It uses JDK Unix-domain channels and a TCP
 * socket only: no class of the simulator.
 *
 * <p>The tests it runs are those whose client only connects, sends, receives and closes, so that a Unix
 * connection can stand for its vsock socket: 4 (multiple connections), 5 (MSG_PEEK) and 14 (virtio skb
 * merge), by their kernel IDs; it answers SKIP to every other test.
 */
final class ExternalVsockTestClient implements AutoCloseable {
    /** vsock_test's IDs and names of the tests this client runs. */
    static final Map<Integer, String> TESTS = Map.of(
            4, "SOCK_STREAM multiple connections",
            5, "SOCK_STREAM MSG_PEEK",
            14, "SOCK_STREAM virtio skb merge");
    /** Control reads time out as vsock_test's do (timeout.h, 10 s). */
    private static final int TIMEOUT_MS = 10_000;
    private static final int MULTICONN_NFDS = 100;
    private static final int MSG_PEEK_BUF_LEN = 64;

    private final Socket control;
    private final BufferedReader controlIn;
    private final OutputStream controlOut;
    private final Path uds;
    private final int peerPort;

    /**
     * Connects the control channel to {@code 127.0.0.1:controlPort}; data connections go through the bridge
     * at {@code uds} to the server's port {@code peerPort}.
     */
    ExternalVsockTestClient(int controlPort, Path uds, int peerPort) throws IOException {
        this.control = new Socket();
        control.connect(new InetSocketAddress("127.0.0.1", controlPort), TIMEOUT_MS);
        control.setSoTimeout(TIMEOUT_MS);
        this.controlIn = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.US_ASCII));
        this.controlOut = control.getOutputStream();
        this.uds = uds;
        this.peerPort = peerPort;
    }

    /**
     * Runs the suite's {@code tests} tests as the client role: the barrier for each (NEXT for the tests in
     * {@link #TESTS}, SKIP for the others), the client side of each test both roles run, then the closing
     * COMPLETED exchange.
     *
     * @throws IOException if the control channel or a data connection fails, or the server skips one of ours
     */
    void runAll(int tests) throws IOException {
        for (int id = 0; id < tests; id++) {
            boolean ours = TESTS.containsKey(id);
            writeln(ours ? "NEXT" : "SKIP");
            String server = readln();
            if (!ours) {
                continue;
            }
            if (!"NEXT".equals(server)) {
                throw new IOException("the server skipped test " + id + ": " + server);
            }
            switch (id) {
                case 4 -> multipleConnections();
                case 5 -> msgPeek();
                case 14 -> skbMerge();
                default -> throw new AssertionError(id);
            }
        }
        writeln("COMPLETED");
        expectln("COMPLETED");
    }

    /** 4: a hundred connections; the even ones send a byte, the odd ones receive one. */
    private void multipleConnections() throws IOException {
        SocketChannel[] fds = new SocketChannel[MULTICONN_NFDS];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = connect();
        }
        for (int i = 0; i < fds.length; i++) {
            if (i % 2 != 0) {
                recvExactly(fds[i], 1);
            } else {
                send(fds[i], new byte[] {'A'});
            }
        }
        for (SocketChannel c : fds) {
            c.close();
        }
    }

    /** 5: 64 random bytes, sent once the server has checked that a peek finds nothing yet. */
    private void msgPeek() throws IOException {
        try (SocketChannel c = connect()) {
            byte[] buf = new byte[MSG_PEEK_BUF_LEN];
            new Random().nextBytes(buf);
            expectln("SRVREADY");
            send(c, buf);
        }
    }

    /** 14: "HELLO", then "WORLD", each announced on the control channel and acknowledged. */
    private void skbMerge() throws IOException {
        try (SocketChannel c = connect()) {
            send(c, "HELLO".getBytes(StandardCharsets.US_ASCII));
            writeln("SEND0");
            expectln("REPLY0");
            send(c, "WORLD".getBytes(StandardCharsets.US_ASCII));
            writeln("SEND1");
            expectln("REPLY1");
        }
    }

    /** vsock_connect() through the bridge: wait for LISTENING, then CONNECT and its OK. */
    private SocketChannel connect() throws IOException {
        expectln("LISTENING");
        SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds));
        send(c, ("CONNECT " + peerPort + "\n").getBytes(StandardCharsets.US_ASCII));
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (c.read(one.clear()) == 1 && one.get(0) != '\n') {
            line.append((char) one.get(0));
        }
        if (!line.toString().matches("OK [0-9]+")) {
            c.close();
            throw new IOException("bridge answered \"" + line + "\" to CONNECT " + peerPort);
        }
        return c;
    }

    private static void send(SocketChannel c, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    private static void recvExactly(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("unexpected end of stream after " + b.position() + " of " + n + " bytes");
            }
        }
    }

    private void writeln(String line) throws IOException {
        controlOut.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        controlOut.flush();
    }

    private String readln() throws IOException {
        String line = controlIn.readLine();
        if (line == null) {
            throw new IOException("unexpected EOF on control socket");
        }
        return line;
    }

    private void expectln(String expected) throws IOException {
        String line = readln();
        if (!expected.equals(line)) {
            throw new IOException("expected \"" + expected + "\" on control socket, got \"" + line + "\"");
        }
    }

    @Override
    public void close() throws IOException {
        control.close();
    }
}
