package io.vsocksim.chaos;

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
import io.vsocksim.mm.Footprint;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Signal;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic simulation testing: one seeded run of a host and two guests on manual work queues and
 * virtual clocks, where a scheduler picks, step by step, what happens next — a user call (connect,
 * accept, send, recv, shutdown, close), a round of one machine's queued work or its single oldest work
 * item, time moving on one machine, or a fault ({@link ChaosFaults}) — and checks after every step
 * that each connection received a prefix of what its peer sent, in order, never duplicated, and that
 * a connection breaks only for a reason Linux has (see {@link #broken}). At the end every process
 * exits, time runs out every timeout, and no socket, page or WARN may be left.
 *
 * <p>Everything derives from the seed: the same seed gives the same schedule and the same outcome, so a
 * failure is reproduced by its seed alone ({@link Result#reproduction()}). Each step draws from its own
 * random stream (seed and step number), so a run that leaves steps out ({@link #run(long, int, BitSet)})
 * still takes the others as they were: that is what lets {@link ChaosShrink} cut a failing schedule
 * down to the steps that matter. User calls do not block (sockets are non-blocking, sends and receives
 * carry MSG_DONTWAIT) except the one a signal fault interrupts, which the scheduler waits for.
 */
public final class ChaosRun {
    static final int HOST_PORT = 5000;
    static final int GUEST_PORT = 6000;
    private static final int SCHEDULE_TAIL = 25;

    /**
     * The outcome of one seed.
     *
     * @param seed the seed
     * @param steps steps of the schedule (run or left out)
     * @param failedAt the step (from 0) whose invariant failed, {@code steps} for the final checks, -1 if
     *     none failed
     * @param failure null, or what went wrong at the last step
     * @param schedule the steps that ran, oldest first: the last 25 of a full run, all of a run with a
     *     chosen set of steps
     * @param delivered bytes that arrived, checked, over all connections
     * @param faults faults injected, by kind (transport reset, memory taken, pause, device replug, guest
     *     removed, signal to a blocked call, packet past credit)
     * @param only the steps run, or null for all of them
     */
    public record Result(long seed, int steps, int failedAt, String failure, List<String> schedule, long delivered,
            java.util.Map<String, Integer> faults, BitSet only) {
        /** Faults injected, all kinds. */
        public int faultCount() {
            return faults.values().stream().mapToInt(Integer::intValue).sum();
        }

        /** Guests the schedule removed with their connections open. */
        public int guestsRemoved() {
            return faults.getOrDefault("guest removed", 0);
        }

        /** True if every invariant held. */
        public boolean ok() {
            return failure == null;
        }

        /** The one line that reruns this seed (and only the chosen steps, if any). */
        public String reproduction() {
            String line = "./vsocksim chaos --from " + seed + " --seeds 1 --steps " + steps;
            return only == null ? line : line + " --only " + ChaosShrink.format(only);
        }
    }

    final SplittableRandom setupRnd;
    /** The current step's random stream. */
    SplittableRandom rnd;
    private final long seed;
    final Host host;
    final Guest[] guests;
    final Machine[] machines;
    final UserProcess hostProc;
    final UserProcess[] guestProcs;
    private final int hostListener;
    private final int[] guestListeners;
    private final Footprint[] basePages;
    final List<ChaosConn> conns = new ArrayList<>();
    private final ArrayDeque<String> schedule = new ArrayDeque<>();
    private final boolean fullSchedule;
    /** Guests shut down by the schedule (the VM went away with its connections open). */
    final boolean[] removed = new boolean[2];
    /** Resets each guest's connections went through (transport resets, device replugs). */
    final int[] resetEpoch = new int[2];
    /** A transport reset sits in the guest's event queue or work, not handled yet. */
    final boolean[] resetPending = new boolean[2];
    private final ChaosFaults faults;
    private long delivered;

    private ChaosRun(long seed, boolean fullSchedule) throws ErrnoException {
        this.seed = seed;
        this.fullSchedule = fullSchedule;
        this.setupRnd = new SplittableRandom(seed);
        // Ephemeral ports come from each machine's boot seed: derived from the run's seed, not random.
        host = SimInternals.newHost(KernelContext.deterministic("host", 32L << 20), true, setupRnd.nextLong());
        guests = new Guest[] {
            SimInternals.startGuest(host, 3, KernelContext.deterministic("guest3", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(setupRnd.nextLong())),
            SimInternals.startGuest(host, 4, KernelContext.deterministic("guest4", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(setupRnd.nextLong()))};
        machines = new Machine[] {host, guests[0], guests[1]};
        settle();
        basePages = new Footprint[machines.length];
        for (int i = 0; i < machines.length; i++) {
            basePages[i] = SimInternals.footprint(machines[i]);
        }
        hostProc = UserProcess.spawn(host, "chaos-host");
        guestProcs = new UserProcess[] {UserProcess.spawn(guests[0], "chaos-g3"), UserProcess.spawn(guests[1], "chaos-g4")};
        for (UserProcess p : new UserProcess[] {hostProc, guestProcs[0], guestProcs[1]}) {
            p.sigaction(Signal.SIGUSR1, sig -> { }, 0); // a handler without SA_RESTART: interrupted calls fail with EINTR
        }
        hostListener = listen(hostProc, HOST_PORT);
        guestListeners = new int[] {listen(guestProcs[0], GUEST_PORT), listen(guestProcs[1], GUEST_PORT)};
        faults = new ChaosFaults(this);
    }

    /** Runs {@code seed} for {@code steps} steps; never throws for what the simulation does. */
    public static Result run(long seed, int steps) {
        return run(seed, steps, null);
    }

    /**
     * Runs only the steps in {@code only} (all if null) of {@code seed}'s schedule of {@code steps}; each
     * step that runs does what it does in the full schedule, given the state it finds.
     */
    public static Result run(long seed, int steps, BitSet only) {
        ChaosRun r;
        try {
            r = new ChaosRun(seed, only != null);
        } catch (ErrnoException | RuntimeException e) {
            return new Result(seed, 0, 0, "set-up failed: " + e, List.of(), 0, java.util.Map.of(), only);
        }
        return r.go(steps, only);
    }

    private Result go(int steps, BitSet only) {
        int step = 0;
        try {
            for (; step < steps; step++) {
                if (only != null && !only.get(step)) {
                    continue;
                }
                rnd = new SplittableRandom(stepSeed(seed, step));
                String f = step(step);
                if (f == null) {
                    f = faults.afterStep();
                }
                if (f != null) {
                    return fail(steps, step, f, only);
                }
            }
            String f = teardown();
            return f == null ? result(steps, -1, null, only) : fail(steps, steps, f, only);
        } catch (RuntimeException | AssertionError e) {
            return fail(steps, step, "threw " + e, only);
        } finally {
            faults.releaseAll();
            host.close();
        }
    }

    /** A step's own stream: the seed and the step number, mixed (SplitMix64's finaliser). */
    static long stepSeed(long seed, int step) {
        long z = seed + (step + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private Result fail(int steps, int at, String why, BitSet only) {
        return result(steps, at, (at == steps ? "at the end: " : "step " + at + ": ") + why, only);
    }

    private Result result(int steps, int failedAt, String failure, BitSet only) {
        return new Result(seed, steps, failedAt, failure, List.copyOf(schedule), delivered,
                java.util.Map.copyOf(faults.kinds()), only);
    }

    void note(String s) {
        schedule.addLast(s);
        if (!fullSchedule && schedule.size() > SCHEDULE_TAIL) {
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
    private String step(int step) {
        int what = rnd.nextInt(100);
        if (what < 10) {
            return connect(step);
        } else if (what < 17) {
            accept();
        } else if (what < 37) {
            return send();
        } else if (what < 55) {
            return recv();
        } else if (what < 70) {
            Machine m = liveMachine();
            note("run " + SimInternals.kernel(m).name());
            ((ManualWorkQueue) SimInternals.kernel(m).systemWq()).runPending();
        } else if (what < 82) {
            Machine m = liveMachine();
            note("run one on " + SimInternals.kernel(m).name() + " -> " + ((ManualWorkQueue) SimInternals.kernel(m).systemWq()).runOne());
        } else if (what < 90) {
            Machine m = liveMachine();
            long j = 1 + rnd.nextLong(3 * Clock.HZ);
            note("time " + SimInternals.kernel(m).name() + " +" + j + " jiffies");
            ((VirtualClock) SimInternals.kernel(m).clock()).advanceJiffies(j);
        } else if (what < 93) {
            return closeOrShutdown();
        } else {
            return faults.step(what);
        }
        return null;
    }

    boolean involves(ChaosConn c, int g) {
        return c.a == guestProcs[g] || c.b == guestProcs[g];
    }

    /** True if the process runs in a guest that is paused (its calls would wait for the resume). */
    boolean frozen(UserProcess p) {
        for (int g = 0; g < guests.length; g++) {
            if (p == guestProcs[g] && guests[g].paused()) {
                return true;
            }
        }
        return false;
    }

    /** A machine still running, drawn from the step. */
    private Machine liveMachine() {
        int i = rnd.nextInt(machines.length);
        return i > 0 && removed[i - 1] ? host : machines[i];
    }

    private String connect(int step) {
        int g = rnd.nextInt(guests.length);
        if (removed[g]) {
            return null;
        }
        boolean fromGuest = rnd.nextBoolean();
        UserProcess a = fromGuest ? guestProcs[g] : hostProc;
        UserProcess b = fromGuest ? hostProc : guestProcs[g];
        if (frozen(a) || frozen(b)) {
            return null;
        }
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
        // Made while a reset is still on its way to the guest: that reset may take it down too.
        conns.add(new ChaosConn(a, fd, b, port, g, resetPending[g] ? resetEpoch[g] - 1 : resetEpoch[g]));
        return null;
    }

    /** Accepts what every listener has, pairing each with its connecting end by port. */
    private void accept() {
        acceptOn(hostProc, hostListener);
        for (int g = 0; g < guests.length; g++) {
            if (!removed[g] && !frozen(guestProcs[g])) {
                acceptOn(guestProcs[g], guestListeners[g]);
            }
        }
    }

    private void acceptOn(UserProcess p, int listener) {
        for (int fd; (fd = p.accept4(listener, SOCK_NONBLOCK)) >= 0; ) {
            ByteBuffer peer = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            p.getpeername(fd, peer, new int[] {16});
            int port = peer.getInt(4);
            ChaosConn match = null;
            for (ChaosConn c : conns) {
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

    /** An accepted connection whose both ends can call now, or null. */
    ChaosConn someConn() {
        if (conns.isEmpty()) {
            return null;
        }
        ChaosConn c = conns.get(rnd.nextInt(conns.size()));
        return c.fdB < 0 || frozen(c.a) || frozen(c.b) ? null : c;
    }

    private String send() {
        ChaosConn c = someConn();
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
        return sent(c, ab, data, n);
    }

    /** Records what a send on {@code c} accepted; null, or the violated invariant. */
    String sent(ChaosConn c, boolean ab, byte[] data, long n) {
        if (n > data.length) {
            return "send returned " + n + " for " + data.length + " bytes";
        }
        if (n > 0) {
            (ab ? c.aToB : c.bToA).sent(data, (int) n);
            c.up |= ab;
            return null;
        }
        return broken(c, "send " + (ab ? "a->b" : "b->a"), n);
    }

    private String recv() {
        ChaosConn c = someConn();
        if (c == null) {
            return null;
        }
        boolean atB = rnd.nextBoolean();
        ByteBuffer buf = ByteBuffer.allocate(1 + rnd.nextInt(100_000));
        long n = atB ? c.b.recv(c.fdB, buf, MSG_DONTWAIT) : c.a.recv(c.fdA, buf, MSG_DONTWAIT);
        note("recv at " + (atB ? "b" : "a") + " " + buf.capacity() + " -> " + n);
        return received(c, atB, buf, n);
    }

    /** Checks what a recv on {@code c} returned; null, or the violated invariant. */
    String received(ChaosConn c, boolean atB, ByteBuffer buf, long n) {
        if (n <= 0) {
            return broken(c, "recv at " + (atB ? "b" : "a"), n);
        }
        delivered += n;
        c.up |= !atB;
        return (atB ? c.aToB : c.bToA).received(buf.array(), (int) n);
    }

    /**
     * Null if a call on {@code c} that moved no data ({@code rc} 0 or {@code -errno}) has a reason Linux
     * has, else the violation. Waiting (EAGAIN), memory (ENOMEM) and a signal (EINTR) are always
     * reasons. A connection whose handshake is over ({@link ChaosConn#up}) and that the schedule did not
     * shut down must not end (0 from recv) or fail otherwise unless its guest's connections were reset
     * since it was made, or a receiver reset it for overflow (ENOBUFS: a packet past credit, or more
     * unread packets than its buffer bounds): a connection has no timeout of its own once it is up.
     */
    String broken(ChaosConn c, String call, long rc) {
        if (rc == -Errno.EAGAIN || rc == -Errno.ENOMEM || rc == -Errno.EINTR) {
            return null;
        }
        c.overflowed |= rc == -Errno.ENOBUFS || skErr(c.a, c.fdA) == Errno.ENOBUFS || skErr(c.b, c.fdB) == Errno.ENOBUFS;
        if (!c.up || c.shut || c.overflowed || resetEpoch[c.guest] != c.resetEpoch) {
            return null;
        }
        return call + " -> " + rc + " on a connection that is up, not shut down and not reset: it broke without a cause";
    }

    private static int skErr(UserProcess p, int fd) {
        return fd >= 0 && UserInternals.files(p).peek(fd) instanceof io.vsocksim.net.SocketFile s ? s.sock().skErr : 0;
    }

    private String closeOrShutdown() {
        ChaosConn c = someConn();
        if (c == null) {
            return null;
        }
        boolean endA = rnd.nextBoolean();
        UserProcess p = endA ? c.a : c.b;
        int fd = endA ? c.fdA : c.fdB;
        if (rnd.nextBoolean()) {
            c.shut = true;
            note("shutdown " + (endA ? "a" : "b") + " -> " + p.shutdown(fd, rnd.nextInt(3)));
        } else {
            note("close " + (endA ? "a" : "b") + " -> " + p.close(fd));
            conns.remove(c);
            (endA ? c.b : c.a).close(endA ? c.fdB : c.fdA); // the test forgets the pair; the peer closes too
        }
        return null;
    }

    /** Every process exits, memory comes back, every timeout runs out: nothing may be left. */
    private String teardown() {
        faults.releaseAll();
        for (int g = 0; g < guests.length; g++) {
            if (!removed[g] && SimInternals.driver(guests[g]) == null) {
                note("replug guest" + guests[g].cid() + " device, which a replug under memory pressure left unbound -> "
                        + guests[g].replugDevice());
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
            if (!SimInternals.kernel(m).warnings().fired().isEmpty()) {
                return "WARN_ONCE on " + SimInternals.kernel(m).name() + ": " + SimInternals.kernel(m).warnings().fired();
            }
            if (m.liveSockets() != 0) {
                return m.liveSockets() + " socket(s) left on " + SimInternals.kernel(m).name();
            }
            Footprint now = SimInternals.footprint(m);
            if (!now.equals(basePages[i])) {
                return now.beyond(basePages[i]) + " left on " + SimInternals.kernel(m).name();
            }
        }
        return null;
    }

    /** Runs the work of every machine still there until all are idle. */
    void runAll() {
        for (int pass = 0; pass < 64; pass++) {
            int ran = 0;
            for (int i = 0; i < machines.length; i++) {
                if (!(i > 0 && removed[i - 1])) {
                    ran += ((ManualWorkQueue) SimInternals.kernel(machines[i]).systemWq()).runUntilIdle();
                }
            }
            if (ran == 0) {
                return;
            }
        }
    }

    /** Runs every machine's work and lets every timer fire, until all are idle. */
    private void settle() {
        for (int round = 0; round < 8; round++) {
            runAll();
            for (int i = 0; i < machines.length; i++) {
                if (!(i > 0 && removed[i - 1])) {
                    ((VirtualClock) SimInternals.kernel(machines[i]).clock()).advanceJiffies(10 * Clock.HZ);
                }
            }
        }
    }

}
