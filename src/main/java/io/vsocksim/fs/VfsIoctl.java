package io.vsocksim.fs;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;
import java.nio.IntBuffer;

/** ioctl(2) at the VFS (fs/ioctl.c): the commands answered for any file before the file's own ioctl. */
@Linux(file = "fs/ioctl.c", fn = "do_vfs_ioctl")
public final class VfsIoctl {
    /** The file's own ioctl ({@code vfs_ioctl} → {@code f_op->unlocked_ioctl}) for the other commands. */
    @FunctionalInterface
    public interface FileIoctl {
        long ioctl(OpenFile f, int cmd, IntBuffer argp);
    }

    private VfsIoctl() {}

    /**
     * ioctl(2) with an {@code int *} argument ({@code argp} null is a NULL pointer): EBADF for a closed
     * descriptor; FIOCLEX, FIONCLEX, FIONBIO ({@code ioctl_fionbio}), FIOASYNC ({@code ioctl_fioasync})
     * and FIOQSIZE (ENOTTY for what is not a regular file, directory or link) here; the rest to
     * {@code own}.
     */
    public static long ioctl(FdTable files, int fd, int cmd, IntBuffer argp, FileIoctl own) {
        OpenFile f = files.fget(fd);
        if (f == null) {
            return -Errno.EBADF;
        }
        try {
            switch (cmd) {
                case Fcntl.FIOCLEX:
                    return files.setCloseOnExec(fd, true);
                case Fcntl.FIONCLEX:
                    return files.setCloseOnExec(fd, false);
                case Fcntl.FIONBIO:
                case Fcntl.FIOASYNC: {
                    if (argp == null || argp.remaining() < 1) {
                        return -Errno.EFAULT;
                    }
                    int bit = cmd == Fcntl.FIONBIO ? Fcntl.O_NONBLOCK : Fcntl.O_ASYNC;
                    int flags = f.fileFlags() & Fcntl.SETFL_MASK;
                    f.setStatusFlags(argp.get(argp.position()) != 0 ? flags | bit : flags & ~bit);
                    return 0;
                }
                case Fcntl.FIOQSIZE:
                    return -Errno.ENOTTY;
                default:
                    return own.ioctl(f, cmd, argp);
            }
        } finally {
            f.putFile();
        }
    }
}
