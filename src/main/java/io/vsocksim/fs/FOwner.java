package io.vsocksim.fs;

import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.ESRCH;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Cred;
import io.vsocksim.kernel.PidTable;

/**
 * {@code struct fown_struct}: the process (or process group) a file's SIGIO/SIGURG would go to, set by
 * F_SETOWN or FIOSETOWN/SIOCSPGRP. SIM: no signal is ever sent to it (vsock raises neither).
 */
@Linux(file = "include/linux/fs.h", fn = "struct fown_struct")
public final class FOwner {
    private int pid;
    private boolean pgid;
    private int uid;
    private int euid;

    /**
     * Sets the owner to {@code who} (negative: the process group {@code -who}; 0: none), recording the
     * caller's uid and euid. EINVAL for INT_MIN, ESRCH for a pid that names no living process.
     */
    @Linux(file = "fs/fcntl.c", fn = "f_setown")
    public synchronized int setown(int who, PidTable pids, Cred cred) {
        boolean group = false;
        if (who < 0) {
            if (who == Integer.MIN_VALUE) {
                return -EINVAL;
            }
            group = true;
            who = -who;
        }
        if (who != 0 && !pids.exists(who)) {
            return -ESRCH;
        }
        pid = who;
        pgid = group;
        if (who != 0) {
            uid = cred.uid;
            euid = cred.euid;
        }
        return 0;
    }

    /** The owner as F_GETOWN reports it: the pid, minus a group's, 0 if none or it has ended. */
    @Linux(file = "fs/fcntl.c", fn = "f_getown")
    public synchronized int getown(PidTable pids) {
        if (pid == 0 || !pids.exists(pid)) {
            return 0;
        }
        return pgid ? -pid : pid;
    }
}
