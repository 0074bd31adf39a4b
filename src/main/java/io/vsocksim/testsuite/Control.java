package io.vsocksim.testsuite;

import io.vsocksim.Linux;

/**
 * The control channel between the two roles: vsock_test's line protocol ({@code control.c}). Lines
 * are ASCII without the newline; numbers travel as decimal text. Every read is bounded by
 * {@link #TIMEOUT_SECONDS} (timeout.h); expiry is a {@link TestFailure} ("recv timed out").
 */
@Linux(file = "tools/testing/vsock/control.c", fn = "control_writeln")
public interface Control extends AutoCloseable {
    /** {@code TIMEOUT} of timeout.h: 10 seconds. */
    int TIMEOUT_SECONDS = 10;

    /** control_writeln(). */
    void writeln(String line);

    /** control_readln(). */
    String readln();

    /** control_expectln(): the next line must be {@code expected}. */
    default void expectln(String expected) {
        String line = readln();
        if (!expected.equals(line)) {
            throw new TestFailure("expected \"" + expected + "\" on control socket, got \"" + line + "\"");
        }
    }

    /** control_writeulong(). */
    default void writeulong(long value) {
        writeln(Long.toUnsignedString(value));
    }

    /** control_readulong(). */
    default long readulong() {
        String line = readln();
        try {
            return Long.parseUnsignedLong(line);
        } catch (NumberFormatException e) {
            throw new TestFailure("malformed number on control socket: \"" + line + "\"");
        }
    }

    @Override
    void close();
}
