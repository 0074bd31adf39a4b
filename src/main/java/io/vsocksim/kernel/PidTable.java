package io.vsocksim.kernel;

import io.vsocksim.Linux;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The pid numbers of one machine's processes ({@code find_vpid}). A pid stays taken while its process
 * lives. SIM: one pid namespace; every process leads its own process group, so a pgid is a pid.
 */
@Linux(file = "kernel/pid.c", fn = "find_vpid")
public final class PidTable {
    private final AtomicInteger next = new AtomicInteger(100);
    private final Map<Integer, BooleanSupplier> live = new ConcurrentHashMap<>();

    /** A new pid for a process that lives while {@code alive} says so. */
    public int alloc(BooleanSupplier alive) {
        int pid = next.getAndIncrement();
        live.put(pid, alive);
        return pid;
    }

    /** True if {@code pid} names a living process. */
    public boolean exists(int pid) {
        BooleanSupplier a = live.get(pid);
        if (a != null && !a.getAsBoolean()) {
            live.remove(pid, a);
            return false;
        }
        return a != null;
    }
}
