package io.vsocksim.differential;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Steps of the Linux 6.12.117 loopback traces that the simulator cannot express, with the reason.
 * Every {@code notExpressible} step of a trace test names one of these keys; nothing here is a
 * weakened assertion — these are calls outside the simulated socket layer.
 */
final class KnownDivergences {
    static final Map<String, String> TABLE = new LinkedHashMap<>();

    static {
        TABLE.put("module-loading",
                "pre_module_socket: the simulator has no module loader; a Machine always has vsock.ko "
                        + "(and vsock_loopback) loaded, so socket() before insmod (EAFNOSUPPORT) has no analogue");
        TABLE.put("fd-flags",
                "fcntl(F_GETFD)/FD_CLOEXEC: the simulator has no file-descriptor table; SOCK_CLOEXEC is "
                        + "accepted and dropped by Machine.socket");
        TABLE.put("socketpair",
                "socketpair(AF_VSOCK, ...): Machine offers no socketpair entry point (the kernel answers "
                        + "EOPNOTSUPP from sock_no_socketpair)");
        TABLE.put("setuid",
                "setuid(65534): the simulator has no credentials; the step's effect (no CAP_NET_BIND_SERVICE) "
                        + "is expressed by creating the socket with privileged=false");
        TABLE.put("closed-fd-poll",
                "poll() on a closed fd returns POLLNVAL from the fd table; VsockSocket.poll after close "
                        + "throws EBADF instead, as there is no fd table to consult");
        TABLE.put("control-pipe",
                "the CONTROL write to a pipe without reader checks the recording harness's SIGPIPE "
                        + "counting, not vsock");
        TABLE.put("proc-and-modules",
                "env_info: /proc/net/protocols lines and the loaded-module list describe the recording "
                        + "machine, not socket behaviour");
    }

    private KnownDivergences() {
    }
}
