package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proof by a real program: {@link KeyValueServer} and {@link KeyValueClient}, written against java.net
 * alone, run unchanged over JDK TCP on 127.0.0.1, guest↔host over the simulated virtio path, and over
 * simulated loopback, with {@value #CLIENTS} clients at once; every run gives the same transcripts.
 */
class KeyValueProgramTest extends NetTestBase {
    private static final int CLIENTS = 4;

    private final ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);

    @AfterEach
    void stopClients() throws InterruptedException {
        clients.shutdownNow();
        clients.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** What client {@code id} must read, whatever carries it. */
    private static List<String> expectedTranscript(int id) {
        List<String> t = new ArrayList<>();
        for (int j = 0; j < KeyValueClient.PAIRS; j++) {
            t.add("OK");
            t.add("VALUE value " + id * j);
        }
        CRC32 crc = new CRC32();
        crc.update(KeyValueClient.blob(id));
        t.add("SUM " + Long.toHexString(crc.getValue()) + " " + KeyValueClient.BLOB_BYTES);
        t.add("MISSING");
        t.add("BYE");
        t.add("EOF");
        return t;
    }

    /**
     * Starts the server with {@code serverSide}'s sockets bound to {@code bindTo}, runs the clients
     * with {@code clientSide}'s against {@code reach.apply(port)}, stops the server, and returns each
     * client's transcript.
     */
    private List<List<String>> runProgram(KeyValueServer.Sockets serverSide, SocketAddress bindTo,
            KeyValueServer.Sockets clientSide, IntFunction<SocketAddress> reach) throws Exception {
        List<List<String>> transcripts = new ArrayList<>();
        try (KeyValueServer server = KeyValueServer.start(serverSide, bindTo)) {
            SocketAddress at = reach.apply(server.port());
            List<Future<List<String>>> runs = new ArrayList<>();
            for (int id = 0; id < CLIENTS; id++) {
                int client = id;
                runs.add(clients.submit(() -> KeyValueClient.run(clientSide, at, client)));
            }
            for (Future<List<String>> r : runs) {
                transcripts.add(r.get());
            }
            assertThat(KeyValueServer.endedByClose(server.stop())).as("the acceptor ended with 'Socket closed'").isTrue();
        }
        return transcripts;
    }

    private static List<List<String>> expected() {
        List<List<String>> all = new ArrayList<>();
        for (int id = 0; id < CLIENTS; id++) {
            all.add(expectedTranscript(id));
        }
        return all;
    }

    /** The sockets of a {@link VsockNet}, as the program sees them. */
    private static KeyValueServer.Sockets sockets(VsockNet net) {
        return new KeyValueServer.Sockets() {
            @Override
            public ServerSocket serverSocket() throws IOException {
                return net.serverSocket();
            }

            @Override
            public Socket socket() throws IOException {
                return net.socket();
            }
        };
    }

    @Test
    void shouldServeEveryClientOverJdkTcpLoopback() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        KeyValueServer.Sockets jdk = new KeyValueServer.Sockets() {
            @Override
            public ServerSocket serverSocket() throws IOException {
                return new ServerSocket();
            }

            @Override
            public Socket socket() {
                return new Socket();
            }
        };
        assertThat(runProgram(jdk, new InetSocketAddress(lo, 0), jdk, port -> new InetSocketAddress(lo, port)))
                .isEqualTo(expected());
    }

    @Test
    void shouldServeEveryClientFromGuestToHostOverVirtio() throws Exception {
        assertThat(runProgram(sockets(worlds.hostNet()), VsockAddress.ofAnyPort(), sockets(worlds.guestNet()),
                VsockAddress::ofHostPort)).isEqualTo(expected());
    }

    @Test
    void shouldServeEveryClientOverVsockLoopback() throws Exception {
        KeyValueServer.Sockets local = sockets(worlds.localNet());
        assertThat(runProgram(local, VsockAddress.ofAnyPort(), local, VsockAddress::ofLocalPort)).isEqualTo(expected());
    }
}
