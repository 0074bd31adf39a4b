package io.vsocksim.kernel;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;

/**
 * One simulated kernel: everything Linux keeps in globals for a machine, held as fields so that a host
 * and several guests coexist in one JVM (the project's one structural deviation, see
 * {@code io.vsocksim} package notes).
 *
 * <p>It owns the machine's physical memory and its page allocator, the clock, the system work queue
 * ({@code system_wq}: connect and close timeouts, loopback work, driver work) and the WARN_ONCE sink.
 * Layers above add their own per-machine state (socket tables, transports) beside it.
 *
 * <p>Two ready-made shapes: {@link #threaded} for real use (real threads, real time) and
 * {@link #deterministic} for tests (work runs only when the test says so; time moves only when the
 * test advances it).
 */
public final class KernelContext implements AutoCloseable {
    private final String name;
    private final Clock clock;
    private final WorkQueue systemWq;
    private final GuestMemory memory;
    private final PageAllocator pages;
    private final KernelWarnings warnings;
    private final Cpus cpus = new Cpus();
    /** {@code net.core.somaxconn} of the machine's (only) network namespace. */
    private volatile int somaxconn = SOMAXCONN;

    /** {@code net.core.wmem_max}, {@code rmem_max}, {@code wmem_default}, {@code rmem_default}. */
    private volatile int wmemMax = SK_MEM_DEFAULT;
    private volatile int rmemMax = SK_MEM_DEFAULT;
    private volatile int wmemDefault = SK_MEM_DEFAULT;
    private volatile int rmemDefault = SK_MEM_DEFAULT;
    /** The machine's socket cookie generator ({@code net_cookie}/{@code sock_cookie} in the kernel). */
    private final java.util.concurrent.atomic.AtomicLong socketCookie = new java.util.concurrent.atomic.AtomicLong();

    /** {@code SOMAXCONN}: the default of {@code net.core.somaxconn}. */
    public static final int SOMAXCONN = 4096;
    /**
     * {@code SK_WMEM_MAX} / {@code SK_RMEM_MAX}: the boot value of all four {@code net.core.[rw]mem_*}
     * sysctls on x86-64 (212992).
     */
    public static final int SK_MEM_DEFAULT = 212_992;
    /** {@code SOCK_MIN_SNDBUF} on x86-64: twice 2048 plus an aligned {@code struct sk_buff} (256). */
    public static final int SOCK_MIN_SNDBUF = 4608;
    /** {@code SOCK_MIN_RCVBUF} on x86-64: 2048 plus an aligned {@code struct sk_buff}. */
    public static final int SOCK_MIN_RCVBUF = 2304;

    /**
     * Assembles a context from parts; the context owns them and closes the work queue on
     * {@link #close()}.
     */
    public KernelContext(String name, Clock clock, WorkQueue systemWq, GuestMemory memory, PageAllocator pages) {
        if (systemWq.clock() != clock) {
            throw new IllegalArgumentException("work queue must run on the context's clock: machine=" + name);
        }
        if (pages.memory() != memory) {
            throw new IllegalArgumentException("allocator must manage the context's memory: machine=" + name);
        }
        this.name = name;
        this.clock = clock;
        this.systemWq = systemWq;
        this.memory = memory;
        this.pages = pages;
        this.warnings = new KernelWarnings(name);
    }

    /**
     * A machine on real time whose work queue runs at most {@code workers} works at once on the worker
     * threads every machine shares, with {@code memorySize} bytes of memory, all of it managed by one
     * page allocator.
     */
    public static KernelContext threaded(String name, long memorySize, int workers) {
        RealClock clock = new RealClock();
        GuestMemory memory = new GuestMemory(name, memorySize);
        return new KernelContext(name, clock, ThreadedWorkQueue.shared(name + "/system_wq", workers, clock),
                memory, new PageAllocator(memory));
    }

    /**
     * A deterministic machine for tests: a {@link VirtualClock} and a {@link ManualWorkQueue}; freed
     * pages are poisoned so that a stale reader sees {@code 0xaa}, never someone else's data.
     */
    public static KernelContext deterministic(String name, long memorySize) {
        VirtualClock clock = new VirtualClock();
        GuestMemory memory = new GuestMemory(name, memorySize);
        return new KernelContext(name, clock, new ManualWorkQueue(name + "/system_wq", clock), memory,
                new PageAllocator(memory, 0, (int) memory.pages(), true));
    }

    /** The machine's name, e.g. {@code "host"} or {@code "guest3"}. */
    public String name() {
        return name;
    }

    /** The only source of time for this machine. */
    public Clock clock() {
        return clock;
    }

    /** {@code system_wq}: where this machine's deferred work runs. */
    public WorkQueue systemWq() {
        return systemWq;
    }

    /** The machine's physical memory. */
    public GuestMemory memory() {
        return memory;
    }

    /** The page allocator over {@link #memory()}. */
    public PageAllocator pages() {
        return pages;
    }

    /** The machine's WARN_ONCE record. */
    public KernelWarnings warnings() {
        return warnings;
    }

    /**
     * {@code net.core.somaxconn}: the largest backlog {@code listen()} passes to the protocol (default
     * {@link #SOMAXCONN}).
     */
    public int somaxconn() {
        return somaxconn;
    }

    /**
     * Writes {@code net.core.somaxconn}, as {@code sysctl -w} does: any value from 0 to
     * {@code INT_MAX} (the table's {@code proc_dointvec_minmax} with a minimum of zero).
     *
     * @return 0, or {@code -EINVAL} for a negative value (the setting is unchanged)
     */
    @io.vsocksim.Linux(file = "net/core/sysctl_net_core.c", fn = "netns_core_table")
    public int setSomaxconn(int value) {
        if (value < 0) {
            return -io.vsocksim.uapi.Errno.EINVAL;
        }
        somaxconn = value;
        return 0;
    }

    /** {@code net.core.wmem_max}: the most SO_SNDBUF asks for before doubling. */
    public int wmemMax() {
        return wmemMax;
    }

    /** {@code net.core.rmem_max}: the most SO_RCVBUF asks for before doubling. */
    public int rmemMax() {
        return rmemMax;
    }

    /** {@code net.core.wmem_default}: a new socket's {@code sk_sndbuf}. */
    public int wmemDefault() {
        return wmemDefault;
    }

    /** {@code net.core.rmem_default}: a new socket's {@code sk_rcvbuf}. */
    public int rmemDefault() {
        return rmemDefault;
    }

    /**
     * Writes {@code net.core.wmem_max}, {@code rmem_max}, {@code wmem_default} and {@code rmem_default}
     * as {@code sysctl -w} does; each is {@code proc_dointvec_minmax} with {@link #SOCK_MIN_SNDBUF} (the
     * wmem pair) or {@link #SOCK_MIN_RCVBUF} (the rmem pair) as its minimum.
     *
     * @return 0, or {@code -EINVAL} if any value is below its minimum (nothing is changed)
     */
    @io.vsocksim.Linux(file = "net/core/sysctl_net_core.c", fn = "net_core_table")
    public int setSkMem(int wmemMax, int rmemMax, int wmemDefault, int rmemDefault) {
        if (wmemMax < SOCK_MIN_SNDBUF || wmemDefault < SOCK_MIN_SNDBUF
                || rmemMax < SOCK_MIN_RCVBUF || rmemDefault < SOCK_MIN_RCVBUF) {
            return -io.vsocksim.uapi.Errno.EINVAL;
        }
        this.wmemMax = wmemMax;
        this.rmemMax = rmemMax;
        this.wmemDefault = wmemDefault;
        this.rmemDefault = rmemDefault;
        return 0;
    }

    /**
     * The next socket cookie of this machine, from 1 (SIM: the kernel hands them out in per-CPU
     * batches, so real values are unique but not consecutive).
     */
    @io.vsocksim.Linux(file = "include/linux/cookie.h", fn = "gen_cookie_next")
    public long nextSocketCookie() {
        return socketCookie.incrementAndGet();
    }

    /** Whether the machine's CPUs run: every system call passes {@link Cpus#enter()} first. */
    public Cpus cpus() {
        return cpus;
    }

    /** Stops the work queue (draining what is queued); a thread held by stopped CPUs goes on. */
    @Override
    public void close() {
        cpus.start();
        systemWq.close();
    }

    @Override
    public String toString() {
        return "KernelContext{" + name + ", " + pages + "}";
    }
}
