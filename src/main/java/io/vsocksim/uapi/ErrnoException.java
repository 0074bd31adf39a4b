package io.vsocksim.uapi;

import java.io.IOException;

/**
 * A failed system call: carries the exact Linux errno the kernel would have returned.
 *
 * <p>Thrown only at the public API edge; every layer below returns {@code -errno} ints.
 */
public class ErrnoException extends IOException {
    private final int errno;

    /**
     * @param errno the positive errno number
     * @param call the syscall or operation that failed, for the message (e.g. {@code "connect"})
     */
    public ErrnoException(int errno, String call) {
        super(call + ": " + Errno.name(errno) + " (" + errno + ")");
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be positive: errno=" + errno);
        }
        this.errno = errno;
    }

    /** The positive Linux errno, e.g. {@link Errno#ECONNRESET}. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code "ECONNRESET"}. */
    public String errnoName() {
        return Errno.name(errno);
    }

    /**
     * Returns {@code ret} unchanged if it is not an error, else throws the matching exception: the one
     * place where a kernel-style result turns into a Java one.
     */
    public static long check(long ret, String call) throws ErrnoException {
        if (Errno.isErr(ret)) {
            throw new ErrnoException((int) -ret, call);
        }
        return ret;
    }

    /** {@link #check(long, String)} for int results. */
    public static int check(int ret, String call) throws ErrnoException {
        if (ret < 0) {
            throw new ErrnoException(-ret, call);
        }
        return ret;
    }
}
