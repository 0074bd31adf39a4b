package io.vsocksim.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Programs outside the JVM that some tests drive (socat, tshark) when the machine has them. A test
 * that needs one calls {@link #require}: without the program it is reported as skipped, and the
 * reason is printed, so a build log says what was not checked.
 */
public final class ExternalTool {
    private ExternalTool() {
    }

    /** The executable {@code name} found on {@code PATH}, or null. */
    public static Path onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The path of {@code name}; when it is not installed, prints {@code test: skipped, name is not
     * installed (what)} and aborts the test through a JUnit assumption.
     *
     * @param what what goes unchecked without it, and where it is checked instead
     */
    public static String require(String name, String what) {
        Path p = onPath(name);
        String reason = name + " is not installed (" + what + ")";
        if (p == null) {
            System.out.println("skipped: " + reason);
        }
        Assumptions.assumeTrue(p != null, reason);
        return p.toString();
    }
}
