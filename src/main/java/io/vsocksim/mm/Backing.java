package io.vsocksim.mm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps the bytes behind a machine's memory as private, copy-on-write memory over an empty sparse file,
 * deleted as soon as it is mapped: a page reads as zeroes until it is written, and only a written page
 * becomes memory of the JVM's own (anonymous, as a VMM's {@code MAP_PRIVATE | MAP_ANONYMOUS} guest
 * RAM), freed when the mapping goes (the JDK unmaps it when the buffer is collected). The file never
 * gets a block: writes to a private mapping never reach it, so neither the disk nor a small
 * {@code /dev/shm} can run out under it. The JDK has no anonymous mapping; this is the nearest.
 */
final class Backing {
    private static final Logger log = LoggerFactory.getLogger(Backing.class);
    private static final Path DIR = Path.of(System.getProperty("java.io.tmpdir"));

    private Backing() {
    }

    /** A page-aligned mapping of {@code bytes} zero bytes, or null if none can be made. */
    static ByteBuffer map(long bytes) {
        Path f = null;
        try {
            f = Files.createTempFile(DIR, "vsocksim-mem-", ".ram");
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return ch.map(FileChannel.MapMode.PRIVATE, 0, bytes); // sets the file's size, allocates nothing
            }
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("cannot map memory in {} ({}): falling back to direct buffers", DIR, e.toString());
            return null;
        } finally {
            if (f != null) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    log.debug("cannot delete {}: {}", f, e.toString());
                }
            }
        }
    }
}
