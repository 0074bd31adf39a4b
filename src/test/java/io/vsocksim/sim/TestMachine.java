package io.vsocksim.sim;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.ManualWorkQueue;
import io.vsocksim.kernel.ThreadedWorkQueue;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.kernel.WorkQueue;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.testing.LeakCheck;

/**
 * Test machines: loopback-only, like the machine the kernel traces were recorded on, on a
 * {@link VirtualClock} so that timeouts (connect 2 s, close 8 s, SO_RCVTIMEO) are driven by the test.
 *
 * <ul>
 *   <li>{@link #threaded}: real worker threads run deferred work, so blocking calls behave as on a
 *       real machine; the test advances virtual time when it wants a timeout to expire.</li>
 *   <li>{@link #manual}: nothing runs until the test calls {@link #runUntilIdle()}: fully
 *       deterministic interleavings with non-blocking calls.</li>
 * </ul>
 */
public final class TestMachine {
    /** Memory of a test machine: 32 MiB. */
    public static final long MEMORY = 32L << 20;

    private TestMachine() {
    }

    /** A machine whose work runs on two real threads, timed by a virtual clock; tracked by {@code leaks}. */
    public static Machine threaded(String name, LeakCheck leaks) {
        VirtualClock clock = new VirtualClock();
        return track(build(name, clock, new ThreadedWorkQueue(name + "/system_wq", 2, clock)), leaks);
    }

    /** A fully deterministic machine; tracked by {@code leaks}. */
    public static Machine manual(String name, LeakCheck leaks) {
        VirtualClock clock = new VirtualClock();
        return track(build(name, clock, new ManualWorkQueue(name + "/system_wq", clock)), leaks);
    }

    private static Machine build(String name, VirtualClock clock, WorkQueue wq) {
        GuestMemory mem = new GuestMemory(name, MEMORY);
        KernelContext k = new KernelContext(name, clock, wq, mem, new PageAllocator(mem, 0, (int) mem.pages(), true));
        return new Machine(k, true, 40000);
    }

    private static Machine track(Machine m, LeakCheck leaks) {
        leaks.track(m.kernel());
        leaks.closeAfter(m); // its worker threads end with the test
        leaks.probe(() -> {
            settle(m);
            return m.liveSockets() == 0 ? null : m.liveSockets() + " socket(s) not destructed on " + m.kernel().name();
        });
        return m;
    }

    /** The machine's virtual clock. */
    public static VirtualClock clock(Machine m) {
        return (VirtualClock) m.kernel().clock();
    }

    /**
     * Lets everything in flight finish: runs queued work, then moves time past the 8 s close timeout
     * so half-closed sockets send their RST and go, and runs the work that caused.
     */
    public static void settle(Machine m) {
        drain(m);
        clock(m).advanceJiffies(9L * Clock.HZ);
        drain(m);
    }

    /**
     * Runs or waits for all queued work, including work queued by that work and timers already due
     * (not timers still in the future).
     */
    public static void drain(Machine m) {
        m.quiesce();
    }
}
