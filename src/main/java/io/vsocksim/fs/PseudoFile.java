package io.vsocksim.fs;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;

/**
 * A file on an internal mount, with no path ({@code alloc_file_pseudo}): an anonymous-inode file (epoll,
 * eventfd) or one end of a pipe. It holds the reference count ({@code f_count}), the access mode it was
 * opened with and the status flags; it has no ioctl of its own (ENOTTY from {@code vfs_ioctl}), and the
 * last reference runs {@link #release()}.
 */
@Linux(file = "fs/file_table.c", fn = "alloc_file_pseudo")
abstract class PseudoFile implements OpenFile {
    private final FileCount count = new FileCount();
    private final int accessMode;
    private volatile int statusFlags;

    /** A file with one reference (the descriptor's), {@code accessMode} and the status flags of {@code flags}. */
    PseudoFile(int accessMode, int flags) {
        this.accessMode = accessMode & Fcntl.O_ACCMODE;
        this.statusFlags = flags & Fcntl.SETFL_MASK;
    }

    /** {@code f_op->release}: the last reference is gone. */
    abstract void release();

    @Override
    public final boolean tryGetFile() {
        return count.tryGet();
    }

    @Override
    public final void putFile() {
        if (count.put()) {
            release();
        }
    }

    @Override
    public final int fileFlags() {
        return accessMode | statusFlags;
    }

    @Override
    public final void setStatusFlags(int flags) {
        statusFlags = flags & Fcntl.SETFL_MASK;
    }

    /** True if the file is O_NONBLOCK. */
    final boolean nonBlocking() {
        return (statusFlags & Fcntl.O_NONBLOCK) != 0;
    }

    @Override
    public long fileIoctl(int cmd, long arg) {
        return -Errno.ENOTTY;
    }
}
