package io.vsocksim.sim;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.RealClock;
import io.vsocksim.kernel.ThreadedWorkQueue;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.Footprint;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.net.SocketFile;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.AfVsock;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.loopback.VsockLoopback;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One simulated Linux machine with AF_VSOCK: its kernel context (memory, pages, clock, work queue),
 * its af_vsock core (socket tables, transports) and, when loaded, the loopback transport (CID 1).
 *
 * <p>This is the machine the kernel traces were recorded on: vsock and vsock_loopback loaded, no
 * guest or host transport. {@code Host} and {@code Guest} add vhost and the virtio driver.
 */
public class Machine implements AutoCloseable {
    static {
        // The module's own code reaches a machine's kernel through SimInternals (JDK SharedSecrets style).
        io.vsocksim.sim.internal.SimInternals.install(new MachineAccess());
    }

    private final KernelContext kernel;
    private final VsockCore core;
    private final VsockLoopback loopback;
    /** vsock.ko is loaded: AF_VSOCK is in {@code net_families} ({@code sock_register} in vsock_init). */
    private volatile boolean vsockLoaded = true;
    /** The time domain this machine created for its clock ({@link #ownTimeDomain()}), or null. */
    private TimeDomain ownDomain;
    /** The pids of this machine's processes. */
    private final io.vsocksim.kernel.PidTable pids = new io.vsocksim.kernel.PidTable();

    /**
     * A machine whose ephemeral ports start where a seed drawn for this boot puts them
     * ({@link #bootPortSeed()}), as the kernel's do.
     *
     * @param kernel the machine's kernel context (owned: closed with the machine)
     * @param loadLoopback whether vsock_loopback is loaded
     */
    Machine(KernelContext kernel, boolean loadLoopback) {
        this(kernel, loadLoopback, bootPortSeed());
    }

    /**
     * A machine whose ephemeral ports are reproducible: the same {@code portSeed} gives the same first
     * port (for tests and traces that name port numbers).
     *
     * @param kernel the machine's kernel context (owned: closed with the machine)
     * @param loadLoopback whether vsock_loopback is loaded
     * @param portSeed seed of the ephemeral port counter
     */
    Machine(KernelContext kernel, boolean loadLoopback, long portSeed) {
        this.kernel = kernel;
        this.core = new VsockCore(kernel, portSeed);
        AfVsock.init(core);
        this.loopback = loadLoopback ? VsockLoopback.register(core) : null;
    }

    /**
     * A machine with {@code memory} bytes, loopback loaded and ports seeded per boot, whose clock is
     * <b>virtual and runs by itself</b> ({@link VirtualClock#selfRunning()}): it follows real time, moves
     * ahead when {@link #advanceClock advanced}, and jumps to the next timer as soon as everything using
     * the machine is idle (every thread that called in is asleep in the simulation or waiting outside
     * it, the work queue empty: {@link TimeDomain}), so a 2-s connect timeout costs milliseconds. Work
     * runs on the worker threads every machine shares. The machine for tests.
     */
    public static Machine virtualTime(String name, long memory) {
        VirtualClock clock = VirtualClock.selfRunning();
        GuestMemory mem = new GuestMemory(name, memory);
        Machine m = new Machine(new KernelContext(name, clock, ThreadedWorkQueue.shared(name + "/system_wq", 2, clock),
                mem, new PageAllocator(mem)), true);
        m.ownTimeDomain();
        return m;
    }

    /**
     * As {@link #virtualTime}, with a clock in <b>real time</b> ({@link RealClock}, the JVM's monotonic
     * time): every timeout takes its full time, and the clock cannot be advanced. The machine for
     * measurements and long runs.
     */
    public static Machine realTime(String name, long memory) {
        return new Machine(newKernel(name, memory, new RealClock(), false), true);
    }

    /**
     * As {@link #virtualTime}, with a <b>manual</b> virtual clock: time stands still until
     * {@link #advanceClock} moves it, so a test decides when each timeout expires. Work still runs on
     * the shared worker threads.
     */
    public static Machine manualTime(String name, long memory) {
        return new Machine(newKernel(name, memory, new VirtualClock(), false), true);
    }

    /**
     * A kernel context on {@code clock} with {@code memory} bytes whose work runs on the shared worker
     * threads (two works at once at most); free pages poisoned if {@code poison}.
     */
    static KernelContext newKernel(String name, long memory, Clock clock, boolean poison) {
        GuestMemory mem = new GuestMemory(name, memory);
        return new KernelContext(name, clock, ThreadedWorkQueue.shared(name + "/system_wq", 2, clock), mem,
                new PageAllocator(mem, 0, Math.toIntExact(mem.pages()), poison));
    }

    /**
     * Moves this machine's clock {@code d} ahead (a guest's clock is its own): timers that fall due
     * fire, waits that time out end. Works on {@link #virtualTime} and {@link #manualTime} machines.
     *
     * @throws IllegalStateException on a {@link #realTime} machine, whose clock cannot be moved
     * @throws IllegalArgumentException for a negative duration (time never goes back)
     */
    public void advanceClock(Duration d) {
        if (!(kernel.clock() instanceof VirtualClock vc)) {
            throw new IllegalStateException("a real-time clock cannot be advanced: machine=" + kernel.name());
        }
        vc.advance(d.toNanos());
    }

    /** The machine's name ({@code "host"}, {@code "guest3"}, ...). */
    public String name() {
        return kernel.name();
    }

    /**
     * A fresh seed for the ephemeral port counter, drawn for one boot. The kernel's
     * {@code __vsock_bind_connectible} starts its static counter at a random u32 above
     * {@code LAST_RESERVED_PORT} the first time it needs one, so every boot starts elsewhere: a guest
     * rebooted with the same CID does not reuse the ports of its previous life, whose host-side sockets
     * may still exist.
     */
    static long bootPortSeed() {
        return ThreadLocalRandom.current().nextLong();
    }

    /** The kernel context. */
    KernelContext kernel() {
        return kernel;
    }

    /** The af_vsock core. */
    VsockCore core() {
        return core;
    }

    /**
     * rmmod vsock: AF_VSOCK leaves the socket families ({@code sock_unregister} in vsock_exit), so
     * socket() fails with EAFNOSUPPORT until {@link #insmodVsock()}. 0, or {@code -EBUSY} while a
     * transport module (vsock_loopback, the guest driver, vhost_vsock) or a socket still uses it.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_exit")
    public int rmmodVsock() {
        VsockCore c = core;
        if (c.transportLocal() != null || c.transportG2h() != null || c.transportH2g() != null || liveSockets() != 0) {
            return -io.vsocksim.uapi.Errno.EBUSY;
        }
        vsockLoaded = false;
        return 0;
    }

    /** insmod vsock.ko: AF_VSOCK is a socket family again. 0, or {@code -EEXIST} if it is loaded. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_init")
    public int insmodVsock() {
        if (vsockLoaded) {
            return -io.vsocksim.uapi.Errno.EEXIST;
        }
        vsockLoaded = true;
        return 0;
    }

    /** True while vsock.ko is loaded (always, unless {@link #rmmodVsock()} took it out). */
    public boolean vsockLoaded() {
        return vsockLoaded;
    }

    /** The loopback transport, or null if not loaded. */
    VsockLoopback loopback() {
        return loopback;
    }

    /**
     * Starts a packet capture of this machine's vsock traffic into {@code path}, as
     * {@code ip link add vsockmon0 type vsockmon} and {@code tcpdump -i vsockmon0 -w path} would:
     * pcapng for a name ending in {@code .pcapng}, classic pcap otherwise ({@link VsockCapture#start}).
     * Close the result to stop it.
     *
     * @throws IOException if the file cannot be written (no capture is left running)
     */
    public VsockCapture capture(Path path) throws IOException {
        return VsockCapture.start(this, path);
    }

    /**
     * The kernel side of socket(2): {@code __sys_socket_create} and {@code sock_create} for a caller
     * with {@code capEffective}. 0 with the new socket's file in {@code out[0]} (holding its one
     * reference), or {@code -errno}: EINVAL for type flags other than SOCK_NONBLOCK/SOCK_CLOEXEC,
     * EAFNOSUPPORT while vsock is not loaded, then af_vsock's checks. SIM: the socket keeps
     * {@code capEffective} for checks made outside any process call.
     */
    @Linux(file = "net/socket.c", fn = "__sys_socket_create")
    int sockCreate(int type, int protocol, long capEffective, SocketFile[] out) {
        if (!SocketFile.typeFlagsValid(type)) {
            return -Errno.EINVAL;
        }
        if (!vsockLoaded) {
            return -Errno.EAFNOSUPPORT; // __sock_create: no net_families[AF_VSOCK] (and no modprobe here)
        }
        kernel.cpus().enter();
        VsockSock[] sk = new VsockSock[1];
        // The calling thread now uses this machine: from here on its idleness counts for time jumps.
        TimeDomain.enterCall(kernel.clock());
        try {
            int rc = AfVsock.create(core, type & SocketFile.SOCK_TYPE_MASK, protocol, capEffective, sk);
            if (rc < 0) {
                return rc;
            }
        } finally {
            TimeDomain.exitCall(kernel.clock());
        }
        out[0] = new SocketFile(sk[0], (type & io.vsocksim.uapi.Sock.SOCK_NONBLOCK) != 0);
        return 0;
    }

    /**
     * Allocates {@code bytes} of user memory in this machine's pages (a guest's RAM for a guest): a
     * buffer that MSG_ZEROCOPY can pin. Close it to free it. Sizes are checked as
     * {@code mmap(NULL, bytes, ..., MAP_ANONYMOUS | MAP_POPULATE, -1, 0)} checks its length: 0 is
     * EINVAL, a negative {@code int} is a huge {@code size_t} and ENOMEM.
     *
     * @throws ErrnoException EINVAL for 0 bytes; ENOMEM for a negative size, a size above
     *     {@link io.vsocksim.mm.UserBuffer#MAX_BYTES} (SIM: the largest buffer the simulator builds) or
     *     when the machine has no block that large free
     */
    io.vsocksim.mm.UserBuffer allocUserBuffer(int bytes) throws ErrnoException {
        if (bytes == 0) {
            throw new ErrnoException(io.vsocksim.uapi.Errno.EINVAL, "allocUserBuffer");
        }
        if (bytes < 0 || bytes > io.vsocksim.mm.UserBuffer.MAX_BYTES) {
            throw new ErrnoException(io.vsocksim.uapi.Errno.ENOMEM, "allocUserBuffer");
        }
        io.vsocksim.mm.UserBuffer b = io.vsocksim.mm.UserBuffer.alloc(kernel.pages(), bytes);
        if (b == null) {
            throw new ErrnoException(io.vsocksim.uapi.Errno.ENOMEM, "allocUserBuffer");
        }
        return b;
    }

    /**
     * Waits until this machine's work queue has nothing queued or running (SIM: a tool for ordering a
     * simulated run the way a real kernel orders it in time, e.g. vsock_test's rule that a packet sent
     * before a control line is processed before the peer reads that line). Must not be called from
     * the machine's own work. Returns true if the queue was already idle.
     */
    public boolean quiesce() {
        io.vsocksim.kernel.WorkQueue wq = kernel.systemWq();
        if (wq instanceof io.vsocksim.kernel.ManualWorkQueue) {
            return ((io.vsocksim.kernel.ManualWorkQueue) wq).runUntilIdle() == 0;
        }
        io.vsocksim.kernel.ThreadedWorkQueue tq = (io.vsocksim.kernel.ThreadedWorkQueue) wq;
        boolean wasIdle = tq.idle();
        while (!tq.idle()) {
            tq.flush();
        }
        return wasIdle;
    }

    /**
     * Pages that devices hold on purpose and whose number varies with traffic (the data pages of a
     * guest's posted zerocopy RX buffers), outside the slab caches.
     */
    long devicePages() {
        return 0;
    }

    /** Slab objects that devices hold on purpose (the heads of a guest's posted RX buffers). */
    long deviceObjects() {
        return 0;
    }

    /**
     * What this machine's memory holds for sockets and packets, device-held RX buffers left out: leak
     * checks compare it across a test.
     */
    Footprint footprint() {
        return Footprint.of(kernel().pages()).minus(devicePages(), deviceObjects());
    }

    /**
     * Zerocopy receive (RFC, not upstream): sets how this machine allocates received packet data and
     * whether {@code mmap}/{@code SO_VM_SOCKETS_ZEROCOPY} exist. OFF (the default) is 6.12.117.
     * Packets allocated earlier keep their layout (they are copied when mapped).
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC: packet allocation policy")
    public void setZerocopyPolicy(io.vsocksim.uapi.ZerocopyPolicy policy) {
        io.vsocksim.vsock.ZerocopySetting.setPolicy(core, policy);
    }

    /** This machine's zerocopy receive policy. */
    public io.vsocksim.uapi.ZerocopyPolicy zerocopyPolicy() {
        return io.vsocksim.vsock.ZerocopySetting.policy(core);
    }

    /** The pids of this machine's processes. */
    io.vsocksim.kernel.PidTable pids() {
        return pids;
    }

    /** {@code sysctl net.core.somaxconn}: the cap on {@code listen()} backlogs (default 4096). */
    public int somaxconn() {
        return kernel.somaxconn();
    }

    /**
     * {@code sysctl -w net.core.somaxconn=value}; listeners keep the backlog they were given, later
     * {@code listen()} calls are clamped to the new value.
     *
     * @throws ErrnoException EINVAL for a negative value
     */
    public void setSomaxconn(int value) throws ErrnoException {
        ErrnoException.check(kernel.setSomaxconn(value), "sysctl net.core.somaxconn");
    }

    /** Sockets created and not yet destructed. */
    public int liveSockets() {
        return core.liveSockets();
    }

    @Override
    public void close() {
        try {
            kernel.close();
        } finally {
            if (ownDomain != null) {
                ownDomain.close();
            }
        }
    }

    /**
     * Puts this machine's self-running clock in a time domain of its own, unless it has one already
     * (or its clock is not self-running): its time then jumps to the next timer whenever everything
     * using the machine is idle ({@link TimeDomain}). The domain closes with the machine.
     */
    final TimeDomain ownTimeDomain() {
        if (ownDomain == null && kernel.clock() instanceof VirtualClock vc && vc.isSelfRunning()
                && vc.domain() == null) {
            ownDomain = new TimeDomain(kernel.name());
            ownDomain.add(vc, kernel.systemWq());
        }
        return ownDomain;
    }

    /** The time domain this machine's clock jumps with, or null (a manual or real clock). */
    TimeDomain timeDomain() {
        return kernel.clock() instanceof VirtualClock vc ? vc.domain() : null;
    }
}
