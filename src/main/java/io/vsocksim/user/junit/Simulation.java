package io.vsocksim.user.junit;

import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static io.vsocksim.uapi.VmSockets.VMADDR_PORT_ANY;

import io.vsocksim.fs.FdTable;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.Footprint;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.virtio.VirtioTransport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines of one test run by {@link VsockSimExtension}: a host (CID 2, loopback loaded) and its
 * guests, each guest with 32 MiB and the default device ({@code Guest.Options.DEFAULTS}), as
 * {@code Host.virtualTime} and {@code host.startGuest(cid)} make them. A test method or a lifecycle method
 * receives it as a parameter.
 */
public final class Simulation {
    private static final Logger log = LoggerFactory.getLogger("vsocksim.junit");
    /** Bytes of memory of the host (as {@code Host.virtualTime}) and of each guest (as {@code startGuest(cid)}). */
    private static final long HOST_MEMORY = GuestMemory.DEFAULT_SIZE;
    private static final long GUEST_MEMORY = 32L << 20;
    /**
     * How long (machine time) closed sockets may take to go: past the close timeout a socket whose peer
     * never answered is reset and released ({@code virtio_transport_close}).
     */
    private static final long SETTLE_NANOS = Clock.jiffiesToNanos(VirtioTransport.VSOCK_CLOSE_TIMEOUT + 2 * Clock.HZ);
    /** Rounds of {@link #drain}: far more than a teardown takes. */
    private static final int MAX_DRAIN_ROUNDS = 10_000;

    private final Host host;
    private final List<Guest> guests;
    /** The guests' CIDs as started (a guest that is shut down no longer knows its CID). */
    private final List<Long> cids;
    /** The host, then the guests in start order; the arrays below are indexed alike. */
    private final List<Machine> machines;
    /** Pages in use when each machine's kernel was created: all must be back once it is shut down. */
    private final Footprint[] createdPages;
    /** Pages in use once booted, less those posted to a device ({@link Machine#devicePages()}). */
    private final Footprint[] bootedPages;
    private final int[] bootedSockets;

    private Simulation(Host host, List<Guest> guests, Footprint[] createdPages) {
        this.host = host;
        this.guests = List.copyOf(guests);
        List<Long> c = new ArrayList<>();
        for (Guest g : guests) {
            c.add(Integer.toUnsignedLong(g.cid()));
        }
        this.cids = List.copyOf(c);
        List<Machine> all = new ArrayList<>();
        all.add(host);
        all.addAll(guests);
        this.machines = List.copyOf(all);
        this.createdPages = createdPages;
        drain();
        this.bootedPages = new Footprint[machines.size()];
        this.bootedSockets = new int[machines.size()];
        for (int i = 0; i < machines.size(); i++) {
            bootedPages[i] = SimInternals.footprint(machines.get(i));
            bootedSockets[i] = machines.get(i).liveSockets();
        }
    }

    /**
     * Boots a host and the guests {@code cids}, in order, on clocks of kind {@code time}.
     *
     * @throws IllegalArgumentException if a guest cannot start (a CID that is not a guest's, or taken);
     *     the machines already started are shut down
     */
    static Simulation start(long[] cids, VsockSim.Time time) {
        Footprint[] created = new Footprint[cids.length + 1];
        KernelContext hk = kernel("host", HOST_MEMORY, time);
        created[0] = Footprint.of(hk.pages());
        Host host = SimInternals.newHost(hk, true);
        List<Guest> guests = new ArrayList<>();
        try {
            for (int i = 0; i < cids.length; i++) {
                KernelContext gk = kernel("guest" + cids[i], GUEST_MEMORY, time);
                created[i + 1] = Footprint.of(gk.pages());
                try {
                    guests.add(SimInternals.startGuest(host, cids[i], gk, Guest.Options.DEFAULTS));
                } catch (ErrnoException | RuntimeException e) {
                    gk.close();
                    throw new IllegalArgumentException("@VsockSim cannot start guest " + cids[i] + ": " + e.getMessage(), e);
                }
            }
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        log.debug("started host (CID 2) and guests {} in {} time", Arrays.toString(cids), time);
        return new Simulation(host, guests, created);
    }

    private static KernelContext kernel(String name, long memory, VsockSim.Time time) {
        return time == VsockSim.Time.REAL ? KernelContext.threaded(name, memory, 2) : SimInternals.threadedKernel(name, memory);
    }

    /**
     * The host.
     *
     * @return the host: CID 2, vhost-vsock and vsock_loopback loaded
     */
    public Host host() {
        return host;
    }

    /**
     * A guest by its CID.
     *
     * @param cid one of {@link VsockSim#guests()}
     * @return the guest started with that CID
     * @throws IllegalArgumentException if no guest of this test has that CID
     */
    public Guest guest(long cid) {
        int i = cids.indexOf(cid);
        if (i >= 0) {
            return guests.get(i);
        }
        throw new IllegalArgumentException("no guest with CID " + cid + " in this test; guests: " + cids());
    }

    /**
     * The guests.
     *
     * @return every guest, in the order {@link VsockSim#guests()} lists them
     */
    public List<Guest> guests() {
        return guests;
    }

    /** The guests' CIDs, in start order. */
    List<Long> cids() {
        return cids;
    }

    /**
     * A connected pair of sockets of {@code type} ({@code SOCK_STREAM} or {@code SOCK_SEQPACKET}): the
     * client made on {@code client}, the server accepted on {@code server}, over the transport the
     * kernel picks between them — loopback (CID 1) when they are the same machine, the guest driver
     * and vhost between a guest and the host. Guests cannot reach each other, as with vhost-vsock:
     * such a connect fails as it would there. The listener the server came from is closed; the two
     * sockets are the test's to close (try-with-resources on the pair).
     *
     * @param client the machine that connects
     * @param server the machine that listens and accepts
     * @param type {@code SOCK_STREAM} or {@code SOCK_SEQPACKET}
     * @return the connecting socket and the accepted one
     * @throws ErrnoException what socket, bind, listen, connect or accept failed with
     */
    public SocketPair connectedPair(Machine client, Machine server, int type) throws ErrnoException {
        int cid = client == server ? VMADDR_CID_LOCAL : server instanceof Guest g ? g.cid() : VMADDR_CID_HOST;
        try (VsockSocket listener = VsockSocket.open(server, type)) {
            listener.bind(VMADDR_CID_ANY, VMADDR_PORT_ANY);
            listener.listen(1);
            VsockSocket c = VsockSocket.open(client, type);
            try {
                c.connect(cid, listener.getsockname().port());
                return new SocketPair(c, listener.accept());
            } catch (ErrnoException | RuntimeException e) {
                c.close();
                throw e;
            }
        }
    }

    /**
     * Shuts the machines down; if {@code check}, first checks what the test left behind and throws an
     * {@link AssertionError} listing it, once every machine is shut down.
     */
    void finish(boolean check) {
        StringBuilder problems = new StringBuilder();
        boolean[] reported = new boolean[machines.size()];
        try {
            if (check) {
                leftBehind(problems, reported);
            }
        } finally {
            host.close(); // and its guests
        }
        if (check) {
            for (int i = 0; i < machines.size(); i++) {
                Footprint inUse = Footprint.of(SimInternals.kernel(machines.get(i)).pages());
                // What a machine left is reported once: its leftovers may hold pages past shutdown.
                if (!reported[i] && !inUse.equals(createdPages[i])) {
                    problems.append("\n  ").append(name(i)).append(": ").append(inUse.beyond(createdPages[i]))
                            .append(" still in use after shutdown");
                }
            }
        }
        log.debug("shut down host and guests {}", cids());
        if (problems.length() > 0) {
            throw new AssertionError("vsocksim: the test left behind:" + problems);
        }
    }

    /**
     * Appends what the test left: descriptors of the embedder processes still open, sockets still
     * alive once closed ones had time to go, kernel WARNs, and pages not given back; sets
     * {@code reported[i]} for each machine that left something.
     */
    private void leftBehind(StringBuilder out, boolean[] reported) {
        drain();
        boolean[] socketsBack = new boolean[machines.size()];
        for (int i = 0; i < machines.size(); i++) {
            Machine m = machines.get(i);
            FdTable files = UserInternals.files(UserProcess.embedder(m));
            int[] open = files.openDescriptors();
            for (int fd : open) {
                out.append("\n  ").append(name(i)).append(": descriptor ").append(fd).append(" still open: ")
                        .append(files.peek(fd));
            }
            // An open descriptor keeps its socket: waiting for it to go would only cost the timeout.
            socketsBack[i] = open.length == 0 ? SimInternals.core(m).awaitLiveSockets(bootedSockets[i], SETTLE_NANOS)
                    : m.liveSockets() <= bootedSockets[i];
            if (!socketsBack[i]) {
                out.append("\n  ").append(name(i)).append(": ").append(m.liveSockets() - bootedSockets[i])
                        .append(" socket(s) still open");
            }
            reported[i] = open.length > 0 || !socketsBack[i];
        }
        for (int i = 0; i < machines.size(); i++) {
            for (String w : SimInternals.kernel(machines.get(i)).warnings().fired()) {
                out.append("\n  ").append(name(i)).append(": kernel WARN: ").append(w);
                reported[i] = true;
            }
        }
        drain();
        for (int i = 0; i < machines.size(); i++) {
            Footprint p = SimInternals.footprint(machines.get(i));
            if (socketsBack[i] && !p.equals(bootedPages[i])) { // an open socket's pages are not leaked yet
                out.append("\n  ").append(name(i)).append(": ").append(p.beyond(bootedPages[i]))
                        .append(" not given back (RX buffers posted to the device not counted)");
                reported[i] = true;
            }
        }
    }

    private String name(int i) {
        return SimInternals.kernel(machines.get(i)).name();
    }

    /**
     * Runs the machines' queued work until one round finds them all idle: work on one queues work on
     * another (a kick, an interrupt), so one pass over each is not enough.
     */
    private void drain() {
        for (int round = 0; round < MAX_DRAIN_ROUNDS; round++) {
            boolean quiet = true;
            for (Machine m : machines) {
                quiet &= m.quiesce();
            }
            if (quiet) {
                return;
            }
        }
    }
}
