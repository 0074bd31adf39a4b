package io.vsocksim.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * One {@code vsocksim} command line run in this JVM through {@link Main#run}: its exit status and what
 * it wrote to each stream.
 *
 * @param status the exit status
 * @param out what it wrote to standard output
 * @param err what it wrote to standard error
 */
public record CliRun(int status, String out, String err) {
    /** Runs {@code args} (the subcommand first) and captures both streams. */
    public static CliRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The first line written to standard error (empty if none). */
    public String errFirstLine() {
        return err.lines().findFirst().orElse("");
    }
}
