package io.vsocksim.net;

import static io.vsocksim.uapi.Errno.EFAULT;
import static io.vsocksim.uapi.Errno.ENODEV;
import static io.vsocksim.uapi.Errno.ENOTTY;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPERM;
import static io.vsocksim.uapi.Sockios.*;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Cred;
import io.vsocksim.kernel.PidTable;
import io.vsocksim.uapi.Capability;
import java.nio.IntBuffer;

/**
 * {@code sock_ioctl}: the socket file's ioctl, reached for every command the VFS does not answer. It
 * answers the owner commands, namespace and timestamp queries and the device-level commands itself,
 * and hands the rest to the protocol ({@code sock_do_ioctl} → {@code vsock_ioctl}: SIOCOUTQ only in
 * 6.12.117). A command the protocol does not know is ENOTTY unless it is a socket command (type 0x89),
 * which goes on to the network-device layer.
 *
 * <p>{@code argp} is the {@code int *} the caller passed (null: NULL); it faults where fewer ints
 * remain than the command's structure needs. SIM: the machine has no network device, bridge, 802.1Q
 * or wireless code, and no nsfs:
 * <ul>
 *   <li>bridge and VLAN commands: ENOPKG (no module to load);</li>
 *   <li>SIOCGIFCONF: an empty list ({@code ifc_len} 0);</li>
 *   <li>SIOCDEVPRIVATE..+15, wireless extensions and dev_ioctl commands from SIOCGIFNAME on: ENODEV
 *       after the request is read (no interface of that name; Linux would answer ENOTTY for numbers
 *       its dev_ioctl does not know);</li>
 *   <li>SIOCGSKNS with CAP_NET_ADMIN: EOPNOTSUPP instead of a namespace descriptor.</li>
 * </ul>
 */
@Linux(file = "net/socket.c", fn = "sock_ioctl")
public final class SockIoctl {
    /** {@code ENOPKG} (x86-64). */
    public static final int ENOPKG = 65;

    private SockIoctl() {
    }

    /** The ioctl on socket {@code s}, called by a process with {@code cred}: 0 (or a value) or {@code -errno}. */
    public static long ioctl(SocketFile s, int cmd, IntBuffer argp, PidTable pids, Cred cred) {
        if (cmd >= SIOCDEVPRIVATE && cmd <= SIOCDEVPRIVATE + 15) {
            return readable(argp, IFREQ_SIZE) ? -ENODEV : -EFAULT;
        }
        if (cmd >= SIOCIWFIRST && cmd <= SIOCIWLAST) {
            return readable(argp, IWREQ_SIZE) ? -ENODEV : -EFAULT; // wext_handle_ioctl
        }
        switch (cmd) {
            case FIOSETOWN:
            case SIOCSPGRP:
                if (!readable(argp, 4)) {
                    return -EFAULT;
                }
                return s.fileOwner().setown(argp.get(argp.position()), pids, cred);
            case FIOGETOWN:
            case SIOCGPGRP:
                return putInt(argp, s.fileOwner().getown(pids));
            case SIOCGIFBR:
            case SIOCSIFBR:
            case SIOCBRADDBR:
            case SIOCBRDELBR:
            case SIOCBRADDIF:
            case SIOCBRDELIF:
            case SIOCGIFVLAN:
            case SIOCSIFVLAN:
                return -ENOPKG; // br_ioctl_call / vlan_ioctl_hook with no module behind them
            case SIOCGSKNS:
                if (!Capability.has(cred.capEffective, Capability.CAP_NET_ADMIN)) {
                    return -EPERM;
                }
                return -EOPNOTSUPP;
            case SIOCGSTAMP_OLD:
            case SIOCGSTAMPNS_OLD:
            case SIOCGSTAMP_NEW:
            case SIOCGSTAMPNS_NEW:
                return -ENOTTY; // vsock has no gettstamp: ENOIOCTLCMD, which vfs_ioctl turns into ENOTTY
            case SIOCGIFCONF:
                if (!readable(argp, IFCONF_SIZE)) {
                    return -EFAULT;
                }
                return putInt(argp, 0); // dev_ifconf over no devices: ifc_len = 0
            default:
                return doIoctl(s, cmd, argp);
        }
    }

    /**
     * The protocol's ioctl, then, for a socket command it does not know, the device layer after the
     * {@code struct ifreq} is read.
     */
    @Linux(file = "net/socket.c", fn = "sock_do_ioctl")
    private static long doIoctl(SocketFile s, int cmd, IntBuffer argp) {
        long r = s.fileIoctl(cmd, 0);
        if (r >= 0) {
            return putInt(argp, (int) r); // vsock_do_ioctl's put_user of the count
        }
        if (r != -ENOTTY) {
            return r;
        }
        if (((cmd >>> 8) & 0xff) != SOCK_IOC_TYPE) {
            return -ENOTTY; // is_socket_ioctl_cmd
        }
        if (!readable(argp, IFREQ_SIZE)) {
            return -EFAULT; // get_user_ifreq
        }
        return (cmd & 0xffff) >= SIOCGIFNAME ? -ENODEV : -ENOTTY; // SIM: dev_ioctl with no devices
    }

    private static boolean readable(IntBuffer argp, int bytes) {
        return argp != null && argp.remaining() >= (bytes + 3) / 4;
    }

    private static int putInt(IntBuffer argp, int v) {
        if (argp == null || argp.isReadOnly() || argp.remaining() < 1) {
            return -EFAULT;
        }
        argp.put(argp.position(), v);
        return 0;
    }
}
