package io.vsocksim.user;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * A small key-value server written against java.net alone: the program that proves the vsock face.
 * It knows nothing of vsock; its sockets come from a {@link Sockets} and its address is a
 * {@link SocketAddress}.
 *
 * <p>Protocol, one request a line (UTF-8, {@code \n}), one response line each:
 * <pre>
 *   PUT key value   → OK
 *   GET key         → VALUE value | MISSING
 *   BLOB n          followed by n raw bytes → SUM crc32-hex n
 *   QUIT            → BYE, and the server closes the connection
 * </pre>
 * An acceptor thread hands each connection to a pool of {@value #WORKERS} threads; {@link #close()}
 * closes the listener, which ends the blocked accept, and waits for the workers.
 */
final class KeyValueServer implements AutoCloseable {
    /** Where the program gets its sockets: the one thing that differs between TCP and vsock. */
    interface Sockets {
        /** An unbound server socket. */
        ServerSocket serverSocket() throws IOException;

        /** An unconnected socket. */
        Socket socket() throws IOException;
    }

    /** Worker threads serving connections. */
    static final int WORKERS = 4;

    private final ServerSocket listener;
    private final ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
    private final Thread acceptor;
    private final Map<String, String> store = new ConcurrentHashMap<>();
    private volatile IOException acceptEnd;

    private KeyValueServer(ServerSocket listener) {
        this.listener = listener;
        this.acceptor = new Thread(this::acceptLoop, "kv-acceptor");
    }

    /** Binds to {@code bindTo} and starts serving. */
    static KeyValueServer start(Sockets sockets, SocketAddress bindTo) throws IOException {
        ServerSocket l = sockets.serverSocket();
        l.bind(bindTo, 16);
        KeyValueServer s = new KeyValueServer(l);
        s.acceptor.start();
        return s;
    }

    /** The port the server listens on. */
    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        try {
            for (;;) {
                Socket c = listener.accept();
                workers.execute(() -> serve(c));
            }
        } catch (IOException e) {
            acceptEnd = e; // close() ends the accept with "Socket closed"
        }
    }

    private void serve(Socket c) {
        try (c) {
            InputStream in = new BufferedInputStream(c.getInputStream());
            OutputStream out = c.getOutputStream();
            for (String line; (line = readLine(in)) != null; ) {
                String[] w = line.split(" ", 3);
                switch (w[0]) {
                    case "PUT":
                        store.put(w[1], w[2]);
                        writeLine(out, "OK");
                        break;
                    case "GET":
                        String v = store.get(w[1]);
                        writeLine(out, v == null ? "MISSING" : "VALUE " + v);
                        break;
                    case "BLOB":
                        byte[] blob = in.readNBytes(Integer.parseInt(w[1]));
                        CRC32 crc = new CRC32();
                        crc.update(blob);
                        writeLine(out, "SUM " + Long.toHexString(crc.getValue()) + " " + blob.length);
                        break;
                    case "QUIT":
                        writeLine(out, "BYE");
                        return;
                    default:
                        writeLine(out, "ERROR " + w[0]);
                }
            }
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    /** One line without its {@code \n}, or null at the end of the stream. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                if (b.size() == 0) {
                    return null;
                }
                throw new EOFException("end of stream inside a line");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** Writes {@code line} and {@code \n} in one write. */
    static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Stops accepting, lets the connections being served finish, and returns how accept ended. */
    IOException stop() throws IOException, InterruptedException {
        listener.close();
        acceptor.join();
        workers.shutdown();
        if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("connections still served after 30 s");
        }
        return acceptEnd;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        workers.shutdownNow();
    }

    /** The exception the acceptor ended with, for the caller to check it is the JDK's "Socket closed". */
    static boolean endedByClose(IOException e) {
        return e instanceof SocketException && "Socket closed".equals(e.getMessage());
    }
}
