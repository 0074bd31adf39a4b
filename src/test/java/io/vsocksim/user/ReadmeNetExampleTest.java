package io.vsocksim.user;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's java.net and NIO examples, line for line, so the README stays true. */
class ReadmeNetExampleTest {
    @Test
    @Timeout(30)
    void shouldRunTheReadmeJavaNetExample() throws Exception {
        String got;
        // ---- the README snippet, unchanged but for keeping the line ----
        try (Host host = Host.virtualTime("host")) {
            Guest guest = host.startGuest(3);
            try (VsockNet hostNet = VsockNet.of(host); VsockNet guestNet = VsockNet.of(guest);
                 ServerSocket server = hostNet.serverSocket(1234);                      // any CID, port 1234
                 Socket client = guestNet.socket(VsockAddress.ofHostPort(1234));        // vsock://2:1234
                 Socket conn = server.accept()) {
                client.getOutputStream().write("hello\n".getBytes(US_ASCII));
                conn.setSoTimeout(1000);                                               // else "Read timed out"
                String line = new BufferedReader(new InputStreamReader(conn.getInputStream(), US_ASCII)).readLine();
                got = line;
            }
        }
        assertThat(got).isEqualTo("hello");
    }

    @Test
    @Timeout(30)
    void shouldRunTheReadmeNioExample() throws Exception {
        int selected;
        boolean connected;
        try (Host host = Host.virtualTime("host"); VsockNet hostNet = VsockNet.of(host);
             ServerSocket server = hostNet.serverSocket(1234)) {
            Guest guest = host.startGuest(3);
            // ---- the README snippet, unchanged but for keeping the results ----
            SelectorProvider nio = VsockNet.of(guest).selectorProvider();
            try (Selector sel = nio.openSelector(); SocketChannel ch = nio.openSocketChannel()) {
                ch.configureBlocking(false);
                ch.connect(VsockAddress.ofHostPort(1234));                // false: OP_CONNECT, then finishConnect()
                ch.register(sel, SelectionKey.OP_CONNECT);
                selected = sel.select(1000);                                          // the host's listener answered
                connected = ch.finishConnect();
            }
        }
        assertThat(selected).isEqualTo(1);
        assertThat(connected).isTrue();
    }
}
