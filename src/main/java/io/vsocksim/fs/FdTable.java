package io.vsocksim.fs;

import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EMFILE;
import static io.vsocksim.uapi.Fcntl.FD_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.O_CLOEXEC;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.uapi.Fcntl;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A process's descriptor table ({@code struct files_struct} with its {@code fdtable}): which file
 * each descriptor number refers to and its close-on-exec flag. Numbers are handed out lowest first;
 * a descriptor holds one reference on its file, and a file lives until its last reference goes, which
 * may be a call still running on another thread after the descriptor was closed ({@link #fget}).
 *
 * <p>Methods return the kernel's values: a descriptor or 0 on success, {@code -errno} on failure.
 * Several threads may use one table at once; one lock ({@code file_lock}) guards every change, never
 * held while a file is released. {@link #fget}, which every call makes, takes no lock (the kernel's
 * RCU lookup): it takes a reference and then checks that the slot still holds the file.
 */
@Linux(file = "include/linux/fdtable.h", fn = "struct files_struct")
public final class FdTable {
    private final ReentrantLock lock = new Mutex();
    // Guarded by lock.
    /** Replaced whole when it grows; slots are published with release stores for {@link #fget}. */
    private volatile OpenFile[] fd = new OpenFile[64];
    private boolean[] closeOnExec = new boolean[64];
    /** {@code next_fd}: no descriptor below it is free. */
    private int nextFd;
    private int rlimitNofile = Fcntl.RLIMIT_NOFILE_DEFAULT;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(OpenFile[].class);

    /** An empty table with the default {@code RLIMIT_NOFILE} (1024). */
    public FdTable() {
    }

    /** {@code dup_fd} for fork: the child's table refers to the same files (one more reference each). */
    @Linux(file = "fs/file.c", fn = "dup_fd")
    public FdTable fork() {
        FdTable child = new FdTable();
        lock.lock();
        try {
            child.fd = new OpenFile[fd.length];
            child.closeOnExec = Arrays.copyOf(closeOnExec, closeOnExec.length);
            child.rlimitNofile = rlimitNofile;
            child.nextFd = nextFd;
            for (int i = 0; i < fd.length; i++) {
                OpenFile f = fd[i];
                if (f != null && f.tryGetFile()) {
                    child.fd[i] = f;
                } else {
                    child.closeOnExec[i] = false;
                }
            }
        } finally {
            lock.unlock();
        }
        return child;
    }

    /** {@code RLIMIT_NOFILE} soft limit: descriptors are below it. */
    public int rlimitNofile() {
        return rlimitNofile;
    }

    /** setrlimit(RLIMIT_NOFILE): open descriptors above the new limit stay open, as in Linux. */
    public int setRlimitNofile(int limit) {
        if (limit < 0) {
            return -EINVAL;
        }
        lock.lock();
        try {
            rlimitNofile = limit;
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Installs a new file at the lowest free descriptor, taking over the caller's reference; with
     * {@code O_CLOEXEC} in {@code flags} it is close-on-exec. Returns the descriptor or
     * {@code -EMFILE} (the caller keeps its reference then).
     */
    @Linux(file = "fs/file.c", fn = "get_unused_fd_flags")
    @Linux(file = "fs/file.c", fn = "fd_install")
    public int install(OpenFile f, int flags) {
        lock.lock();
        try {
            int n = allocFdLocked(0);
            if (n >= 0) {
                setLocked(n, f, (flags & O_CLOEXEC) != 0);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code fget}: the file at {@code n} with one more reference for a call, or null (EBADF). The
     * caller drops it with {@link OpenFile#putFile()} when the call ends, so closing the descriptor
     * meanwhile does not release the file under the call.
     */
    @Linux(file = "fs/file.c", fn = "__fget_files_rcu")
    public OpenFile fget(int n) {
        // Without the table lock, as the kernel's RCU lookup: every call of a process passes here,
        // and its threads must not queue behind each other for it.
        for (;;) {
            OpenFile[] table = fd;
            if (n < 0 || n >= table.length) {
                return null;
            }
            OpenFile f = (OpenFile) SLOT.getAcquire(table, n); // paired with setRelease in setLocked/clearLocked
            if (f == null) {
                return null;
            }
            if (!f.tryGetFile()) {
                continue; // its last reference is gone, so its slot was cleared before: look again
            }
            if (fd == table && SLOT.getAcquire(table, n) == f) {
                return f;
            }
            f.putFile(); // closed or replaced (dup2) meanwhile, or the table grew: not ours to return
        }
    }

    /** close(2): 0, or {@code -EBADF}. The file goes when its last reference does. */
    @Linux(file = "fs/file.c", fn = "close_fd")
    public int close(int n) {
        OpenFile f;
        lock.lock();
        try {
            f = lookupLocked(n);
            if (f == null) {
                return -EBADF;
            }
            clearLocked(n);
        } finally {
            lock.unlock();
        }
        f.putFile(); // filp_close → fput, outside the table lock
        return 0;
    }

    /** dup(2): the lowest free descriptor now refers to {@code oldfd}'s file (not close-on-exec). */
    @Linux(file = "fs/file.c", fn = "sys_dup")
    public int dup(int oldfd) {
        return dupFrom(oldfd, 0, 0);
    }

    /** dup2(2): {@code newfd == oldfd} returns {@code oldfd} if it is open, else EBADF; else dup3 with no flags. */
    @Linux(file = "fs/file.c", fn = "sys_dup2")
    public int dup2(int oldfd, int newfd) {
        if (newfd == oldfd) {
            lock.lock();
            try {
                return lookupLocked(oldfd) == null ? -EBADF : oldfd;
            } finally {
                lock.unlock();
            }
        }
        return dup3(oldfd, newfd, 0);
    }

    /**
     * dup3(2): {@code newfd} refers to {@code oldfd}'s file, closing what it referred to before.
     * EINVAL for flags other than O_CLOEXEC or {@code newfd == oldfd}; EBADF for a closed
     * {@code oldfd} or a {@code newfd} at or above the limit.
     */
    @Linux(file = "fs/file.c", fn = "ksys_dup3")
    @Linux(file = "fs/file.c", fn = "do_dup2")
    public int dup3(int oldfd, int newfd, int flags) {
        if ((flags & ~O_CLOEXEC) != 0 || oldfd == newfd) {
            return -EINVAL;
        }
        OpenFile replaced;
        lock.lock();
        try {
            if (newfd < 0 || newfd >= rlimitNofile) {
                return -EBADF;
            }
            OpenFile f = lookupLocked(oldfd);
            if (f == null || !f.tryGetFile()) {
                return -EBADF;
            }
            ensureLocked(newfd);
            replaced = fd[newfd];
            setLocked(newfd, f, (flags & O_CLOEXEC) != 0);
        } finally {
            lock.unlock();
        }
        if (replaced != null) {
            replaced.putFile();
        }
        return newfd;
    }

    /**
     * fcntl(2) for the descriptor commands: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL,
     * F_SETFL. EBADF for a closed descriptor, EINVAL for any other command.
     */
    @Linux(file = "fs/fcntl.c", fn = "do_fcntl")
    public long fcntl(int n, int cmd, long arg) {
        OpenFile f = fget(n);
        if (f == null) {
            return -EBADF;
        }
        try {
            switch (cmd) {
                case Fcntl.F_DUPFD:
                    return dupFromChecked(f, arg, 0);
                case Fcntl.F_DUPFD_CLOEXEC:
                    return dupFromChecked(f, arg, O_CLOEXEC);
                case Fcntl.F_GETFD:
                    return getCloseOnExec(n) ? FD_CLOEXEC : 0;
                case Fcntl.F_SETFD:
                    setCloseOnExec(n, (arg & FD_CLOEXEC) != 0);
                    return 0;
                case Fcntl.F_GETFL:
                    return f.fileFlags();
                case Fcntl.F_SETFL:
                    return setfl(f, (int) arg);
                default:
                    return -EINVAL;
            }
        } finally {
            f.putFile();
        }
    }

    /**
     * The status flags F_SETFL may change; O_DIRECT only on a pipe (its packet mode): other files here
     * have no {@code FMODE_CAN_ODIRECT}.
     */
    @Linux(file = "fs/fcntl.c", fn = "setfl")
    private static int setfl(OpenFile f, int arg) {
        if ((arg & Fcntl.O_DIRECT) != 0 && !(f instanceof Pipe.PipeFile)) {
            return -EINVAL;
        }
        f.setStatusFlags(arg & Fcntl.SETFL_MASK);
        return 0;
    }

    /** {@code f_dupfd}: the argument is an unsigned int compared with the limit. */
    @Linux(file = "fs/file.c", fn = "f_dupfd")
    private int dupFromChecked(OpenFile f, long arg, int flags) {
        long from = arg & 0xffff_ffffL;
        lock.lock();
        try {
            return from >= rlimitNofile ? -EINVAL : installCopyLocked(f, (int) from, flags);
        } finally {
            lock.unlock();
        }
    }

    private int dupFrom(int oldfd, int from, int flags) {
        lock.lock();
        try {
            OpenFile f = lookupLocked(oldfd);
            return f == null ? -EBADF : installCopyLocked(f, from, flags);
        } finally {
            lock.unlock();
        }
    }

    /** One more descriptor, at or above {@code from}, for {@code f} (with its own reference). */
    private int installCopyLocked(OpenFile f, int from, int flags) {
        if (!f.tryGetFile()) {
            return -EBADF;
        }
        int n = allocFdLocked(from);
        if (n < 0) {
            f.putFile(); // never the last reference: the caller or the old descriptor holds one
            return n;
        }
        setLocked(n, f, (flags & O_CLOEXEC) != 0);
        return n;
    }

    /** {@code get_close_on_exec}. False for a closed descriptor. */
    public boolean getCloseOnExec(int n) {
        lock.lock();
        try {
            return lookupLocked(n) != null && closeOnExec[n];
        } finally {
            lock.unlock();
        }
    }

    /** {@code set_close_on_exec}: 0, or {@code -EBADF}. */
    @Linux(file = "fs/file.c", fn = "set_close_on_exec")
    public int setCloseOnExec(int n, boolean on) {
        lock.lock();
        try {
            if (lookupLocked(n) == null) {
                return -EBADF;
            }
            closeOnExec[n] = on;
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** execve's {@code do_close_on_exec}: closes every close-on-exec descriptor. */
    @Linux(file = "fs/file.c", fn = "do_close_on_exec")
    public void closeOnExec() {
        closeEach(true);
    }

    /** Process exit ({@code exit_files}): every descriptor is closed. */
    @Linux(file = "fs/file.c", fn = "put_files_struct")
    public void closeAll() {
        closeEach(false);
    }

    /** Closes every descriptor (or only the close-on-exec ones), dropping each file outside the lock. */
    private void closeEach(boolean onlyCloseOnExec) {
        for (int n = 0; ; n++) {
            OpenFile f;
            lock.lock();
            try {
                if (n >= fd.length) {
                    return;
                }
                f = fd[n];
                if (f == null || onlyCloseOnExec && !closeOnExec[n]) {
                    continue;
                }
                clearLocked(n);
            } finally {
                lock.unlock();
            }
            f.putFile();
        }
    }

    /** {@code fdt->max_fds}: the table's current size (at least 64, grown in powers of two). */
    public int maxFds() {
        lock.lock();
        try {
            return fd.length;
        } finally {
            lock.unlock();
        }
    }

    /** True if {@code count} more descriptors could be allocated now (below the limit). */
    public boolean canAllocate(int count) {
        lock.lock();
        try {
            int free = 0;
            for (int n = nextFd; n < rlimitNofile && free < count; n++) {
                if (n >= fd.length || fd[n] == null) {
                    free++;
                }
            }
            return free >= count;
        } finally {
            lock.unlock();
        }
    }

    /** Open descriptors, lowest first (diagnostics, /proc/self/fd). */
    public int[] openDescriptors() {
        lock.lock();
        try {
            int count = 0;
            for (OpenFile f : fd) {
                if (f != null) {
                    count++;
                }
            }
            int[] out = new int[count];
            for (int i = 0, k = 0; i < fd.length; i++) {
                if (fd[i] != null) {
                    out[k++] = i;
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The file at {@code n} without taking a reference, or null (diagnostics and tests). */
    public OpenFile peek(int n) {
        lock.lock();
        try {
            return lookupLocked(n);
        } finally {
            lock.unlock();
        }
    }

    // ---- internals -----------------------------------------------------------------------------------

    private OpenFile lookupLocked(int n) {
        return n >= 0 && n < fd.length ? fd[n] : null;
    }

    /** {@code alloc_fd}: the lowest free descriptor at or above {@code start} and below the limit. */
    @Linux(file = "fs/file.c", fn = "alloc_fd")
    private int allocFdLocked(int start) {
        int n = Math.max(start, nextFd);
        while (n < fd.length && fd[n] != null) {
            n++;
        }
        if (n >= rlimitNofile) {
            return -EMFILE;
        }
        ensureLocked(n);
        if (start <= nextFd) {
            nextFd = n + 1;
        }
        return n;
    }

    private void ensureLocked(int n) {
        if (n >= fd.length) {
            int size = fd.length;
            while (size <= n) {
                size *= 2;
            }
            fd = Arrays.copyOf(fd, size);
            closeOnExec = Arrays.copyOf(closeOnExec, size);
        }
    }

    /** Frees descriptor {@code n} ({@code __put_unused_fd}): it becomes the lowest candidate again. */
    private void clearLocked(int n) {
        SLOT.setRelease(fd, n, null);
        closeOnExec[n] = false;
        if (n < nextFd) {
            nextFd = n;
        }
    }

    private void setLocked(int n, OpenFile f, boolean cloexec) {
        SLOT.setRelease(fd, n, f);
        closeOnExec[n] = cloexec;
    }
}
