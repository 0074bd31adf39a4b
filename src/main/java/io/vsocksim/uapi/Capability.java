package io.vsocksim.uapi;

import io.vsocksim.Linux;

/**
 * The POSIX capabilities the socket layer checks (include/uapi/linux/capability.h), and capability sets
 * as {@code long} bitmasks ({@code 1L << CAP_x}), the shape of the kernel's {@code kernel_cap_t}.
 *
 * <p>Every check the kernel makes against {@code current} ({@code capable}, {@code ns_capable} in the
 * initial user namespace) is made against the calling process's effective set ({@code kernel.Cred}).
 * SIM: a socket also keeps the set of the process that created it ({@code VsockSock.capEffective}),
 * which only a kernel-internal call made outside any process falls back to. Sockets made by
 * {@code VsockSocket.open(machine, type)} belong to the machine's embedder process, root ({@link #ALL}).
 */
@Linux(file = "include/uapi/linux/capability.h", fn = "CAP_NET_ADMIN")
public final class Capability {
    public static final int CAP_KILL = 5;
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_NET_BIND_SERVICE = 10;
    public static final int CAP_NET_BROADCAST = 11;
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;
    /** {@code CAP_LAST_CAP} of 6.12.117 (CAP_CHECKPOINT_RESTORE). */
    public static final int CAP_LAST_CAP = 40;

    /** The empty set: an unprivileged process. */
    public static final long NONE = 0L;
    /** Every capability up to {@link #CAP_LAST_CAP}: root in the initial namespace. */
    public static final long ALL = (1L << (CAP_LAST_CAP + 1)) - 1;

    private Capability() {
    }

    /** The set holding exactly {@code caps}. */
    public static long of(int... caps) {
        long set = 0;
        for (int c : caps) {
            set |= 1L << c;
        }
        return set;
    }

    /** Whether {@code set} holds {@code cap} ({@code cap_raised}). */
    public static boolean has(long set, int cap) {
        return (set & (1L << cap)) != 0;
    }
}
