package io.vsocksim.sim;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.PidTable;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.net.SocketFile;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.sim.internal.VhostVsockPciCounters;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.guest.VirtioVsockTransport;
import io.vsocksim.vsock.loopback.VsockLoopback;
import io.vsocksim.vsock.vhost.VhostTransport;
import io.vsocksim.vsock.vhost.VhostVsock;

/** The machines' side of {@link SimInternals}: each method is the package-private member it names. */
final class MachineAccess implements SimInternals.Access {
    @Override
    public KernelContext kernel(Machine m) {
        return m.kernel();
    }

    @Override
    public VsockCore core(Machine m) {
        return m.core();
    }

    @Override
    public VsockLoopback loopback(Machine m) {
        return m.loopback();
    }

    @Override
    public PidTable pids(Machine m) {
        return m.pids();
    }

    @Override
    public TimeDomain timeDomain(Machine m) {
        return m.timeDomain();
    }

    @Override
    public long devicePages(Machine m) {
        return m.devicePages();
    }

    @Override
    public io.vsocksim.mm.Footprint footprint(Machine m) {
        return m.footprint();
    }

    @Override
    public UserBuffer allocUserBuffer(Machine m, int bytes) throws ErrnoException {
        return m.allocUserBuffer(bytes);
    }

    @Override
    public int sockCreate(Machine m, int type, int protocol, long capEffective, SocketFile[] out) {
        return m.sockCreate(type, protocol, capEffective, out);
    }

    @Override
    public Machine newMachine(KernelContext kernel, boolean loadLoopback, long portSeed) {
        return new Machine(kernel, loadLoopback, portSeed);
    }

    @Override
    public Host newHost(KernelContext kernel, boolean loadLoopback, long portSeed) {
        return new Host(kernel, loadLoopback, portSeed);
    }

    @Override
    public long bootPortSeed() {
        return Machine.bootPortSeed();
    }

    @Override
    public KernelContext threadedKernel(String name, long memory, VirtualClock clock) {
        return Host.threadedKernel(name, memory, clock);
    }

    @Override
    public VhostTransport vhost(Host h) {
        return h.vhost();
    }

    @Override
    public Guest startGuest(Host h, long cid, KernelContext kernel, Guest.Options options, ZerocopyPolicy policy,
            int rxPagesPerBuffer) throws ErrnoException {
        return h.startGuest(cid, kernel, options, policy, rxPagesPerBuffer);
    }

    @Override
    public VirtioVsockTransport transport(Guest g) {
        return g.transport();
    }

    @Override
    public VhostVsock vhost(Guest g) {
        return g.vhost();
    }

    @Override
    public VhostVsockPciCounters vmmCounters(Guest g) {
        return g.vmmCounters();
    }
}
