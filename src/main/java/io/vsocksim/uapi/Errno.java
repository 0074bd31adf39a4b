package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * Linux errno numbers (x86-64, {@code include/uapi/asm-generic/errno-base.h} and {@code errno.h}) used
 * by the stack, plus {@code ERESTARTSYS}, which never reaches user space.
 *
 * <p>Convention, as in C: inner layers return {@code >= 0} for success or a count and {@code -errno}
 * for failure; {@code sk_err} holds the positive value. Only the public socket API turns a negative
 * result into an {@link ErrnoException}.
 */
@Linux(file = "include/uapi/asm-generic/errno-base.h", fn = "EPERM")
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    /** No such process. */
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    /** Same number as {@link #EAGAIN} on Linux. */
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    /** Too many open files in the process (RLIMIT_NOFILE). */
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EPIPE = 32;
    public static final int EDOM = 33;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    /** Too many levels of symbolic links; for epoll: a cycle or too deep a nesting of instances. */
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EPROTO = 71;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSOCK = 88;
    public static final int EDESTADDRREQ = 89;
    public static final int EMSGSIZE = 90;
    public static final int EPROTOTYPE = 91;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int ESOCKTNOSUPPORT = 94;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int EISCONN = 106;
    public static final int ENOTCONN = 107;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTDOWN = 112;
    public static final int EHOSTUNREACH = 113;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;
    /** Kernel-internal "restart the syscall" code (include/linux/errno.h); user space sees EINTR. */
    public static final int ERESTARTSYS = 512;
    /** Restart the call whatever the handler (include/linux/errno.h); never reaches user space. */
    public static final int ERESTARTNOINTR = 513;
    /** Restart only if no handler runs (poll, select); never reaches user space. */
    public static final int ERESTARTNOHAND = 514;

    /** Largest errno value; results in {@code [-MAX_ERRNO, -1]} are errors (include/linux/err.h). */
    public static final int MAX_ERRNO = 4095;

    private static final String[] NAMES = new String[ERESTARTNOHAND + 1];

    static {
        String[][] table = {
            {"EPERM", "1"}, {"ENOENT", "2"}, {"ESRCH", "3"}, {"EINTR", "4"}, {"EIO", "5"}, {"ENXIO", "6"}, {"E2BIG", "7"},
            {"EBADF", "9"}, {"EAGAIN", "11"}, {"ENOMEM", "12"}, {"EACCES", "13"}, {"EFAULT", "14"},
            {"EBUSY", "16"}, {"EEXIST", "17"}, {"ENODEV", "19"}, {"EINVAL", "22"}, {"EMFILE", "24"}, {"ENOTTY", "25"},
            {"ENOSPC", "28"}, {"ESPIPE", "29"}, {"EPIPE", "32"}, {"EDOM", "33"}, {"ERANGE", "34"}, {"ENOSYS", "38"}, {"ELOOP", "40"},
            {"ENODATA", "61"}, {"EPROTO", "71"}, {"EOVERFLOW", "75"}, {"ENOTSOCK", "88"},
            {"EDESTADDRREQ", "89"}, {"EMSGSIZE", "90"}, {"EPROTOTYPE", "91"}, {"ENOPROTOOPT", "92"},
            {"EPROTONOSUPPORT", "93"}, {"ESOCKTNOSUPPORT", "94"}, {"EOPNOTSUPP", "95"},
            {"EAFNOSUPPORT", "97"}, {"EADDRINUSE", "98"}, {"EADDRNOTAVAIL", "99"}, {"ENETDOWN", "100"},
            {"ENETUNREACH", "101"}, {"ECONNABORTED", "103"}, {"ECONNRESET", "104"}, {"ENOBUFS", "105"},
            {"EISCONN", "106"}, {"ENOTCONN", "107"}, {"ESHUTDOWN", "108"}, {"ETIMEDOUT", "110"},
            {"ECONNREFUSED", "111"}, {"EHOSTDOWN", "112"}, {"EHOSTUNREACH", "113"}, {"EALREADY", "114"},
            {"EINPROGRESS", "115"}, {"ERESTARTSYS", "512"},
            {"ERESTARTNOINTR", "513"}, {"ERESTARTNOHAND", "514"},
        };
        for (String[] row : table) {
            NAMES[Integer.parseInt(row[1])] = row[0];
        }
    }

    private Errno() {
    }

    /**
     * Symbolic name of an errno, e.g. {@code name(104)} is {@code "ECONNRESET"}. The sign is ignored,
     * so {@code name(-EPIPE)} works too; an unknown number gives {@code "errno <n>"}.
     */
    public static String name(int errno) {
        int e = Math.abs(errno);
        if (e < NAMES.length && NAMES[e] != null) {
            return NAMES[e];
        }
        return "errno " + e;
    }

    /** Number of an errno name such as {@code "EAGAIN"} (also accepts {@code "EWOULDBLOCK"}). */
    public static int valueOf(String name) {
        if ("EWOULDBLOCK".equals(name)) {
            return EWOULDBLOCK;
        }
        for (int i = 0; i < NAMES.length; i++) {
            if (name.equals(NAMES[i])) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown errno name: name=" + name);
    }

    /** Mirrors IS_ERR_VALUE(): true for results in {@code [-MAX_ERRNO, -1]}. */
    @Linux(file = "include/linux/err.h", fn = "IS_ERR_VALUE")
    public static boolean isErr(long ret) {
        return ret < 0 && ret >= -MAX_ERRNO;
    }
}
