package io.vsocksim.sim;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.testing.Settle;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.VsockSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * A host with guests on real worker threads and manual virtual clocks (a timeout expires only when
 * the test moves time), every machine tracked by a
 * {@link LeakCheck} before its first page is allocated. {@link #close()} (call it from {@code @AfterEach})
 * closes every socket the test opened through {@link #track}, lets close timeouts expire, checks that
 * every socket is gone, then shuts the guests and the host down.
 */
public final class GuestHostTestContext implements AutoCloseable {
    /** Threads for the blocking sides of a test (writers, readers); stopped by {@link #close()}. */
    public final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
    final LeakCheck leaks;
    public final Host host;
    private final List<VsockSocket> sockets = new ArrayList<>();
    private final List<Machine> machines = new ArrayList<>();

    public GuestHostTestContext(LeakCheck leaks) {
        this.leaks = leaks;
        KernelContext k = Host.threadedKernel("host", 96L << 20, new VirtualClock());
        leaks.track(k);
        this.host = new Host(k, true);
        machines.add(host);
    }

    public Guest guest(long cid) throws ErrnoException {
        return guest(cid, Guest.Options.DEFAULTS);
    }

    Guest guest(long cid, Guest.Options options) throws ErrnoException {
        return guest(cid, options, io.vsocksim.uapi.ZerocopyPolicy.OFF);
    }

    Guest guest(long cid, Guest.Options options, io.vsocksim.uapi.ZerocopyPolicy policy) throws ErrnoException {
        return guest(cid, options, policy, 1);
    }

    Guest guest(long cid, Guest.Options options, io.vsocksim.uapi.ZerocopyPolicy policy, int rxPages)
            throws ErrnoException {
        KernelContext k = Host.threadedKernel("guest" + cid, 24L << 20, new VirtualClock());
        leaks.track(k);
        Guest g;
        try {
            g = host.startGuest(cid, k, options, policy, rxPages);
        } catch (ErrnoException | RuntimeException e) {
            k.close();
            throw e;
        }
        machines.add(g);
        return g;
    }

    /**
     * A connected pair, tracked: {client on {@code from}, accepted server on {@code to}, listener}, the
     * listener bound to any CID at {@code port} on {@code to}, reached as {@code toCid}.
     */
    public VsockSocket[] connect(Machine from, Machine to, int toCid, int type, int port) throws ErrnoException {
        VsockSocket l = track(VsockSocket.open(to, type));
        l.bind(io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY, port);
        l.listen(16);
        VsockSocket cl = track(VsockSocket.open(from, type));
        cl.connect(toCid, port);
        VsockSocket sv = track(l.accept());
        return new VsockSocket[] {cl, sv, l};
    }

    public VsockSocket track(VsockSocket s) {
        synchronized (sockets) {
            sockets.add(s);
        }
        return s;
    }

    /** Runs every machine's queued work until a whole round finds every machine idle ({@link Settle#drain}). */
    public void drain() {
        Settle.drain(machines.toArray(new Machine[0]));
    }

    /** Lets close timeouts run out on every machine, one at a time ({@link Settle#closeTimeouts}). */
    public void settle() {
        Settle.closeTimeouts(machines.toArray(new Machine[0]));
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (sockets) {
            for (VsockSocket s : sockets) {
                s.close();
            }
            sockets.clear();
        }
        settle();
        // Guests are closed first: a packet stuck in a TX ring of a released device holds its socket
        // until the driver is removed, as in the kernel.
        host.close();
        StringBuilder live = new StringBuilder();
        for (Machine m : machines) {
            if (m.liveSockets() != 0) {
                live.append(m.kernel().name()).append(": ").append(m.liveSockets()).append(" socket(s) live; ");
            }
        }
        if (live.length() > 0) {
            throw new AssertionError(live.toString());
        }
    }
}
