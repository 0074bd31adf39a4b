package io.vsocksim.user;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The client of {@link KeyValueServer}, java.net alone: one connection, a fixed script of requests
 * derived from its number, and the transcript of the server's answers.
 */
final class KeyValueClient {
    /** PUT/GET pairs per client. */
    static final int PAIRS = 10;
    /** Size of the BLOB each client sends: several 64-KiB vsock packets, more than a TCP segment. */
    static final int BLOB_BYTES = 200_000;

    private KeyValueClient() {
    }

    /** The bytes client {@code id} sends as its BLOB. */
    static byte[] blob(int id) {
        byte[] b = new byte[BLOB_BYTES];
        new Random(id).nextBytes(b);
        return b;
    }

    /** Connects to {@code server}, runs client {@code id}'s script and returns the answers in order. */
    static List<String> run(KeyValueServer.Sockets sockets, SocketAddress server, int id) throws IOException {
        List<String> answers = new ArrayList<>();
        try (Socket s = sockets.socket()) {
            s.connect(server, 5_000);
            s.setSoTimeout(30_000); // a safety net: a lost answer fails the client, never hangs it
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int j = 0; j < PAIRS; j++) {
                answers.add(ask(in, out, "PUT k" + id + "-" + j + " value " + id * j));
                answers.add(ask(in, out, "GET k" + id + "-" + j));
            }
            KeyValueServer.writeLine(out, "BLOB " + BLOB_BYTES);
            out.write(blob(id));
            answers.add(KeyValueServer.readLine(in));
            answers.add(ask(in, out, "GET nothing-" + id));
            answers.add(ask(in, out, "QUIT"));
            answers.add(in.read() == -1 ? "EOF" : "more data after BYE");
        }
        return answers;
    }

    private static String ask(InputStream in, OutputStream out, String request) throws IOException {
        KeyValueServer.writeLine(out, request);
        return KeyValueServer.readLine(in);
    }
}
