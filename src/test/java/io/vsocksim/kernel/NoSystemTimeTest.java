package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Style guide §6.7: only {@link RealClock} may read system time; nothing in src/main sleeps. */
class NoSystemTimeTest {
    private static final Pattern FORBIDDEN = Pattern.compile(
            "System\\s*\\.\\s*(nanoTime|currentTimeMillis)\\s*\\(|Instant\\s*\\.\\s*now\\s*\\(|Thread\\s*\\.\\s*sleep\\s*\\("
                    + "|LocalDateTime\\s*\\.\\s*now\\s*\\(|java\\.time\\.Clock");

    @Test
    void shouldReadSystemTimeOnlyInRealClockWhenScanningMainSources() throws IOException {
        Path main = Path.of("src/main/java");
        assertThat(main).isDirectory();
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                if (f.endsWith(Path.of("io/vsocksim/kernel/RealClock.java"))) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (FORBIDDEN.matcher(lines.get(i)).find()) {
                        offenders.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertThat(offenders).isEmpty();
    }
}
