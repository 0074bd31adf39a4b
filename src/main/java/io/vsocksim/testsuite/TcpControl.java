package io.vsocksim.testsuite;

import io.vsocksim.Linux;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The control channel over a real TCP connection, as the kernel's vsock_test does (control.c): the
 * server listens on the control port and accepts one connection, the client connects to it. Reads
 * time out after {@link #TIMEOUT_SECONDS}.
 */
@Linux(file = "tools/testing/vsock/control.c", fn = "control_init")
public final class TcpControl implements Control {
    private final Socket socket;
    private final BufferedReader reader;
    private final OutputStream writer;

    private TcpControl(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(TIMEOUT_SECONDS * 1000);
        this.reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        this.writer = socket.getOutputStream();
    }

    /** Server side: listen on {@code host:port}, accept one connection, close the listener. */
    public static TcpControl listen(String host, int port, java.io.PrintStream log) throws IOException {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(host, port), 1);
            log.println("Control socket listening on " + host + ":" + ss.getLocalPort());
            ss.setSoTimeout(TIMEOUT_SECONDS * 1000);
            Socket s = ss.accept();
            log.println("Control socket connection accepted...");
            return new TcpControl(s);
        }
    }

    /**
     * Both ends in one process: the server end listens on {@code host:port} (0 = any free port) and
     * accepts in a helper thread while the client end connects, as the two vsock_test processes would.
     * Returns {@code [client, server]}.
     */
    public static Control[] pair(String host, int port, java.io.PrintStream log) {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(host, port), 1);
            log.println("Control socket listening on " + host + ":" + ss.getLocalPort());
            ss.setSoTimeout(TIMEOUT_SECONDS * 1000);
            java.util.concurrent.CompletableFuture<Socket> accepted = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return ss.accept();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            TcpControl client = connect(host, ss.getLocalPort(), log);
            TcpControl server = new TcpControl(accepted.join());
            log.println("Control socket connection accepted...");
            return new Control[] {client, server};
        } catch (IOException | UncheckedIOException e) {
            throw new TestFailure("Control socket initialization failed.  Invalid address " + host + ":" + port + "?");
        }
    }

    /** The control channel over a connection accepted elsewhere (a server that waits without a timeout). */
    static TcpControl of(Socket accepted) throws IOException {
        return new TcpControl(accepted);
    }

    /** Client side: connect to {@code host:port}. */
    public static TcpControl connect(String host, int port, java.io.PrintStream log) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), TIMEOUT_SECONDS * 1000);
        log.println("Control socket connected to " + host + ":" + port + ".");
        return new TcpControl(s);
    }

    @Override
    public void writeln(String line) {
        try {
            writer.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String readln() {
        try {
            String line = reader.readLine();
            if (line == null) {
                throw new TestFailure("unexpected EOF on control socket");
            }
            return line;
        } catch (SocketTimeoutException e) {
            throw new TestFailure("recv timed out");
        } catch (IOException e) {
            throw new TestFailure("recv: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing a control connection that already failed
        }
    }
}
