package io.vsocksim.fs;

import io.vsocksim.Linux;
import io.vsocksim.kernel.WaitQueueHead;
import io.vsocksim.uapi.Errno;
import java.nio.ByteBuffer;
import java.util.function.IntConsumer;

/**
 * What a descriptor refers to ({@code struct file}): a reference count that keeps the object alive
 * while a descriptor or a call in progress holds it, and the file status flags that every descriptor
 * sharing it sees ({@code f_flags}): a socket ({@code io.vsocksim.net.SocketFile}), an epoll instance,
 * an eventfd or one end of a pipe.
 */
@Linux(file = "include/linux/fs.h", fn = "struct file")
public interface OpenFile {
    /**
     * {@code get_file}/{@code fget}: one more reference, false if the last one is already gone (the
     * file is being released).
     */
    boolean tryGetFile();

    /** {@code fput}: drops one reference; the last one releases the file. */
    void putFile();

    /** {@code f_flags}: the access mode and the status flags ({@code O_NONBLOCK}, {@code O_APPEND}, ...). */
    int fileFlags();

    /** Replaces the flags in {@code Fcntl.SETFL_MASK} with those of {@code flags} ({@code setfl}). */
    void setStatusFlags(int flags);

    /**
     * The file's own ioctl, for commands the VFS does not answer itself ({@code vfs_ioctl} →
     * {@code f_op->unlocked_ioctl}); {@code arg} as the caller passed it. Returns the result or {@code -errno}.
     */
    long fileIoctl(int cmd, long arg);

    /** {@code f_op->poll} without waiting: the events ready now ({@code Poll} bits). */
    int filePoll();

    /** The wait queue {@code f_op->poll} registers a poller on ({@code poll_wait}). */
    WaitQueueHead fileWaitQueue();

    /**
     * {@code f_op->read_iter} for read(2): bytes read into {@code dst} (its position moves) or
     * {@code -errno}. A file without one fails with EINVAL ({@code FMODE_CAN_READ} unset in
     * {@code vfs_read}); sockets are read by the process's socket calls, not here.
     */
    @Linux(file = "fs/read_write.c", fn = "vfs_read")
    default long fileRead(ByteBuffer dst) {
        return -Errno.EINVAL;
    }

    /** {@code f_op->write_iter} for write(2), as {@link #fileRead}: EINVAL where the file has none. */
    @Linux(file = "fs/read_write.c", fn = "vfs_write")
    default long fileWrite(ByteBuffer src) {
        return -Errno.EINVAL;
    }

    /**
     * {@link #fileWrite(ByteBuffer)} by a task the file may signal: {@code sendSig} takes the signal the
     * write raises on the caller ({@code send_sig(sig, current, 0)}: a pipe's SIGPIPE). Only pipes do.
     */
    default long fileWrite(ByteBuffer src, IntConsumer sendSig) {
        return fileWrite(src);
    }
}
