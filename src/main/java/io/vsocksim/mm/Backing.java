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
 * Maps the bytes behind a machine's memory as private, copy-on-write memory over one empty sparse
 * file, unlinked as soon as it is opened and kept open for the JVM's life: a page reads as zeroes until
 * it is written, and only a written page becomes memory of the JVM's own (anonymous, as a VMM's
 * {@code MAP_PRIVATE | MAP_ANONYMOUS} guest RAM), freed when the mapping goes (the JDK unmaps it when
 * the buffer is collected). Every memory maps the same file from offset 0: writes to a private mapping
 * never reach the file, so it never gets a block, the memories never see each other's bytes, and the
 * zero pages the host kernel reads for its holes are shared by all of them. The JDK has no anonymous
 * mapping; this is the nearest.
 */
final class Backing {
    private static final Logger log = LoggerFactory.getLogger(Backing.class);
    private static final Path DIR = Path.of(System.getProperty("java.io.tmpdir"));
    /** The one file every mapping is of; null until first used, or if it could not be made. */
    private static FileChannel file;
    private static boolean failed;

    private Backing() {
    }

    /** A page-aligned mapping of {@code bytes} zero bytes, or null if none can be made. */
    static synchronized ByteBuffer map(long bytes) {
        if (failed) {
            return null;
        }
        try {
            if (file == null) {
                file = open();
            }
            return file.map(FileChannel.MapMode.PRIVATE, 0, bytes); // may grow the file's size, never its blocks
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("cannot map memory in {} ({}): falling back to direct buffers", DIR, e.toString());
            failed = true;
            return null;
        }
    }

    private static FileChannel open() throws IOException {
        Path f = DIR.resolve("vsocksim-mem-" + ProcessHandle.current().pid() + ".ram");
        Files.deleteIfExists(f); // left by a JVM of the same pid that died between create and delete
        FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        Files.delete(f); // the open channel keeps it; nothing is left behind whatever happens next
        return ch;
    }
}
