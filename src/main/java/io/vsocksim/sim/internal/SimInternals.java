package io.vsocksim.sim.internal;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.PidTable;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.net.SocketFile;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockCounters;
import io.vsocksim.vsock.guest.VirtioVsock;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.guest.VirtioVsockTransport;
import io.vsocksim.vsock.loopback.VsockLoopback;
import io.vsocksim.vsock.vhost.VhostTransport;
import io.vsocksim.vsock.vhost.VhostVsock;
import io.vsocksim.vsock.vhost.VhostVsockCounters;
import java.lang.invoke.MethodHandles;
import java.util.Objects;

/**
 * The inside of a {@link Machine}, {@link Host} and {@link Guest} for the module's own code: the user
 * package's processes, the {@code vsock_test} port, the tools and the tests reach a machine's kernel
 * context, af_vsock core, transports and devices here. The package is not exported, so an embedder
 * sees only the machines' API.
 *
 * <p>The machines' package implements {@link Access} and installs it when {@code Machine} is
 * initialised, as the JDK's {@code SharedSecrets} bridges {@code java.lang} and its internal callers:
 * the members stay package-private in {@code io.vsocksim.sim} and nothing is reflected on. The one
 * static field is written once, at that initialisation.
 */
public final class SimInternals {
    /** What {@code io.vsocksim.sim} gives this class; implemented there, installed once. */
    public interface Access {
        /** The machine's kernel context. */
        KernelContext kernel(Machine m);

        /** The machine's af_vsock core. */
        VsockCore core(Machine m);

        /** The machine's loopback transport, or null if not loaded. */
        VsockLoopback loopback(Machine m);

        /** The pids of the machine's processes. */
        PidTable pids(Machine m);

        /** The time domain the machine's clock jumps with, or null. */
        TimeDomain timeDomain(Machine m);

        /** Pages that the machine's devices hold on purpose (a guest's posted zerocopy RX pages). */
        long devicePages(Machine m);

        /** What the machine's memory holds for sockets and packets, device-held RX buffers left out. */
        io.vsocksim.mm.Footprint footprint(Machine m);

        /** User memory in the machine's pages. */
        UserBuffer allocUserBuffer(Machine m, int bytes) throws ErrnoException;

        /** The kernel side of socket(2) for a caller with {@code capEffective}. */
        int sockCreate(Machine m, int type, int protocol, long capEffective, SocketFile[] out);

        /** A machine on {@code kernel} (owned). */
        Machine newMachine(KernelContext kernel, boolean loadLoopback, long portSeed);

        /** A host on {@code kernel} (owned). */
        Host newHost(KernelContext kernel, boolean loadLoopback, long portSeed);

        /** A fresh seed for the ephemeral port counter, drawn for one boot. */
        long bootPortSeed();

        /** A kernel context on {@code clock} whose work runs on the shared worker threads. */
        KernelContext threadedKernel(String name, long memory, VirtualClock clock);

        /** The host's vhost transport (H2G). */
        VhostTransport vhost(Host h);

        /** Boots a guest of {@code h} on {@code kernel}. */
        Guest startGuest(Host h, long cid, KernelContext kernel, Guest.Options options, ZerocopyPolicy policy,
                int rxPagesPerBuffer) throws ErrnoException;

        /** The guest's virtio transport (G2H). */
        VirtioVsockTransport transport(Guest g);

        /** The host side of the guest's device. */
        VhostVsock vhost(Guest g);

        /** The VMM's counters for the guest's device. */
        VhostVsockPciCounters vmmCounters(Guest g);
    }

    private static volatile Access access;

    private SimInternals() {
    }

    /**
     * Called once, by {@code Machine}'s static initialiser.
     *
     * @throws IllegalStateException on a second call
     */
    public static synchronized void install(Access a) {
        if (access != null) {
            throw new IllegalStateException("SimInternals installed twice");
        }
        access = Objects.requireNonNull(a, "a");
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            try {
                MethodHandles.lookup().ensureInitialized(Machine.class); // its initialiser installs the bridge
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
            a = access;
        }
        return a;
    }

    /** The machine's kernel context (memory, pages, clock, work queue). */
    public static KernelContext kernel(Machine m) {
        return access().kernel(m);
    }

    /** The machine's af_vsock core. */
    public static VsockCore core(Machine m) {
        return access().core(m);
    }

    /** The machine's vsock counters. */
    public static VsockCounters counters(Machine m) {
        return core(m).counters();
    }

    /** The machine's loopback transport, or null if not loaded. */
    public static VsockLoopback loopback(Machine m) {
        return access().loopback(m);
    }

    /** The pids of the machine's processes. */
    public static PidTable pids(Machine m) {
        return access().pids(m);
    }

    /** The time domain the machine's clock jumps with, or null (a manual or real clock). */
    public static TimeDomain timeDomain(Machine m) {
        return access().timeDomain(m);
    }

    /**
     * Pages outside the slab caches that devices hold on purpose and whose number varies with traffic
     * (the data pages of a guest's posted zerocopy RX buffers).
     */
    public static long devicePages(Machine m) {
        return access().devicePages(m);
    }

    /**
     * What {@code m}'s memory holds for sockets and packets (pages outside slabs, slab objects),
     * device-held RX buffers left out: what leak checks compare across a test.
     */
    public static io.vsocksim.mm.Footprint footprint(Machine m) {
        return access().footprint(m);
    }

    /**
     * {@code bytes} of user memory in the machine's pages (a guest's RAM for a guest), which
     * MSG_ZEROCOPY can pin; close it to free it. Sizes are checked as an anonymous mmap checks them.
     *
     * @throws ErrnoException EINVAL for 0 bytes; ENOMEM for a negative size, one above
     *     {@link UserBuffer#MAX_BYTES}, or when the machine has no block that large free
     */
    public static UserBuffer allocUserBuffer(Machine m, int bytes) throws ErrnoException {
        return access().allocUserBuffer(m, bytes);
    }

    /**
     * The kernel side of socket(2) ({@code __sys_socket_create}) for a caller with {@code capEffective}:
     * 0 with the new socket's file in {@code out[0]}, or {@code -errno}.
     */
    public static int sockCreate(Machine m, int type, int protocol, long capEffective, SocketFile[] out) {
        return access().sockCreate(m, type, protocol, capEffective, out);
    }

    /** A machine on {@code kernel} (owned: closed with it), ports seeded per boot. */
    public static Machine newMachine(KernelContext kernel, boolean loadLoopback) {
        return newMachine(kernel, loadLoopback, access().bootPortSeed());
    }

    /** A machine on {@code kernel} whose ephemeral ports are reproducible from {@code portSeed}. */
    public static Machine newMachine(KernelContext kernel, boolean loadLoopback, long portSeed) {
        return access().newMachine(kernel, loadLoopback, portSeed);
    }

    /** A host on {@code kernel} (owned), ports seeded per boot. */
    public static Host newHost(KernelContext kernel, boolean loadLoopback) {
        return newHost(kernel, loadLoopback, access().bootPortSeed());
    }

    /** A host on {@code kernel} whose ephemeral ports are reproducible from {@code portSeed}. */
    public static Host newHost(KernelContext kernel, boolean loadLoopback, long portSeed) {
        return access().newHost(kernel, loadLoopback, portSeed);
    }

    /**
     * A kernel context on {@code clock} with {@code memory} bytes, its work on the shared worker threads
     * (two works at once at most): a manual {@code new VirtualClock()} for tests that drive every
     * timeout themselves, or a self-running one. Free pages are poisoned if
     * {@code PageAllocator.poisonByDefault()} says so.
     */
    public static KernelContext threadedKernel(String name, long memory, VirtualClock clock) {
        return access().threadedKernel(name, memory, clock);
    }

    /** {@link #threadedKernel(String, long, VirtualClock)} with a self-running clock. */
    public static KernelContext threadedKernel(String name, long memory) {
        return threadedKernel(name, memory, VirtualClock.selfRunning());
    }

    /** The host's vhost transport (H2G) and its CID table. */
    public static VhostTransport vhost(Host h) {
        return access().vhost(h);
    }

    /**
     * Boots a guest of {@code h} on {@code kernel} (owned by the guest once this returns), as
     * {@code Host.startGuest} does with a kernel of its own making.
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID in use
     */
    public static Guest startGuest(Host h, long cid, KernelContext kernel, Guest.Options options)
            throws ErrnoException {
        return startGuest(h, cid, kernel, options, ZerocopyPolicy.OFF, 1);
    }

    /** {@link #startGuest(Host, long, KernelContext, Guest.Options)} with a zerocopy receive policy. */
    public static Guest startGuest(Host h, long cid, KernelContext kernel, Guest.Options options,
            ZerocopyPolicy policy) throws ErrnoException {
        return startGuest(h, cid, kernel, options, policy, 1);
    }

    /** ... with {@code rxPagesPerBuffer} data pages per posted RX buffer (1 to 16). */
    public static Guest startGuest(Host h, long cid, KernelContext kernel, Guest.Options options,
            ZerocopyPolicy policy, int rxPagesPerBuffer) throws ErrnoException {
        return access().startGuest(h, cid, kernel, options, policy, rxPagesPerBuffer);
    }

    /** The guest's virtio transport (G2H). */
    public static VirtioVsockTransport transport(Guest g) {
        return access().transport(g);
    }

    /** The guest driver's device state ({@code struct virtio_vsock}). */
    public static VirtioVsock driver(Guest g) {
        return transport(g).device();
    }

    /** The host side of the guest's device. */
    public static VhostVsock vhost(Guest g) {
        return access().vhost(g);
    }

    /** The guest driver's counters. */
    public static VirtioVsockCounters driverCounters(Guest g) {
        return driver(g).counters();
    }

    /** The host device's counters for the guest. */
    public static VhostVsockCounters deviceCounters(Guest g) {
        return vhost(g).counters();
    }

    /** The VMM's counters for the guest's device (the event queue it serves). */
    public static VhostVsockPciCounters vmmCounters(Guest g) {
        return access().vmmCounters(g);
    }
}
