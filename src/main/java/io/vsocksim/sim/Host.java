package io.vsocksim.sim;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.RealClock;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.vhost.VhostTransport;
import io.vsocksim.vsock.vhost.VhostVsock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The host machine: CID 2, vhost-vsock loaded (the H2G transport) and, optionally, vsock_loopback.
 * Each {@link Guest} started on it gets its own kernel context and one {@link VhostVsock}, set up as a
 * VMM does (open, SET_GUEST_CID, features and rings when the guest driver binds, SET_RUNNING at
 * DRIVER_OK).
 */
public final class Host extends Machine {
    private final VhostTransport vhost;
    private final List<Guest> guests = new CopyOnWriteArrayList<>();

    /**
     * A host whose ephemeral ports are seeded per boot ({@link Machine#bootPortSeed()}).
     *
     * @param kernel the host's kernel context (owned)
     * @param loadLoopback whether vsock_loopback is loaded on the host
     */
    Host(KernelContext kernel, boolean loadLoopback) {
        this(kernel, loadLoopback, bootPortSeed());
    }

    /**
     * A host whose ephemeral ports are reproducible from {@code portSeed}.
     *
     * @param kernel the host's kernel context (owned)
     * @param loadLoopback whether vsock_loopback is loaded on the host
     * @param portSeed seed of the ephemeral port counter
     */
    Host(KernelContext kernel, boolean loadLoopback, long portSeed) {
        super(kernel, loadLoopback, portSeed);
        this.vhost = VhostTransport.register(core());
        ownTimeDomain(); // with a self-running clock: the host and its guests jump together when idle
    }

    /**
     * A host of 64 MiB, vsock_loopback loaded, whose clock is <b>virtual and runs by itself</b>
     * ({@link VirtualClock#selfRunning()}): it follows real time, moves ahead when
     * {@link #advanceClock advanced}, and jumps to the next timer as soon as everything using the host
     * and its guests is idle (every thread that called in is asleep in the simulation or waiting
     * outside it, every work queue empty: {@link TimeDomain}), so a 2-s connect timeout costs
     * milliseconds. Guests started with {@link #startGuest(long)} get a clock of the same kind and jump
     * with it. The host for tests.
     */
    public static Host virtualTime(String name) {
        return new Host(threadedKernel(name, GuestMemory.DEFAULT_SIZE), true);
    }

    /**
     * As {@link #virtualTime}, with clocks in <b>real time</b> ({@link RealClock}, the JVM's monotonic
     * time) for the host and its guests: every timeout takes its full time, and the clocks cannot be
     * advanced. The host for measurements and long runs.
     */
    public static Host realTime(String name) {
        return new Host(threadedKernel(name, GuestMemory.DEFAULT_SIZE, new RealClock()), true);
    }

    /**
     * As {@link #virtualTime}, with <b>manual</b> virtual clocks for the host and its guests: time stands
     * still until {@link #advanceClock} moves it (each machine's clock is its own), so a test decides
     * when each timeout expires. Work still runs on the shared worker threads.
     */
    public static Host manualTime(String name) {
        return new Host(threadedKernel(name, GuestMemory.DEFAULT_SIZE, new VirtualClock()), true);
    }

    /**
     * A kernel context with a self-running clock and {@code memory} bytes, whose work runs on the
     * worker threads every machine shares (two works at once at most).
     */
    static KernelContext threadedKernel(String name, long memory) {
        return threadedKernel(name, memory, VirtualClock.selfRunning());
    }

    /**
     * A kernel context on {@code clock} with {@code memory} bytes, its work on the shared worker threads
     * (two works at once at most). Free pages are poisoned if {@link PageAllocator#poisonByDefault()}
     * says so.
     */
    static KernelContext threadedKernel(String name, long memory, Clock clock) {
        return newKernel(name, memory, clock, PageAllocator.poisonByDefault());
    }

    /** A clock for a guest of this host: of the host's kind (real, self-running or manual), its own. */
    private Clock guestClock() {
        Clock c = kernel().clock();
        if (c instanceof VirtualClock vc) {
            return vc.isSelfRunning() ? VirtualClock.selfRunning() : new VirtualClock();
        }
        return new RealClock();
    }

    /** The vhost transport (H2G) and its CID table. */
    VhostTransport vhost() {
        return vhost;
    }

    /** Guests currently running. */
    public List<Guest> guests() {
        return List.copyOf(guests);
    }

    /**
     * Starts a guest of 32 MiB with every feature offered ({@link Guest.Options#DEFAULTS}) and a clock of
     * this host's kind ({@link #virtualTime}, {@link #realTime} or {@link #manualTime}).
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID of this host
     *     or of another guest
     */
    public Guest startGuest(long cid) throws ErrnoException {
        return startGuest(cid, Guest.Options.DEFAULTS);
    }

    /**
     * {@link #startGuest(long)} with the VMM's configuration {@code options}.
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID of this host
     *     or of another guest
     * @throws IllegalArgumentException for a queue size the guest cannot receive with
     */
    public Guest startGuest(long cid, Guest.Options options) throws ErrnoException {
        return startGuest(cid, options, io.vsocksim.uapi.ZerocopyPolicy.OFF, 1);
    }

    /**
     * {@link #startGuest(long, Guest.Options)} with the guest's zerocopy receive policy (RFC, not
     * upstream), fixed for the guest's life, and {@code rxPagesPerBuffer} data pages per posted RX
     * buffer (1 = the RFC's layout; up to {@link io.vsocksim.uapi.ZerocopyPolicy#MAX_RX_PAGES_PER_BUFFER}
     * so that a 64 KiB packet arrives whole).
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID of this host
     *     or of another guest
     * @throws IllegalArgumentException if {@code options.queueSize()} is not a power of two from 1 to
     *     32768, {@code rxPagesPerBuffer} is outside 1..16, or the RX queue holds fewer than two RX
     *     buffers ({@code queueSize < 2 * (1 + rxPagesPerBuffer)} with zerocopy receive, {@code < 2}
     *     without)
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC: guest RX buffers as header + pages")
    public Guest startGuest(long cid, Guest.Options options, io.vsocksim.uapi.ZerocopyPolicy policy,
            int rxPagesPerBuffer) throws ErrnoException {
        Guest.checkConfig(options, policy, rxPagesPerBuffer);
        KernelContext k = threadedKernel("guest" + cid, GUEST_MEMORY, guestClock());
        try {
            return startGuest(cid, k, options, policy, rxPagesPerBuffer);
        } catch (ErrnoException | RuntimeException e) {
            k.close();
            throw e;
        }
    }

    /** Memory of a guest that {@link #startGuest(long)} starts: 32 MiB. */
    private static final long GUEST_MEMORY = 32L << 20;

    /**
     * Opens a vhost-vsock device, gives it {@code cid} ({@code VHOST_VSOCK_SET_GUEST_CID}) and boots a
     * guest on {@code kernel} whose driver binds to it. The guest owns {@code kernel} once this returns.
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID of this host
     *     or of another guest
     * @throws IllegalArgumentException for a queue size the guest cannot receive with (see
     *     {@link #startGuest(long, KernelContext, Guest.Options, io.vsocksim.uapi.ZerocopyPolicy, int)})
     */
    Guest startGuest(long cid, KernelContext kernel, Guest.Options options) throws ErrnoException {
        return startGuest(cid, kernel, options, io.vsocksim.uapi.ZerocopyPolicy.OFF);
    }

    /**
     * {@link #startGuest(long, KernelContext, Guest.Options)} with the guest's zerocopy receive policy
     * (RFC, not upstream), fixed for the guest's life: it decides the layout of the RX buffers its
     * driver posts.
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC: guest RX buffers as header + page")
    Guest startGuest(long cid, KernelContext kernel, Guest.Options options,
            io.vsocksim.uapi.ZerocopyPolicy policy) throws ErrnoException {
        return startGuest(cid, kernel, options, policy, 1);
    }

    /**
     * As {@link #startGuest(long, KernelContext, Guest.Options, io.vsocksim.uapi.ZerocopyPolicy)}, with
     * {@code rxPagesPerBuffer} data pages per posted RX buffer (1 = the RFC's layout; up to 16 so that
     * a 64 KiB packet arrives whole, unused pages being freed on arrival).
     *
     * <p>A configuration is checked before the device is opened, so a refused one leaves the CID free
     * and {@code kernel} untouched (the caller still owns it).
     *
     * @throws ErrnoException EINVAL for CID 0, 1, 2, U32_MAX or above; EADDRINUSE for a CID of this host
     *     or of another guest
     * @throws IllegalArgumentException if {@code options.queueSize()} is not a power of two from 1 to
     *     32768, {@code rxPagesPerBuffer} is outside 1..16, or the RX queue holds fewer than two RX
     *     buffers ({@code queueSize < 2 * (1 + rxPagesPerBuffer)} with zerocopy receive, {@code < 2}
     *     without): the rule is spelled out at {@code Guest.checkConfig}
     */
    @io.vsocksim.NotUpstream("virtio/vsock zerocopy RX RFC: guest RX buffers as header + pages")
    Guest startGuest(long cid, KernelContext kernel, Guest.Options options,
            io.vsocksim.uapi.ZerocopyPolicy policy, int rxPagesPerBuffer) throws ErrnoException {
        Guest.checkConfig(options, policy, rxPagesPerBuffer);
        VhostVsock dev = new VhostVsock(vhost);
        int rc = dev.setGuestCid(cid);
        if (rc != 0) {
            dev.release();
            throw new ErrnoException(-rc, "ioctl(VHOST_VSOCK_SET_GUEST_CID)");
        }
        Guest g = new Guest(this, kernel, options, dev, cid, policy, rxPagesPerBuffer);
        guests.add(g);
        TimeDomain domain = timeDomain();
        if (domain != null && kernel.clock() instanceof VirtualClock vc && vc.isSelfRunning() && vc.domain() == null) {
            domain.add(vc, kernel.systemWq());
        }
        return g;
    }

    /**
     * Has the VMM put a TRANSPORT_RESET event on {@code guest}'s event queue; 0, or {@code -ENOSPC} if
     * the guest had no event buffer posted, {@code -ENODEV} if the device is not running, {@code -EINVAL}
     * if the next event chain was malformed (device-readable descriptors, or under 4 writable bytes) and
     * was dropped, as QEMU drops it ({@link Guest#vmmCounters()} counts each outcome).
     */
    public int sendTransportReset(Guest guest) {
        return guest.device().sendTransportReset();
    }

    /** {@link #sendTransportReset} after changing the CID in the guest's config space (migration). */
    public int sendTransportReset(Guest guest, long newCid) {
        int rc = guest.vhost().setGuestCid(newCid);
        if (rc != 0) {
            return rc;
        }
        guest.device().setConfigGuestCid(newCid);
        return sendTransportReset(guest);
    }

    void forget(Guest g) {
        guests.remove(g);
    }

    /** Closes every guest, then the host. */
    @Override
    public void close() {
        for (Guest g : guests) {
            g.close();
        }
        super.close();
    }

}
