package io.vsocksim.user.bridge;

import io.vsocksim.testing.ExternalTool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The program outside the JVM that talks to the bridge, played two ways: by JDK Unix-domain channels,
 * and by socat (1.7.4 here) whose standard input and output the test writes and reads, so that every
 * byte crosses a real separate process. A bridge test takes one as a parameter and runs the same
 * exchange with each; with socat missing, its rows are skipped with a printed reason.
 */
enum ExternalProgram {
    /** {@code SocketChannel}s of the JDK ({@code UnixDomainSocketAddress}). */
    JDK {
        @Override
        Peer connect(Path path) throws IOException {
            return new JdkPeer(SocketChannel.open(UnixDomainSocketAddress.of(path)));
        }

        @Override
        Listener listen(Path path) throws IOException {
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(path));
            return new Listener() {
                @Override
                public Peer accept() throws IOException {
                    return new JdkPeer(s.accept());
                }

                @Override
                public void close() throws IOException {
                    s.close();
                }
            };
        }
    },

    /**
     * {@code socat STDIO UNIX-CONNECT:PATH}, and {@code socat UNIX-LISTEN:PATH_P STDIO}, as Firecracker's
     * docs/vsock.md drives a microVM; {@code -t 60} lets one direction run on for up to a minute after the
     * other ended, instead of socat's default half second, and {@code shut-close} closes socat's standard
     * output when the socket's end of stream arrives, so the test reads a half-close as it happens.
     */
    SOCAT {
        @Override
        void require() {
            ExternalTool.require("socat", "the same exchange runs with the JDK's Unix channels");
        }

        @Override
        Peer connect(Path path) throws IOException {
            return SocatPeer.start(STDIO, "UNIX-CONNECT:" + path);
        }

        @Override
        Listener listen(Path path) throws IOException {
            SocatPeer p = SocatPeer.start("UNIX-LISTEN:" + path, STDIO);
            p.awaitListening();
            return new Listener() {
                @Override
                public Peer accept() {
                    return p; // socat accepts the one connection itself
                }

                @Override
                public void close() throws IOException {
                    p.close();
                }
            };
        }
    };

    /**
     * The program's end of one connection: bytes written go to the bridge, bytes read come from it
     * ({@code -1} at its end). Buffers must be heap buffers.
     */
    interface Peer extends ByteChannel {
        /** Ends what the program sends (SHUT_WR): the bridge reads end of stream. */
        void shutdownOutput() throws IOException;

        /** The program is gone without a goodbye: a JDK channel closed with bytes unread, socat killed. */
        void vanish() throws IOException;
    }

    /** A program listening on a Unix socket path, ready when {@link ExternalProgram#listen} returns. */
    interface Listener extends AutoCloseable {
        /** The next connection (blocking). */
        Peer accept() throws IOException;

        @Override
        void close() throws IOException;
    }

    /** Skips the test (JUnit assumption, reason printed) when the program is not installed. */
    void require() {
    }

    /** Connects to the bridge's socket at {@code path}. */
    abstract Peer connect(Path path) throws IOException;

    /** Listens at {@code path} (a guest-initiated connection's {@code <bridge path>_<port>}). */
    abstract Listener listen(Path path) throws IOException;

    private static final class JdkPeer implements Peer {
        private final SocketChannel c;

        JdkPeer(SocketChannel c) {
            this.c = c;
        }

        @Override
        public int read(ByteBuffer b) throws IOException {
            return c.read(b);
        }

        @Override
        public int write(ByteBuffer b) throws IOException {
            int n = b.remaining();
            while (b.hasRemaining()) {
                c.write(b);
            }
            return n;
        }

        @Override
        public void shutdownOutput() throws IOException {
            c.shutdownOutput();
        }

        @Override
        public void vanish() throws IOException {
            c.close();
        }

        @Override
        public boolean isOpen() {
            return c.isOpen();
        }

        @Override
        public void close() throws IOException {
            c.close();
        }
    }

    /** socat's side of its standard input and output. */
    private static final String STDIO = "STDIO,shut-close";

    /** A socat process between its standard input/output and a Unix socket; its log (-d -d) kept. */
    static final class SocatPeer implements Peer {
        private final Process p;
        private final InputStream in;
        private final OutputStream out;
        private final List<String> log = new ArrayList<>();
        private final CountDownLatch listening = new CountDownLatch(1);

        private SocatPeer(Process p) {
            this.p = p;
            this.in = p.getInputStream();
            this.out = p.getOutputStream();
            Thread logReader = new Thread(this::readLog, "socat-log");
            logReader.setDaemon(true);
            logReader.start();
        }

        static SocatPeer start(String first, String second) throws IOException {
            String socat = ExternalTool.onPath("socat").toString();
            return new SocatPeer(new ProcessBuilder(socat, "-d", "-d", "-t", "60", first, second).start());
        }

        /** Reads socat's notices until it exits; "listening on" comes once its listen() returned. */
        private void readLog() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null;) {
                    synchronized (log) {
                        log.add(line);
                    }
                    if (line.contains("listening on")) {
                        listening.countDown();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            } finally {
                listening.countDown();
            }
        }

        void awaitListening() throws IOException {
            try {
                listening.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (!p.isAlive() && p.exitValue() != 0) {
                throw new IOException("socat did not listen: " + log());
            }
        }

        /** socat's log so far. */
        String log() {
            synchronized (log) {
                return String.join("\n", log);
            }
        }

        /** Waits for socat to exit on its own (both directions ended); its exit status. */
        int awaitExit() throws InterruptedException {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("socat still running: " + log());
            }
            return p.exitValue();
        }

        @Override
        public int read(ByteBuffer b) throws IOException {
            int n = in.read(b.array(), b.arrayOffset() + b.position(), b.remaining());
            if (n > 0) {
                b.position(b.position() + n);
            }
            return n;
        }

        @Override
        public int write(ByteBuffer b) throws IOException {
            int n = b.remaining();
            out.write(b.array(), b.arrayOffset() + b.position(), n);
            out.flush();
            b.position(b.limit());
            return n;
        }

        @Override
        public void shutdownOutput() throws IOException {
            out.close(); // socat reads EOF on its standard input and shuts down the socket's sending side
        }

        @Override
        public void vanish() throws IOException {
            p.destroyForcibly();
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public boolean isOpen() {
            return p.isAlive();
        }

        /** Ends socat if it has not ended on its own. */
        @Override
        public void close() throws IOException {
            if (p.isAlive()) {
                vanish();
            }
            out.close();
            in.close();
        }
    }
}
