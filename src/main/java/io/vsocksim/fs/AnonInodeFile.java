package io.vsocksim.fs;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;

/**
 * A file with no inode of its own ({@code anon_inode_getfile}): an epoll instance or an eventfd. It holds
 * the reference count ({@code f_count}) and the status flags every such file has; it has no ioctl of its
 * own (ENOTTY from {@code vfs_ioctl}), and the last reference runs {@link #release()}.
 */
@Linux(file = "fs/anon_inodes.c", fn = "anon_inode_getfile")
abstract class AnonInodeFile implements OpenFile {
    private final FileCount count = new FileCount();
    private volatile int statusFlags;

    /** A file with one reference (the descriptor's) and the status flags of {@code flags}. */
    AnonInodeFile(int flags) {
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
        return Fcntl.O_RDWR | statusFlags;
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
