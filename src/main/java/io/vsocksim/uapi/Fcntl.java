package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * File status flags, descriptor flags and the fcntl/ioctl numbers of the descriptor layer, as on
 * x86-64 (include/uapi/asm-generic/fcntl.h, include/uapi/asm-generic/ioctls.h).
 */
@Linux(file = "include/uapi/asm-generic/fcntl.h", fn = "O_NONBLOCK")
public final class Fcntl {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    /** What a socket's file is opened with ({@code sock_alloc_file}). */
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_APPEND = 0x400;
    /** Also {@code O_NDELAY} on x86-64. */
    public static final int O_NONBLOCK = 0x800;
    /** {@code FASYNC}. */
    public static final int O_ASYNC = 0x2000;
    public static final int O_DIRECT = 0x4000;
    public static final int O_NOATIME = 0x40000;
    public static final int O_CLOEXEC = 0x80000;
    /** The flags F_SETFL may change ({@code SETFL_MASK} in fs/fcntl.c); the others are kept. */
    public static final int SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

    /** The one descriptor flag. */
    public static final int FD_CLOEXEC = 1;

    public static final int F_DUPFD = 0;
    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    /** {@code F_LINUX_SPECIFIC_BASE + 6}. */
    public static final int F_DUPFD_CLOEXEC = 1030;

    /** Generic ioctls answered by the VFS before the socket sees them (fs/ioctl.c). */
    public static final int FIONCLEX = 0x5450;
    public static final int FIOCLEX = 0x5451;
    public static final int FIOASYNC = 0x5452;
    public static final int FIONBIO = 0x5421;
    public static final int FIOQSIZE = 0x5460;

    /** {@code INR_OPEN_CUR}: the default soft RLIMIT_NOFILE. */
    public static final int RLIMIT_NOFILE_DEFAULT = 1024;

    private Fcntl() {}
}
