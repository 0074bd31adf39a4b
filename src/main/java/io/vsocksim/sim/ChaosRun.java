package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.SOCK_NONBLOCK;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;

import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.ManualWorkQueue;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.ErrnoException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic simulation testing: one seeded run of a host and two guests on manual work queues and
 * virtual clocks, where a scheduler picks, step by step, what happens next — a user call (connect,
 * accept, send, recv, shutdown, close), one round of one machine's queued work, time moving on one
 * machine, or a fault (a TRANSPORT_RESET as after a migration, all of a guest's free memory taken and
 * later given back, a guest removed with its connections open) — and checks after every step that each connection received a prefix of what its
 * peer sent, in order, never duplicated. At the end every process exits, time runs out every timeout,
 * and no socket, page or WARN may be left.
 *
 * <p>Everything derives from the seed: the same seed gives the same schedule and the same outcome, so a
 * failure is reproduced by its seed alone ({@link Result#reproduction()}). User calls never block (every
 * socket is non-blocking, sends and receives carry MSG_DONTWAIT), so the schedule alone decides.
 */
public final class ChaosRun {
    private static final int HOST_PORT = 5000;
    private static final int GUEST_PORT = 6000;
    private static final int SCHEDULE_TAIL = 25;

    /**
     * The outcome of one seed.
     *
     * @param seed the seed
     * @param steps steps run
     * @param failure null, or what went wrong at the last step
     * @param tail the last steps of the schedule, oldest first
     * @param delivered bytes that arrived, checked, over all connections
     * @param faults faults injected (transport resets, memory taken, guests removed)
     * @param guestsRemoved guests the schedule removed with their connections open
     */
    public record Result(long seed, int steps, String failure, List<String> tail, long delivered, int faults,
            int guestsRemoved) {
        /** True if every invariant held. */
        public boolean ok() {
            return failure == null;
        }

        /** The one line that reruns this seed. */
        public String reproduction() {
            return "./vsocksim chaos --from " + seed + " --seeds 1 --steps " + steps;
        }
    }

    /** One connection's two ends and the bytes each way: what was sent, and what arrived so far. */
    private static final class Conn {
        final UserProcess a;
        final int fdA;
        final UserProcess b;
        int fdB = -1;
        final int portA;
        final Stream aToB = new Stream();
        final Stream bToA = new Stream();

        Conn(UserProcess a, int fdA, UserProcess b, int portA) {
            this.a = a;
            this.fdA = fdA;
            this.b = b;
            this.portA = portA;
        }
    }

    /** One direction: the bytes accepted by send(2), and how many of them recv(2) returned, checked. */
    private static final class Stream {
        byte[] sent = new byte[0];
        int sentLen;
        int received;

        void sent(byte[] b, int n) {
            if (sentLen + n > sent.length) {
                sent = Arrays.copyOf(sent, Math.max(sent.length * 2, sentLen + n));
            }
            System.arraycopy(b, 0, sent, sentLen, n);
            sentLen += n;
        }

        /** Null if {@code got[0, n)} is the next part of what was sent, else why not. */
        String received(byte[] got, int n) {
            if (received + n > sentLen) {
                return "received " + (received + n) + " bytes, only " + sentLen + " were sent";
            }
            for (int i = 0; i < n; i++) {
                if (got[i] != sent[received + i]) {
                    return "byte " + (received + i) + " differs from what was sent (reordered or duplicated)";
                }
            }
            received += n;
            return null;
        }
    }

    private final SplittableRandom rnd;
    private final long seed;
    private final Host host;
    private final Guest[] guests;
    private final Machine[] machines;
    private final UserProcess hostProc;
    private final UserProcess[] guestProcs;
    private final int hostListener;
    private final int[] guestListeners;
    private final long[] basePages;
    private final List<Conn> conns = new ArrayList<>();
    private final List<Long>[] held;
    private final ArrayDeque<String> schedule = new ArrayDeque<>();
    /** Guests shut down by the schedule (the VM went away with its connections open). */
    private final boolean[] removed = new boolean[2];
    private long delivered;
    private int faults;

    @SuppressWarnings("unchecked")
    private ChaosRun(long seed) throws ErrnoException {
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
        // Ephemeral ports come from each machine's boot seed: derived from the run's seed, not random.
        host = new Host(KernelContext.deterministic("host", 32L << 20), true, rnd.nextLong());
        guests = new Guest[] {
            host.startGuest(3, KernelContext.deterministic("guest3", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(rnd.nextLong())),
            host.startGuest(4, KernelContext.deterministic("guest4", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(rnd.nextLong()))};
        machines = new Machine[] {host, guests[0], guests[1]};
        settle();
        basePages = new long[machines.length];
        for (int i = 0; i < machines.length; i++) {
            basePages[i] = pages(machines[i]);
        }
        hostProc = host.process("chaos-host");
        guestProcs = new UserProcess[] {guests[0].process("chaos-g3"), guests[1].process("chaos-g4")};
        hostListener = listen(hostProc, HOST_PORT);
        guestListeners = new int[] {listen(guestProcs[0], GUEST_PORT), listen(guestProcs[1], GUEST_PORT)};
        held = new List[] {new ArrayList<>(), new ArrayList<>()};
    }

    /** Runs {@code seed} for {@code steps} steps; never throws for what the simulation does. */
    public static Result run(long seed, int steps) {
        ChaosRun r;
        try {
            r = new ChaosRun(seed);
        } catch (ErrnoException | RuntimeException e) {
            return new Result(seed, 0, "set-up failed: " + e, List.of(), 0, 0, 0);
        }
        return r.go(steps);
    }

    private Result go(int steps) {
        int step = 0;
        try {
            for (; step < steps; step++) {
                String f = step();
                if (f != null) {
                    return fail(step + 1, f);
                }
            }
            String f = teardown();
            return f == null ? new Result(seed, steps, null, List.copyOf(schedule), delivered, faults, removedCount()) : fail(steps, f);
        } catch (RuntimeException | AssertionError e) {
            return fail(step + 1, "threw " + e);
        } finally {
            host.close();
        }
    }

    private Result fail(int steps, String why) {
        return new Result(seed, steps, why, List.copyOf(schedule), delivered, faults, removedCount());
    }

    private void note(String s) {
        schedule.addLast(s);
        if (schedule.size() > SCHEDULE_TAIL) {
            schedule.removeFirst();
        }
    }

    private static int listen(UserProcess p, int port) {
        int fd = p.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0 || p.bind(fd, VMADDR_CID_ANY, port) != 0 || p.listen(fd, 16) != 0) {
            throw new IllegalStateException("listener on port " + port + " failed");
        }
        return fd;
    }

    /** One step of the schedule; null, or the violated invariant. */
    private String step() {
        int what = rnd.nextInt(100);
        if (what < 10) {
            return connect();
        } else if (what < 18) {
            accept();
        } else if (what < 40) {
            return send();
        } else if (what < 60) {
            return recv();
        } else if (what < 85) {
            Machine m = liveMachine();
            note("run " + m.kernel().name());
            ((ManualWorkQueue) m.kernel().systemWq()).runPending();
        } else if (what < 93) {
            Machine m = liveMachine();
            long j = 1 + rnd.nextLong(3 * Clock.HZ);
            note("time " + m.kernel().name() + " +" + j + " jiffies");
            ((VirtualClock) m.kernel().clock()).advanceJiffies(j);
        } else if (what < 95) {
            closeOrShutdown();
        } else if (what < 96) {
            int g = rnd.nextInt(guests.length);
            if (removed[g]) {
                return null;
            }
            note("TRANSPORT_RESET guest" + guests[g].cid() + " -> " + host.sendTransportReset(guests[g]));
            faults++;
        } else if (what < 99) {
            memoryPressure();
        } else if (rnd.nextInt(8) == 0) {
            removeGuest();
        }
        return null;
    }

    /**
     * The VM goes away with its connections open: its process dies with it, the device is released
     * and the host's sockets to it are reset. The schedule forgets its connections and never uses it
     * again; what the host's ends received so far must still be prefixes.
     */
    private void removeGuest() {
        int g = rnd.nextInt(guests.length);
        if (removed[g]) {
            return;
        }
        removed[g] = true;
        faults++;
        note("guest" + guests[g].cid() + " removed with " + conns.stream().filter(c -> involves(c, g)).count()
                + " connection(s)");
        release(g);
        guestProcs[g].close();
        guests[g].close();
        for (Conn c : new ArrayList<>(conns)) {
            if (involves(c, g)) {
                conns.remove(c);
                UserProcess hostEnd = c.a == hostProc ? c.a : c.b;
                int fd = c.a == hostProc ? c.fdA : c.fdB;
                if (fd >= 0) {
                    hostEnd.close(fd);
                }
            }
        }
    }

    private int removedCount() {
        return (removed[0] ? 1 : 0) + (removed[1] ? 1 : 0);
    }

    private boolean involves(Conn c, int g) {
        return c.a == guestProcs[g] || c.b == guestProcs[g];
    }

    /** A machine still running, drawn from the seed. */
    private Machine liveMachine() {
        int i = rnd.nextInt(machines.length);
        return i > 0 && removed[i - 1] ? host : machines[i];
    }

    private String connect() {
        int g = rnd.nextInt(guests.length);
        if (removed[g]) {
            return null;
        }
        boolean fromGuest = rnd.nextBoolean();
        UserProcess a = fromGuest ? guestProcs[g] : hostProc;
        UserProcess b = fromGuest ? hostProc : guestProcs[g];
        int fd = a.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            note("socket -> " + fd);
            return null;
        }
        int rc = a.connect(fd, fromGuest ? VMADDR_CID_HOST : guests[g].cid(), fromGuest ? HOST_PORT : GUEST_PORT);
        ByteBuffer addr = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        a.getsockname(fd, addr, new int[] {16});
        int port = addr.getInt(4);
        note("connect " + (fromGuest ? "guest" + guests[g].cid() + "->host" : "host->guest" + guests[g].cid())
                + " port " + Integer.toUnsignedString(port) + " -> " + rc);
        conns.add(new Conn(a, fd, b, port));
        return null;
    }

    /** Accepts what every listener has, pairing each with its connecting end by port. */
    private void accept() {
        acceptOn(hostProc, hostListener);
        for (int g = 0; g < guests.length; g++) {
            if (!removed[g]) {
                acceptOn(guestProcs[g], guestListeners[g]);
            }
        }
    }

    private void acceptOn(UserProcess p, int listener) {
        for (int fd; (fd = p.accept4(listener, SOCK_NONBLOCK)) >= 0; ) {
            ByteBuffer peer = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            p.getpeername(fd, peer, new int[] {16});
            int port = peer.getInt(4);
            Conn match = null;
            for (Conn c : conns) {
                if (c.b == p && c.fdB < 0 && c.portA == port) {
                    match = c;
                }
            }
            note("accept port " + Integer.toUnsignedString(port) + " -> fd " + fd + (match == null ? " (unknown)" : ""));
            if (match == null) {
                p.close(fd); // a connection whose other end was closed before it was accepted
            } else {
                match.fdB = fd;
            }
        }
    }

    private Conn someConn() {
        if (conns.isEmpty()) {
            return null;
        }
        Conn c = conns.get(rnd.nextInt(conns.size()));
        return c.fdB < 0 ? null : c;
    }

    private String send() {
        Conn c = someConn();
        if (c == null) {
            return null;
        }
        boolean ab = rnd.nextBoolean();
        byte[] data = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 70_000)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) rnd.nextInt(256);
        }
        long n = ab ? c.a.send(c.fdA, ByteBuffer.wrap(data), MSG_DONTWAIT | MSG_NOSIGNAL)
                : c.b.send(c.fdB, ByteBuffer.wrap(data), MSG_DONTWAIT | MSG_NOSIGNAL);
        note("send " + (ab ? "a->b" : "b->a") + " " + data.length + " -> " + n);
        if (n > data.length) {
            return "send returned " + n + " for " + data.length + " bytes";
        }
        if (n > 0) {
            (ab ? c.aToB : c.bToA).sent(data, (int) n);
        }
        return null;
    }

    private String recv() {
        Conn c = someConn();
        if (c == null) {
            return null;
        }
        boolean atB = rnd.nextBoolean();
        ByteBuffer buf = ByteBuffer.allocate(1 + rnd.nextInt(100_000));
        long n = atB ? c.b.recv(c.fdB, buf, MSG_DONTWAIT) : c.a.recv(c.fdA, buf, MSG_DONTWAIT);
        note("recv at " + (atB ? "b" : "a") + " " + buf.capacity() + " -> " + n);
        if (n <= 0) {
            return null;
        }
        delivered += n;
        return (atB ? c.aToB : c.bToA).received(buf.array(), (int) n);
    }

    private void closeOrShutdown() {
        Conn c = someConn();
        if (c == null) {
            return;
        }
        boolean endA = rnd.nextBoolean();
        UserProcess p = endA ? c.a : c.b;
        int fd = endA ? c.fdA : c.fdB;
        if (rnd.nextBoolean()) {
            note("shutdown " + (endA ? "a" : "b") + " -> " + p.shutdown(fd, rnd.nextInt(3)));
        } else {
            note("close " + (endA ? "a" : "b") + " -> " + p.close(fd));
            conns.remove(c);
            (endA ? c.b : c.a).close(endA ? c.fdB : c.fdA); // the test forgets the pair; the peer closes too
        }
    }

    /** Takes all of a guest's free pages, or gives them back. */
    private void memoryPressure() {
        int g = rnd.nextInt(guests.length);
        if (removed[g]) {
            return;
        }
        PageAllocator pages = guests[g].kernel().pages();
        if (held[g].isEmpty()) {
            for (long h; (h = pages.allocPages(0)) > 0; ) {
                held[g].add(h);
            }
            note("memory pressure on guest" + guests[g].cid() + ": " + held[g].size() + " pages taken");
            faults++;
        } else {
            note("memory back on guest" + guests[g].cid() + ": " + held[g].size() + " pages");
            release(g);
        }
    }

    private void release(int g) {
        PageAllocator pages = guests[g].kernel().pages();
        for (long h : held[g]) {
            pages.freePages(h);
        }
        held[g].clear();
    }

    /** Every process exits, memory comes back, every timeout runs out: nothing may be left. */
    private String teardown() {
        for (int g = 0; g < guests.length; g++) {
            if (!removed[g]) {
                release(g);
            }
        }
        hostProc.close();
        for (int g = 0; g < guests.length; g++) {
            if (!removed[g]) {
                guestProcs[g].close();
            }
        }
        settle();
        for (int i = 0; i < machines.length; i++) {
            if (i > 0 && removed[i - 1]) {
                continue; // its memory went with it
            }
            Machine m = machines[i];
            if (!m.kernel().warnings().fired().isEmpty()) {
                return "WARN_ONCE on " + m.kernel().name() + ": " + m.kernel().warnings().fired();
            }
            if (m.liveSockets() != 0) {
                return m.liveSockets() + " socket(s) left on " + m.kernel().name();
            }
            if (pages(m) != basePages[i]) {
                return (pages(m) - basePages[i]) + " page(s) left on " + m.kernel().name();
            }
        }
        return null;
    }

    /** Runs every machine's work and lets every timer fire, until all are idle. */
    private void settle() {
        for (int round = 0; round < 8; round++) {
            for (int pass = 0; pass < 64; pass++) {
                int ran = 0;
                for (int i = 0; i < machines.length; i++) {
                    if (i > 0 && removed[i - 1]) {
                        continue;
                    }
                    Machine m = machines[i];
                    ran += ((ManualWorkQueue) m.kernel().systemWq()).runUntilIdle();
                }
                if (ran == 0) {
                    break;
                }
            }
            for (int i = 0; i < machines.length; i++) {
                if (!(i > 0 && removed[i - 1])) {
                    ((VirtualClock) machines[i].kernel().clock()).advanceJiffies(10 * Clock.HZ);
                }
            }
        }
    }

    /** Pages in use that sockets and packets account for (device-held RX buffers excluded). */
    private static long pages(Machine m) {
        return m.kernel().pages().pagesInUse() - m.devicePages();
    }
}
