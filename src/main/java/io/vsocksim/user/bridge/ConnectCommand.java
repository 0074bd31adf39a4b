package io.vsocksim.user.bridge;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The host's {@code CONNECT <port>\n} line, read and parsed by the rules of Firecracker's
 * {@code read_local_stream_port} (Firecracker {@code unix/muxer.rs}): at most {@value #MAX_LINE} bytes
 * including the newline, valid UTF-8, split on white space; the first word is {@code connect} in any
 * case, the second a decimal u32 (an optional {@code +}, no sign otherwise); further words are ignored.
 *
 * <p>Differences: Firecracker reads the line with blocking reads on its event loop thread (a client that
 * sends half a line stalls every connection of the VM), and when 32 bytes come without a newline it parses
 * them anyway. Here the line is collected without blocking, and 32 bytes without a newline are an
 * oversized line: the connection is closed.
 */
final class ConnectCommand {
    /** Firecracker's command buffer: {@code let mut buf = [0u8; 32]}. */
    static final int MAX_LINE = 32;

    /** What reading the line has come to so far. */
    enum State { INCOMPLETE, PORT, MALFORMED, OVERSIZED }

    private final ByteBuffer line = ByteBuffer.allocate(MAX_LINE);
    private State state = State.INCOMPLETE;
    private long port = -1;
    private byte[] leftover = new byte[0];

    /** The buffer the next read fills (never past {@value #MAX_LINE} bytes in all). */
    ByteBuffer buffer() {
        return line;
    }

    /** Looks at what has been read so far; call after each read that returned bytes. */
    State scan() {
        for (int i = 0; i < line.position(); i++) {
            if (line.get(i) == '\n') {
                port = parse(line.array(), i);
                state = port < 0 ? State.MALFORMED : State.PORT;
                leftover = java.util.Arrays.copyOfRange(line.array(), i + 1, line.position());
                return state;
            }
        }
        state = line.hasRemaining() ? State.INCOMPLETE : State.OVERSIZED;
        return state;
    }

    /** The port, once {@link #scan} said {@link State#PORT}: a u32 in an int. */
    int port() {
        return (int) port;
    }

    /** Bytes the client sent after the newline in the same reads: the first bytes for the guest. */
    byte[] leftover() {
        return leftover;
    }

    /** The port of the {@code len}-byte line in {@code b} (without its newline), or -1 if malformed. */
    static long parse(byte[] b, int len) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 0, len)).toString();
        } catch (CharacterCodingException e) {
            return -1;
        }
        String[] words = text.strip().split("\\s+");
        if (words.length < 2 || !"connect".equals(words[0].toLowerCase(Locale.ROOT))) {
            return -1;
        }
        try {
            return Integer.toUnsignedLong(Integer.parseUnsignedInt(words[1]));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
