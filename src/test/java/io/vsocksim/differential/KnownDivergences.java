package io.vsocksim.differential;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Steps of the Linux 6.12.117 loopback traces that the simulator cannot express, with the reason.
 * Every {@code notExpressible} step of a trace test names one of these keys; nothing here is a
 * weakened assertion. Only what describes the recording machine itself is left (/proc contents,
 * loaded modules): every call of the recording program is replayed.
 */
final class KnownDivergences {
    static final Map<String, String> TABLE = new LinkedHashMap<>();

    static {
        TABLE.put("proc-and-modules",
                "env_info: /proc/net/protocols lines and the loaded-module list describe the recording "
                        + "machine, not socket behaviour");
    }

    private KnownDivergences() {
    }
}
