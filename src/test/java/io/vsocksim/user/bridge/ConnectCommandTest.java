package io.vsocksim.user.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Firecracker's read_local_stream_port rules, line by line (a '|' stands for the newline). */
class ConnectCommandTest {
    private static ConnectCommand fed(String text) {
        ConnectCommand c = new ConnectCommand();
        byte[] b = text.replace('|', '\n').getBytes(StandardCharsets.UTF_8);
        c.buffer().put(b, 0, Math.min(b.length, c.buffer().remaining()));
        return c;
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "CONNECT 52|; PORT; 52; ''",
        "connect 52|; PORT; 52; ''",
        "CoNnEcT 52|; PORT; 52; ''",
        "CONNECT +52|; PORT; 52; ''",
        "CONNECT 4294967295|; PORT; 4294967295; ''",
        "'  CONNECT   7 extra words|'; PORT; 7; ''",
        "CONNECT 52|hello; PORT; 52; hello",
        "CONNECT 52; INCOMPLETE; -1; ''",
        "CONNECT 4294967296|; MALFORMED; -1; ''",
        "CONNECT -1|; MALFORMED; -1; ''",
        "CONNECT|; MALFORMED; -1; ''",
        "LISTEN 52|; MALFORMED; -1; ''",
        "CONNECT 0x10|; MALFORMED; -1; ''",
        "|; MALFORMED; -1; ''",
        "'CONNECT 52                      '; OVERSIZED; -1; ''",
    })
    void shouldReadTheLineAsFirecrackerDoes(String text, ConnectCommand.State state, long port, String leftover) {
        ConnectCommand c = fed(text);
        assertThat(c.scan()).isEqualTo(state);
        if (state == ConnectCommand.State.PORT) {
            assertThat(Integer.toUnsignedLong(c.port())).isEqualTo(port);
            assertThat(new String(c.leftover(), StandardCharsets.UTF_8)).isEqualTo(leftover);
        }
    }
}
