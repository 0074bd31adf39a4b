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
