package io.vsocksim.kernel;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Capability;

/**
 * A task's credentials ({@code struct cred}): user and group ids and the effective and permitted
 * capability sets. Immutable: a change makes a new one ({@code prepare_creds}/{@code commit_creds}).
 *
 * <p>The credentials of the calling process are {@link #current()} for the duration of a system call
 * it makes ({@link #enter}/{@link #exit}), so a check the kernel makes with {@code capable()} looks at
 * the caller at the time of the call, as the kernel does. Every user call is some process's (the
 * object face too); only a kernel-internal call outside any process (a white-box test calling af_vsock
 * directly) falls back to the set its socket was created with.
 */
@Linux(file = "include/linux/cred.h", fn = "struct cred")
public final class Cred {
    /** uid 0 with every capability. */
    public static final Cred ROOT = new Cred(0, 0, 0, 0, 0, 0, Capability.ALL, Capability.ALL);

    private static final ThreadLocal<Cred> CURRENT = new ThreadLocal<>();

    public final int uid;
    public final int euid;
    public final int suid;
    public final int gid;
    public final int egid;
    public final int sgid;
    public final long capEffective;
    public final long capPermitted;

    public Cred(int uid, int euid, int suid, int gid, int egid, int sgid, long capEffective, long capPermitted) {
        this.uid = uid;
        this.euid = euid;
        this.suid = suid;
        this.gid = gid;
        this.egid = egid;
        this.sgid = sgid;
        this.capEffective = capEffective;
        this.capPermitted = capPermitted;
    }

    /** {@code current_cred()}: the calling process's credentials during its call, else null. */
    public static Cred current() {
        return CURRENT.get();
    }

    /** A process call begins on this thread with {@code c}; returns what {@link #exit} restores. */
    public static Cred enter(Cred c) {
        Cred prev = CURRENT.get();
        CURRENT.set(c);
        return prev;
    }

    /** Ends the call {@link #enter} began. */
    public static void exit(Cred prev) {
        CURRENT.set(prev);
    }

    /**
     * {@code capable(cap)} for the caller: the current credentials' effective set, or
     * {@code fallback} (the set a socket was created with) outside a process call.
     */
    @Linux(file = "kernel/capability.c", fn = "capable")
    public static boolean capable(int cap, long fallback) {
        Cred c = CURRENT.get();
        return Capability.has(c != null ? c.capEffective : fallback, cap);
    }

    /**
     * setuid(2) in a user namespace-less world: with CAP_SETUID every uid becomes {@code newUid};
     * without it only the effective uid may move, to the real or saved one (else null: EPERM). The
     * capability rules of {@code cap_task_fix_setuid}: leaving uid 0 in all three ids clears the
     * permitted and effective sets; an effective uid leaving 0 clears the effective set.
     */
    @Linux(file = "kernel/sys.c", fn = "__sys_setuid")
    @Linux(file = "security/commoncap.c", fn = "cap_task_fix_setuid")
    public Cred setuid(int newUid) {
        int r;
        int e;
        int s;
        if (Capability.has(capEffective, Capability.CAP_SETUID)) {
            r = newUid;
            e = newUid;
            s = newUid;
        } else if (newUid == uid || newUid == suid) {
            r = uid;
            e = newUid;
            s = suid;
        } else {
            return null;
        }
        long eff = capEffective;
        long perm = capPermitted;
        boolean hadRoot = uid == 0 || euid == 0 || suid == 0;
        if (hadRoot && r != 0 && e != 0 && s != 0) {
            eff = 0;
            perm = 0;
        } else if (euid == 0 && e != 0) {
            eff = 0;
        } else if (euid != 0 && e == 0) {
            eff = perm; // back to root: the permitted set becomes effective
        }
        return new Cred(r, e, s, gid, egid, sgid, eff, perm);
    }

    @Override
    public String toString() {
        return "cred{uid=" + uid + "/" + euid + "/" + suid + ", gid=" + gid + ", caps=0x" + Long.toHexString(capEffective) + "}";
    }
}
