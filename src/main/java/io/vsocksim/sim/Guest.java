package io.vsocksim.sim;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.sim.internal.VhostVsockPciCounters;
import io.vsocksim.uapi.VirtioRing;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.ZerocopySetting;
import io.vsocksim.vsock.guest.VirtioVsockCounters;
import io.vsocksim.vsock.guest.VirtioVsockTransport;
import io.vsocksim.vsock.vhost.VhostVsock;
import io.vsocksim.vsock.vhost.VhostVsockCounters;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A guest machine: its own kernel context (memory, pages, clock, work queue), af_vsock core, the
 * virtio-vsock driver bound to a device whose host side is one {@link VhostVsock} of the {@link Host},
 * and optionally vsock_loopback. Created by {@link Host#startGuest}.
 *
 * <p>{@link #close()} is the VM going away: the host closes the vhost fd (orphaned host sockets are
 * reset), the driver is removed (guest sockets reset, every buffer and ring page freed), then the
 * guest's kernel stops.
 */
public final class Guest extends Machine {
    /**
     * How the VMM configures the device and what the guest loads.
     *
     * @param loopback load vsock_loopback in the guest
     * @param seqpacket offer VIRTIO_VSOCK_F_SEQPACKET
     * @param eventIdx offer VIRTIO_RING_F_EVENT_IDX
     * @param indirect offer VIRTIO_RING_F_INDIRECT_DESC
     * @param queueSize size of each of the three queues: a power of two up to 32768, large enough for two
     *     RX buffers ({@link #checkConfig})
     * @param portSeed seed of the guest kernel's ephemeral port counter, for reproducible port numbers;
     *     empty (the default) draws one per boot ({@link Machine#bootPortSeed()}), as the kernel does
     */
    public record Options(boolean loopback, boolean seqpacket, boolean eventIdx, boolean indirect, int queueSize,
            OptionalLong portSeed) {
        /** Everything offered, loopback loaded, 128-entry queues, ports seeded per boot. */
        public static final Options DEFAULTS = new Options(true, true, true, true, 128);

        /** Checks that {@code portSeed} is present or empty, never null. */
        public Options {
            Objects.requireNonNull(portSeed, "portSeed");
        }

        /** These options with ports seeded per boot. */
        public Options(boolean loopback, boolean seqpacket, boolean eventIdx, boolean indirect, int queueSize) {
            this(loopback, seqpacket, eventIdx, indirect, queueSize, OptionalLong.empty());
        }

        /** These options with the ephemeral port counter seeded from {@code seed}. */
        public Options withPortSeed(long seed) {
            return new Options(loopback, seqpacket, eventIdx, indirect, queueSize, OptionalLong.of(seed));
        }

        long offer() {
            long f = VhostVsockPci.FULL_OFFER;
            if (!seqpacket) {
                f &= ~(1L << VirtioVsock.VIRTIO_VSOCK_F_SEQPACKET);
            }
            if (!eventIdx) {
                f &= ~(1L << VirtioRing.VIRTIO_RING_F_EVENT_IDX);
            }
            if (!indirect) {
                f &= ~(1L << VirtioRing.VIRTIO_RING_F_INDIRECT_DESC);
            }
            return f;
        }
    }

    /**
     * The configurations {@link Host#startGuest} accepts, checked before it opens anything. SIM: a VMM
     * and the driver would accept more, but in these the guest can receive for its whole life:
     * <ul>
     *   <li>{@code queueSize} is a split virtqueue size: a power of two from 1 to
     *       {@link VirtioRing#VRING_MAX_NUM};</li>
     *   <li>{@code rxPagesPerBuffer} is 1 to {@link ZerocopyPolicy#MAX_RX_PAGES_PER_BUFFER}, whatever the
     *       policy;</li>
     *   <li>the RX queue holds at least two RX buffers: {@code queueSize >= 2 * d}, where {@code d}, the
     *       descriptors one RX buffer takes, is 1 with {@link ZerocopyPolicy#OFF} and
     *       {@code 1 + rxPagesPerBuffer} otherwise (the header and each page; RX never uses indirect
     *       descriptors). {@code virtio_transport_rx_work} refills only when
     *       {@code rx_buf_nr < rx_buf_max_nr / 2}: with one buffer posted that is {@code 0 < 0}, so the
     *       buffer the first packet uses is never replaced; with none the guest never receives.</li>
     * </ul>
     *
     * @throws IllegalArgumentException naming the rule a configuration breaks
     */
    static void checkConfig(Options options, ZerocopyPolicy policy, int rxPagesPerBuffer) {
        int n = options.queueSize();
        if (!VirtioRing.isValidNum(n)) {
            throw new IllegalArgumentException("queue size must be a power of 2 from 1 to "
                    + VirtioRing.VRING_MAX_NUM + ": queueSize=" + n);
        }
        if (rxPagesPerBuffer < 1 || rxPagesPerBuffer > ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER) {
            throw new IllegalArgumentException("rx pages per buffer outside 1.."
                    + ZerocopyPolicy.MAX_RX_PAGES_PER_BUFFER + ": rxPagesPerBuffer=" + rxPagesPerBuffer);
        }
        int d = policy == ZerocopyPolicy.OFF ? 1 : 1 + rxPagesPerBuffer;
        if (n / d < 2) {
            throw new IllegalArgumentException("RX queue holds " + n / d + " buffer(s) of " + d
                    + " descriptors, needs 2 for the driver to refill: queueSize=" + n + " < " + 2 * d);
        }
    }

    private final Host host;
    private final VirtioVsockTransport transport;
    private final VhostVsock vhost;
    private final VhostVsockPci device;
    private final int queueSize;
    private final java.util.concurrent.locks.ReentrantLock vmState = new io.vsocksim.kernel.Mutex();
    private volatile boolean paused; // written under vmState
    private volatile boolean closed;
    /** What the VMM tears down with this VM, before the device (e.g. a hybrid vsock bridge). */
    private final java.util.List<AutoCloseable> closeWith = new java.util.concurrent.CopyOnWriteArrayList<>();

    Guest(Host host, KernelContext kernel, Options options, VhostVsock vhost, long cid) {
        this(host, kernel, options, vhost, cid, ZerocopyPolicy.OFF, 1);
    }

    Guest(Host host, KernelContext kernel, Options options, VhostVsock vhost, long cid, ZerocopyPolicy policy,
            int rxPagesPerBuffer) {
        super(kernel, options.loopback(), options.portSeed().orElseGet(Machine::bootPortSeed));
        // Before the driver probes: its first rx_fill already posts buffers of the policy's layout.
        ZerocopySetting.setPolicy(core(), policy);
        ZerocopySetting.setRxPagesPerBuffer(core(), rxPagesPerBuffer);
        this.host = host;
        this.vhost = vhost;
        this.transport = VirtioVsockTransport.register(core());
        this.device = new VhostVsockPci(vhost, kernel.memory(), transport, options.offer(), cid);
        this.queueSize = options.queueSize();
        int rc = transport.probe(device, queueSize);
        if (rc != 0) {
            throw new IllegalStateException("virtio_vsock_probe failed: rc=" + rc);
        }
    }

    /**
     * The data pages of the driver's posted RX buffers: none for the kernel's buffers (each is a
     * kmalloc-4096 object); with zerocopy receive on, the pages behind each header.
     */
    @Override
    long devicePages() {
        io.vsocksim.vsock.guest.VirtioVsock d = driver();
        return d == null || zerocopyPolicy() == ZerocopyPolicy.OFF ? 0
                : (long) d.rxBufNr() * ZerocopySetting.rxPagesPerBuffer(core());
    }

    /** The heads of the driver's posted RX buffers: one slab object each. */
    @Override
    long deviceObjects() {
        io.vsocksim.vsock.guest.VirtioVsock d = driver();
        return d == null ? 0 : d.rxBufNr();
    }

    /**
     * A guest's policy is fixed when it boots ({@link Host#startGuest(long, KernelContext, Options,
     * ZerocopyPolicy)}): its RX buffers are posted by then.
     *
     * @throws IllegalStateException always
     */
    @Override
    public void setZerocopyPolicy(ZerocopyPolicy policy) {
        throw new IllegalStateException("a guest's zerocopy policy is set at boot: Host.startGuest(..., policy)");
    }

    /** The guest's CID as its driver last read it. */
    public int cid() {
        return transport.getLocalCid();
    }

    /** The guest's virtio transport (G2H). */
    VirtioVsockTransport transport() {
        return transport;
    }

    /** The guest driver's device state ({@code struct virtio_vsock}). */
    io.vsocksim.vsock.guest.VirtioVsock driver() {
        return transport.device();
    }

    /** The host side of this guest's device. */
    VhostVsock vhost() {
        return vhost;
    }

    /** The guest driver's counters. */
    VirtioVsockCounters driverCounters() {
        return transport.device().counters();
    }

    /** The host device's counters. */
    VhostVsockCounters deviceCounters() {
        return vhost.counters();
    }

    /** The VMM's counters for this guest's device (the event queue it serves). */
    VhostVsockPciCounters vmmCounters() {
        return device.counters();
    }

    VhostVsockPci device() {
        return device;
    }

    /** The host this guest runs on. */
    public Host host() {
        return host;
    }

    /**
     * The VMM stops the VM, as QEMU's {@code stop} (and a migration's last phase) does: the vCPUs stop
     * first, so no thread of the guest's processes enters its kernel until {@link #resume()} (see
     * {@link io.vsocksim.kernel.Cpus} for what a thread already in a call does), then the vsock device:
     * vhost is stopped ({@code VHOST_VSOCK_SET_RUNNING 0}), so nothing more reaches the guest. The
     * host's sockets keep working: what they send waits in vhost's queue, and credit stops their senders
     * once the guest's buffers are full. No effect if the VM is already paused.
     */
    public void pause() {
        vmState.lock();
        try {
            if (paused || closed) {
                return;
            }
            paused = true;
            kernel().cpus().stop();
            vhost.setRunning(false);
        } finally {
            vmState.unlock();
        }
    }

    /**
     * The VMM lets a paused VM run again ({@code cont}): vhost starts again, which flushes what the host
     * queued meanwhile, and looks at the TX ring once (QEMU re-arms each queue's notifier as signalled
     * when it restarts vhost, so a kick the guest gave while the device was stopped is not lost); then
     * the vCPUs run. No effect if the VM is not paused.
     *
     * @return 0, or the error {@code VHOST_VSOCK_SET_RUNNING} gave (the VM stays paused)
     */
    public int resume() {
        vmState.lock();
        try {
            if (!paused || closed) {
                return 0;
            }
            int rc = vhost.setRunning(true);
            if (rc != 0) {
                return rc;
            }
            vhost.kick(io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX);
            paused = false;
            kernel().cpus().start();
            return 0;
        } finally {
            vmState.unlock();
        }
    }

    /** True between {@link #pause()} and {@link #resume()}. */
    public boolean paused() {
        return paused;
    }

    /**
     * Unbinds the guest's vsock driver from its device and binds it again, as a hot unplug and replug
     * (or an unbind and bind in sysfs) does: {@code virtio_vsock_remove} resets every connected socket
     * of the guest with ECONNRESET and resets the device (the VMM stops vhost), then
     * {@code virtio_vsock_probe} negotiates again, posts fresh RX and event buffers, and vhost starts.
     * The guest's CID stays. Listening and unconnected sockets survive, as in the kernel.
     *
     * @return 0, or the probe's error: {@code -ENOMEM} when the guest has no page for the driver's state
     *     or its rings. The guest is then left without a device (a connect or send gets ENODEV) until
     *     its device is replugged again.
     * @throws IllegalStateException if the VM is paused (a stopped VM cannot run its driver)
     */
    public int replugDevice() {
        vmState.lock();
        try {
            if (paused) {
                throw new IllegalStateException("guest" + cid() + " is paused: resume it before replugging its device");
            }
            if (closed) {
                return -io.vsocksim.uapi.Errno.ENODEV;
            }
            transport.remove();
            return transport.probe(device, queueSize);
        } finally {
            vmState.unlock();
        }
    }

    /**
     * Has {@link #close()} close {@code c} first, while the guest and its device still run (a VMM's
     * backends go with its VM). A failure to close it does not stop the guest's close.
     */
    public void closeWith(AutoCloseable c) {
        closeWith.add(Objects.requireNonNull(c, "c"));
    }

    /** Undoes {@link #closeWith} for {@code c} (closed on its own); no effect if it was not registered. */
    public void forgetCloseWith(AutoCloseable c) {
        closeWith.remove(c);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        kernel().cpus().start(); // a paused VM is torn down all the same
        for (AutoCloseable c : closeWith) {
            try {
                c.close();
            } catch (Exception e) {
                // The VM goes regardless; the backend's own close reports what it could not undo.
            }
        }
        host.forget(this);
        vhost.release();
        // The host work queue may still hold a handler run that interrupts us: let it finish first.
        host.kernel().systemWq().flush();
        transport.remove();
        transport.unregister();
        if (kernel().clock() instanceof VirtualClock vc && vc.domain() != null && vc.domain() == host.timeDomain()) {
            vc.domain().remove(vc, kernel().systemWq()); // leaves the host's time domain with its clock
        }
        super.close();
    }
}
