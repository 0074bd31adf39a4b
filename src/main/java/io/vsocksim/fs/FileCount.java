package io.vsocksim.fs;

import io.vsocksim.Linux;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A file's {@code f_count}: one reference per descriptor and per call in progress. It starts at 1 (the
 * reference its creator hands to the descriptor table) and the file is released by whoever drops the
 * last; once it has reached 0 no one can take a new one, so a lookup racing with the last close fails
 * instead of reviving the file.
 */
public final class FileCount {
    private static final AtomicIntegerFieldUpdater<FileCount> REFS =
            AtomicIntegerFieldUpdater.newUpdater(FileCount.class, "refs");
    private volatile int refs = 1;

    /**
     * {@code atomic_long_inc_not_zero(&file->f_count)}, as {@code __fget_files_rcu} ({@link FdTable#fget})
     * takes it: one more reference, false if the last is gone.
     */
    public boolean tryGet() {
        for (;;) {
            int r = refs;
            if (r == 0) {
                return false;
            }
            if (REFS.compareAndSet(this, r, r + 1)) {
                return true;
            }
        }
    }

    /** {@code fput}: drops one reference; true if it was the last, and the caller releases the file. */
    @Linux(file = "fs/file_table.c", fn = "fput")
    public boolean put() {
        return REFS.decrementAndGet(this) == 0;
    }
}
