package io.vsocksim.tools;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_ZEROCOPY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.NotUpstream;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.VsockCapture;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.user.VsockStats;
import io.vsocksim.uapi.ZerocopyPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code vsocksim rx-zerocopy}: the zerocopy-receive RFC's {@code rx_zerocopy} utility rebuilt on the
 * simulator. A server sends exactly {@code --mb} megabytes in writes of {@code --tx} pages; the client
 * reads them in copy mode ({@code recv} into {@code --rx} pages) or, with {@code --zerocopy}, through a
 * mapping of {@code --rx} pages (mmap, getsockopt(SO_VM_SOCKETS_ZEROCOPY), walk the headers, madvise).
 * It prints the time, the rate and the counters that explain them, and the same transfer through JDK
 * loopback TCP and Unix-domain channels. {@code --sweep} runs the RFC's table.
 */
@NotUpstream("virtio/vsock zerocopy receive RFC v1/v2: tools/testing/vsock rx_zerocopy-like utility")
@Command(name = "rx-zerocopy",
        description = {"The zerocopy receive RFC's rx_zerocopy benchmark (copy or zerocopy receive) vs JDK TCP/UDS.",
            "A server sends N MB (default 1000) in writes of --tx pages; the client receives into --rx pages with"
                + " recv() (copy), or with --zerocopy through a mapping of --rx pages: mmap,"
                + " getsockopt(SO_VM_SOCKETS_ZEROCOPY), walk the headers, madvise.",
            "Default placement: server on the host, client in a guest over virtio; the guest boots with the PAGES"
                + " allocation policy for --zerocopy, OFF (as 6.12.117) otherwise. The same transfer through JDK"
                + " loopback TCP and Unix-domain channels (64 KiB writes/reads) is measured in the same run."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the transfers completed", "1:a transfer failed", "2:bad usage"})
final class RxZerocopyCommand implements Callable<Integer> {
    static final int PAGE = GuestMemory.PAGE_SIZE;
    /** The RFC's sweep: rx = tx pages, and its seconds for 4000 MB (cover letters v1/v2). */
    static final int[] SWEEP_PAGES = {8, 32, 64, 256, 512};
    static final double[] RFC_ZEROCOPY_S = {24, 10.6, 12.2, 23.6, 21};
    static final double[] RFC_COPY_S = {13, 16.4, 24.7, 27.2, 23.9};
    static final long RFC_MB = 4000;
    /** Baselines' write/read size. */
    static final int BASELINE_CHUNK = 64 * 1024;

    private final PrintStream out;
    private final PrintStream err;

    @Spec
    private CommandSpec spec;

    @Option(names = "--mb", paramLabel = "N", converter = Positive.class,
            description = "Megabytes (10^6 bytes) to transfer (default: 1000; with --sweep 4000 per cell)")
    private Integer mb;

    @Option(names = "--rx", paramLabel = "PAGES", converter = Positive.class,
            description = "Receive buffer or mapping size in pages (default: ${DEFAULT-VALUE}; at least 2 with"
                + " --zerocopy: a header page and data)")
    private int rx = 64;

    @Option(names = "--tx", paramLabel = "PAGES", converter = Positive.class,
            description = "Size of each write in pages (default: ${DEFAULT-VALUE})")
    private int tx = 64;

    @Option(names = "--zerocopy", description = "Receive through the mapping instead of recv()")
    private boolean zc;

    @Option(names = "--transport", paramLabel = "virtio|loopback",
            description = "virtio (a host and a guest) or loopback (CID 1 of one machine) (default: ${DEFAULT-VALUE})")
    private String transport = "virtio";

    @Option(names = "--direction", paramLabel = "h2g|g2h",
            description = "Over virtio: host to guest or guest to host (default: ${DEFAULT-VALUE})")
    private String direction = "h2g";

    @Option(names = "--no-baselines", description = "Skip the JDK TCP and Unix-domain transfers")
    private boolean noBaselines;

    @Option(names = "--compare", description = "Copy and zerocopy receive and both baselines in one run, --rounds"
            + " times interleaved, each row's median and the ratios copy/TCP, zerocopy/UDS and zerocopy/copy"
            + " against the targets in docs/benchmarks.md")
    private boolean compare;

    @Option(names = "--rounds", paramLabel = "N", converter = Positive.class,
            description = "Rounds of --compare (default: ${DEFAULT-VALUE})")
    private int rounds = 3;

    @Option(names = "--sweep", description = "The RFC's table: rx = tx of 8, 32, 64, 256, 512 pages, zerocopy and"
            + " copy, --mb per cell, the RFC's seconds beside the simulator's; progress on stderr")
    private boolean sweep;

    @Option(names = "--no-progress", description = "No progress bar on stderr during --sweep")
    private boolean noProgress;

    @Option(names = "--pcap", paramLabel = "FILE",
            description = "Record the measured transfer's vsock packets into FILE (pcapng if it ends in .pcapng,"
                    + " else pcap), as a vsockmon device on the host (or the loopback machine) sees them."
                    + " Not with --compare or --sweep; the capture's cost is part of the measurement")
    private Path pcap;

    @Option(names = "--warmup", paramLabel = "MB",
            description = "Untimed transfer of MB (at most --mb) before measuring, for the JIT (default: ${DEFAULT-VALUE})")
    private long warmupMb = 1000;

    private RxZerocopyCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** What to run. */
    record Options(long mb, int rxPages, int txPages, boolean zerocopy, String transport, String direction,
            boolean baselines, boolean sweep, boolean progress) {
        String placement() {
            if ("loopback".equals(transport)) {
                return "vsock loopback (CID 1)";
            }
            return "g2h".equals(direction) ? "vsock guest -> host (virtio)" : "vsock host -> guest (virtio)";
        }
    }

    /** The counters of one vsock run (deltas over the transfer; the machines are fresh per run). */
    record Counters(long copiedFromUser, long copiedToUser, long copiedByDevice, long rwPacketsSent,
            long packetsReceived, long creditUpdates, long kicks, long interrupts, long rxBuffersUsed,
            long getsockopts, long madvises, long pagesMapped, long headerPages) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder()
                    .append("copied: user->kernel ").append(copiedFromUser)
                    .append(", kernel->user ").append(copiedToUser)
                    .append(", device ").append(copiedByDevice)
                    .append("; RW packets sent ").append(rwPacketsSent)
                    .append(", packets received ").append(packetsReceived)
                    .append(", credit updates ").append(creditUpdates)
                    .append("; kicks ").append(kicks)
                    .append(", interrupts ").append(interrupts)
                    .append(", RX buffers used ").append(rxBuffersUsed)
                    .append("; getsockopt ").append(getsockopts)
                    .append(", madvise ").append(madvises)
                    .append(", pages mapped ").append(pagesMapped)
                    .append(" (+").append(headerPages).append(" header)");
            return b.toString();
        }
    }

    /** One measured transfer. */
    record Run(String label, long bytes, long nanos, Counters counters) {
        double seconds() {
            return nanos / 1e9;
        }

        double mbPerSec() {
            return bytes / 1e6 / (nanos / 1e9);
        }
    }

    /** Options of the command line; the measurement itself is below, in static methods. */
    @Override
    public Integer call() {
        if (!"virtio".equals(transport) && !"loopback".equals(transport)) {
            throw invalid("--transport", transport, "is not virtio or loopback");
        }
        if (!"h2g".equals(direction) && !"g2h".equals(direction)) {
            throw invalid("--direction", direction, "is not h2g or g2h");
        }
        if (zc && rx < 2) {
            throw invalid("--rx", Integer.toString(rx), "is too small for --zerocopy (a header page and a data page: 2)");
        }
        if (pcap != null && (compare || sweep)) {
            throw invalid("--pcap", pcap.toString(), "records one transfer: not with --compare or --sweep");
        }
        boolean baselines = !noBaselines;
        boolean progress = !noProgress;
        long megabytes = mb != null ? mb : sweep ? RFC_MB : 1000;
        Options o = new Options(megabytes, rx, tx, zc, transport, direction, baselines, sweep, progress);
        warmUp(o, Math.min(warmupMb, megabytes), compare || sweep);
        if (sweep) {
            return sweep(o, out, err);
        }
        if (compare) {
            return compare(o, rounds, out);
        }
        List<Run> runs = new ArrayList<>();
        runs.add(vsock(o, new AtomicLong(), null, pcap));
        if (pcap != null) {
            out.println("capture: " + pcap);
        }
        if (baselines) {
            runs.add(Baselines.tcp(o.mb() * 1_000_000L, BASELINE_CHUNK));
            runs.add(Baselines.unix(o.mb() * 1_000_000L, BASELINE_CHUNK));
        }
        print(o, runs, out);
        return 0;
    }

    /**
     * Untimed transfers first, so that the measured ones do not include the JIT compiling the data
     * path (on 2 cores the compiler competes with the simulation for seconds): the vsock path in the
     * receive modes about to be measured, and the JDK baselines.
     */
    static void warmUp(Options o, long mb, boolean bothModes) {
        if (mb <= 0) {
            return;
        }
        vsock(new Options(mb, o.rxPages(), o.txPages(), o.zerocopy(), o.transport(), o.direction(), false, false, false),
                new AtomicLong());
        if (bothModes) {
            vsock(new Options(mb, o.rxPages(), o.txPages(), !o.zerocopy(), o.transport(), o.direction(), false, false, false),
                    new AtomicLong());
        }
        if (o.baselines() || bothModes) {
            Baselines.tcp(mb * 1_000_000L, BASELINE_CHUNK);
            Baselines.unix(mb * 1_000_000L, BASELINE_CHUNK);
        }
    }

    static void print(Options o, List<Run> runs, PrintStream out) {
        out.printf("rx-zerocopy: %d MB, rx %d pages, tx %d pages, %s%n", o.mb(), o.rxPages(), o.txPages(),
                o.zerocopy() ? "zerocopy receive" : "copy receive");
        for (Run r : runs) {
            out.printf("  %-44s %8.3f s  %9.1f MB/s%n", r.label(), r.seconds(), r.mbPerSec());
            if (r.counters() != null) {
                out.println("      " + r.counters());
            }
        }
        if (runs.size() == 3) {
            Run v = runs.get(0);
            out.printf("  ratios: vsock/TCP %.2f, vsock/UDS %.2f%n", v.mbPerSec() / runs.get(1).mbPerSec(),
                    v.mbPerSec() / runs.get(2).mbPerSec());
        }
    }

    /**
     * {@code --compare}: copy receive, zerocopy receive and both baselines with the same --mb/--rx/--tx,
     * {@code rounds} times interleaved (so a change in the machine's speed hits every row alike), each
     * row's median, and the ratios against the project's performance targets (copy vs TCP, zerocopy vs
     * Unix-domain, zerocopy vs copy; docs/benchmarks.md): of the medians, and their range over the
     * rounds (each round's four transfers ran back to back).
     */
    static int compare(Options o, int rounds, PrintStream out) {
        Options copyO = new Options(o.mb(), o.rxPages(), o.txPages(), false, o.transport(), o.direction(), false, false, false);
        Options zcO = new Options(o.mb(), o.rxPages(), o.txPages(), true, o.transport(), o.direction(), false, false, false);
        String[] labels = {"copy receive", "zerocopy receive", "JDK TCP loopback SocketChannel",
            "JDK Unix-domain SocketChannel", "in-JVM ceiling (page ring, 1 copy)"};
        Run[][] runs = new Run[labels.length][rounds];
        for (int r = 0; r < rounds; r++) {
            runs[0][r] = vsock(copyO, new AtomicLong());
            runs[1][r] = vsock(zcO, new AtomicLong());
            runs[2][r] = Baselines.tcp(o.mb() * 1_000_000L, BASELINE_CHUNK);
            runs[3][r] = Baselines.unix(o.mb() * 1_000_000L, BASELINE_CHUNK);
            runs[4][r] = PageRingCeiling.run(o.mb() * 1_000_000L, o.txPages() * PAGE);
        }
        out.printf("rx-zerocopy --compare: %d MB x %d rounds, rx %d pages, tx %d pages (%d-byte writes), %s%n", o.mb(),
                rounds, o.rxPages(), o.txPages(), o.txPages() * PAGE, o.placement());
        StringBuilder head = new StringBuilder(String.format("  %-34s", "MB/s"));
        for (int r = 0; r < rounds; r++) {
            head.append(String.format(" %9s", "round " + (r + 1)));
        }
        out.println(head.append(String.format(" %10s", "median")));
        double[] median = new double[labels.length];
        for (int row = 0; row < labels.length; row++) {
            StringBuilder line = new StringBuilder(String.format("  %-34s", labels[row]));
            double[] v = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                v[r] = runs[row][r].mbPerSec();
                line.append(String.format(" %9.1f", v[r]));
            }
            median[row] = median(v);
            out.println(line.append(String.format(" %10.1f", median[row])));
        }
        for (int row = 0; row < 2; row++) {
            out.printf("  %s, round with the median rate:%n      %s%n", labels[row], medianRun(runs[row]).counters());
        }
        double[][] ratios = new double[3][rounds];
        for (int r = 0; r < rounds; r++) {
            ratios[0][r] = runs[0][r].mbPerSec() / runs[2][r].mbPerSec();
            ratios[1][r] = runs[1][r].mbPerSec() / runs[3][r].mbPerSec();
            ratios[2][r] = runs[1][r].mbPerSec() / runs[0][r].mbPerSec();
        }
        out.printf("  medians: copy/TCP %.2f (bar >= 2), zerocopy/UDS %.2f (bar >= 1), zerocopy/copy %.2f (bar >= 1.3)%n",
                median[0] / median[2], median[1] / median[3], median[1] / median[0]);
        out.printf("  per round: copy/TCP %.2f..%.2f, zerocopy/UDS %.2f..%.2f, zerocopy/copy %.2f..%.2f%n",
                min(ratios[0]), max(ratios[0]), min(ratios[1]), max(ratios[1]), min(ratios[2]), max(ratios[2]));
        out.printf("  of the in-JVM ceiling (medians): copy %.2f, zerocopy %.2f, JDK TCP %.2f, JDK Unix-domain %.2f%n",
                median[0] / median[4], median[1] / median[4], median[2] / median[4], median[3] / median[4]);
        return 0;
    }

    /** The median of {@code v} (mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static Run medianRun(Run[] runs) {
        Run[] s = runs.clone();
        java.util.Arrays.sort(s, java.util.Comparator.comparingDouble(Run::mbPerSec));
        return s[(s.length - 1) / 2];
    }

    private static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(Double.NaN);
    }

    /** The RFC's table: rx = tx of 8..512 pages, zerocopy and copy, then the baselines. */
    static int sweep(Options o, PrintStream out, PrintStream err) {
        long cellBytes = o.mb() * 1_000_000L;
        int cells = SWEEP_PAGES.length * 2;
        long total = cellBytes * cells + (o.baselines() ? 2 * cellBytes : 0);
        AtomicLong done = new AtomicLong();
        Progress bar = o.progress() ? Progress.start(err, total, done) : null;
        io.vsocksim.kernel.RealClock wallClock = new io.vsocksim.kernel.RealClock();
        long t0 = wallClock.nanoTime();
        Run[] zc = new Run[SWEEP_PAGES.length];
        Run[] copy = new Run[SWEEP_PAGES.length];
        Run tcp = null;
        Run uds = null;
        try {
            for (int i = 0; i < SWEEP_PAGES.length; i++) {
                int p = SWEEP_PAGES[i];
                for (boolean z : new boolean[] {true, false}) {
                    if (bar != null) {
                        bar.label((z ? "zerocopy " : "copy ") + p + " pages");
                    }
                    Options cell = new Options(o.mb(), p, p, z, o.transport(), o.direction(), false, false, false);
                    long base = done.get();
                    Run r = vsock(cell, new AtomicLong(), done);
                    done.set(base + cellBytes);
                    if (z) {
                        zc[i] = r;
                    } else {
                        copy[i] = r;
                    }
                }
            }
            if (o.baselines()) {
                if (bar != null) {
                    bar.label("JDK TCP");
                }
                tcp = Baselines.tcp(cellBytes, BASELINE_CHUNK);
                done.addAndGet(cellBytes);
                if (bar != null) {
                    bar.label("JDK UDS");
                }
                uds = Baselines.unix(cellBytes, BASELINE_CHUNK);
                done.addAndGet(cellBytes);
            }
        } finally {
            if (bar != null) {
                bar.stop();
            }
        }
        double wall = (wallClock.nanoTime() - t0) / 1e9;
        printSweep(o, zc, copy, tcp, uds, wall, out);
        return 0;
    }

    static void printSweep(Options o, Run[] zc, Run[] copy, Run tcp, Run uds, double wall, PrintStream out) {
        double scale = (double) o.mb() / RFC_MB;
        out.printf("rx-zerocopy --sweep: %d MB per cell, rx = tx pages, %s%n", o.mb(), o.placement());
        if (scale != 1) {
            out.printf("(RFC seconds are for 4000 MB; scaled by %.4f to %d MB in the RFC columns)%n", scale, o.mb());
        }
        out.println("            |        zerocopy receive       |          copy receive         |   zc / copy time");
        out.println("  rx/tx pg  |  RFC s   sim s      sim MB/s   |  RFC s   sim s      sim MB/s   |   RFC     sim");
        for (int i = 0; i < SWEEP_PAGES.length; i++) {
            double rz = RFC_ZEROCOPY_S[i] * scale;
            double rc = RFC_COPY_S[i] * scale;
            out.printf("  %8d  | %6.2f %7.3f %12.1f     | %6.2f %7.3f %12.1f     | %5.2f  %6.2f%n", SWEEP_PAGES[i],
                    rz, zc[i].seconds(), zc[i].mbPerSec(), rc, copy[i].seconds(), copy[i].mbPerSec(), rz / rc,
                    zc[i].seconds() / copy[i].seconds());
        }
        out.println("counters per cell:");
        for (int i = 0; i < SWEEP_PAGES.length; i++) {
            out.printf("  zerocopy %3d: %s%n", SWEEP_PAGES[i], zc[i].counters());
            out.printf("  copy     %3d: %s%n", SWEEP_PAGES[i], copy[i].counters());
        }
        double vsockSeconds = 0;
        for (int i = 0; i < SWEEP_PAGES.length; i++) {
            vsockSeconds += zc[i].seconds() + copy[i].seconds();
        }
        if (tcp != null) {
            out.printf("baselines (same run, %d MB, %d KiB writes/reads):%n", o.mb(), BASELINE_CHUNK / 1024);
            out.printf("  %-32s %8.3f s %9.1f MB/s%n", tcp.label(), tcp.seconds(), tcp.mbPerSec());
            out.printf("  %-32s %8.3f s %9.1f MB/s%n", uds.label(), uds.seconds(), uds.mbPerSec());
        }
        out.printf("total: 10 vsock cells %.1f s measured transfer time, %.1f s wall clock (with set-up%s)%n",
                vsockSeconds, wall, tcp != null ? " and baselines" : "");
    }

    static Run vsock(Options o, AtomicLong progress) {
        return vsock(o, progress, null, null);
    }

    static Run vsock(Options o, AtomicLong progress, AtomicLong global) {
        return vsock(o, progress, global, null);
    }

    /** One vsock transfer with the chosen placement; {@code progress} (and {@code global}) count received bytes. */
    static Run vsock(Options o, AtomicLong progress, AtomicLong global, Path pcap) {
        long bytes = o.mb() * 1_000_000L;
        ZerocopyPolicy policy = o.zerocopy() ? ZerocopyPolicy.PAGES : ZerocopyPolicy.OFF;
        Machine sender;
        Machine receiver;
        int dstCid;
        Guest guest = null;
        List<Machine> owned = new ArrayList<>();
        try {
            if ("loopback".equals(o.transport())) {
                Machine m = Machine.virtualTime("local", 256L << 20);
                owned.add(m);
                m.setZerocopyPolicy(policy);
                sender = m;
                receiver = m;
                dstCid = VMADDR_CID_LOCAL;
            } else {
                Host host = SimInternals.newHost(KernelContext.threaded("host", 256L << 20, 2), true);
                owned.add(host);
                // The guest's policy is fixed at boot (its RX buffers are posted then); copy mode keeps
                // 6.12.117's default OFF. One data page per RX buffer: the RFC's layout.
                guest = SimInternals.startGuest(host, 3, KernelContext.threaded("guest3", 256L << 20, 2), Guest.Options.DEFAULTS,
                        policy);
                if ("g2h".equals(o.direction())) {
                    host.setZerocopyPolicy(policy);
                    sender = guest;
                    receiver = host;
                    dstCid = VMADDR_CID_HOST;
                } else {
                    sender = host;
                    receiver = guest;
                    dstCid = 3;
                }
            }
            Machine watched = guest != null ? guest.host() : sender;
            try (VsockCapture cap = pcap == null ? null : VsockCapture.start(watched, pcap)) {
                return transfer(o, sender, receiver, guest, dstCid, bytes, progress, global);
            }
        } catch (ErrnoException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("--pcap " + pcap, e);
        } finally {
            for (Machine m : owned) {
                m.close();
            }
        }
    }

    /**
     * One transfer between two processes, by descriptor as the RFC's C tool makes its calls: the
     * receiver listens and reads, the sender connects and writes {@code bytes}, then closes.
     */
    private static Run transfer(Options o, Machine sender, Machine receiver, Guest guest, int dstCid, long bytes,
            AtomicLong progress, AtomicLong global) throws ErrnoException {
        int txLen = o.txPages() * PAGE;
        int rxLen = o.rxPages() * PAGE;
        UserProcess rx = UserProcess.spawn(receiver, "rx_zerocopy");
        UserProcess tx = UserProcess.spawn(sender, "rx_zerocopy-sender");
        try {
            int listener = ErrnoException.check(rx.socket(AF_VSOCK, SOCK_STREAM, 0), "socket");
            ErrnoException.check(rx.bind(listener, VMADDR_CID_ANY, 1234), "bind");
            ErrnoException.check(rx.listen(listener, 1), "listen");
            int client = ErrnoException.check(tx.socket(AF_VSOCK, SOCK_STREAM, 0), "socket");
            Stats before = Stats.read(sender, receiver, guest);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ErrnoException.check(tx.connect(client, dstCid, 1234), "connect");
                    ByteBuffer buf = ByteBuffer.allocateDirect(txLen);
                    long sent = 0;
                    while (sent < bytes) {
                        buf.clear();
                        if (bytes - sent < txLen) {
                            buf.limit((int) (bytes - sent));
                        }
                        sent += ErrnoException.check(tx.send(client, buf, 0), "send");
                    }
                    tx.close(client);
                } catch (ErrnoException e) {
                    throw new IllegalStateException(e);
                }
            });
            int conn = ErrnoException.check(rx.accept4(listener, 0), "accept");
            Clock clock = SimInternals.kernel(receiver).clock();
            long t0 = clock.nanoTime();
            long[] zcCounts = new long[4];
            long got = o.zerocopy() ? receiveZerocopy(rx, conn, rxLen, bytes, progress, global, zcCounts)
                    : receiveCopy(rx, conn, rxLen, progress, global);
            long t1 = clock.nanoTime();
            writer.join();
            Stats spent = Stats.read(sender, receiver, guest).minus(before);
            rx.close(conn);
            rx.close(listener);
            if (got != bytes) {
                throw new IllegalStateException("short transfer: " + got + " of " + bytes);
            }
            return new Run(o.placement(), got, t1 - t0, spent.counters(zcCounts));
        } finally {
            tx.close();
            rx.close();
        }
    }

    /** Copy receive: recv() into a buffer of --rx pages until end of stream. */
    private static long receiveCopy(UserProcess rx, int conn, int rxLen, AtomicLong progress, AtomicLong global)
            throws ErrnoException {
        ByteBuffer rbuf = ByteBuffer.allocateDirect(rxLen);
        long got = 0;
        long n;
        while ((n = ErrnoException.check(rx.recv(conn, rbuf, 0), "recv")) > 0) {
            got += n;
            progress.lazySet(got);
            if (global != null) {
                global.addAndGet(n);
            }
            rbuf.clear();
        }
        return got;
    }

    /**
     * Zerocopy receive as the RFC's tool does it: one mapping of --rx pages; per round poll(POLLIN),
     * getsockopt(SO_VM_SOCKETS_ZEROCOPY) with the mapping's address, walk the {@code {u32 length; u32
     * flags}} headers of page 0 to the zero terminator, madvise(MADV_DONTNEED) the whole mapping. The
     * data itself is not read (the RFC tool's point: the bytes are handed over, not copied). An empty
     * list when poll said readable and {@code POLLHUP}/{@code POLLRDHUP}-like end of stream is the end.
     * {@code counts}: getsockopt calls, madvise calls, data pages mapped, header pages mapped.
     */
    private static long receiveZerocopy(UserProcess rx, int conn, int rxLen, long bytes, AtomicLong progress,
            AtomicLong global, long[] counts) throws ErrnoException {
        long addr = ErrnoException.check(rx.mmap(0, rxLen, Mman.PROT_READ, Mman.MAP_SHARED, conn, 0), "mmap");
        ByteBuffer opt = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        PollFd[] pfd = {new PollFd(conn, Poll.POLLIN)};
        int maxHeaders = PAGE / 8;
        long got = 0;
        while (true) {
            if (ErrnoException.check(rx.poll(pfd, 1, 10_000), "poll") == 0) {
                throw new IllegalStateException("poll: no data for 10 s after " + got + " bytes");
            }
            opt.putLong(0, addr);
            ErrnoException.check(rx.getsockopt(conn, AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY, opt, 8), "getsockopt");
            counts[0]++;
            int headers = 0;
            long round = 0;
            for (int h = 0; h < maxHeaders; h++) {
                int len = rx.readU32(addr + 8L * h);
                if (len == 0) {
                    break;
                }
                headers++;
                round += len;
                counts[2] += (len + PAGE - 1) / PAGE;
            }
            counts[3]++;
            ErrnoException.check(rx.madvise(addr, rxLen, Mman.MADV_DONTNEED), "madvise");
            counts[1]++;
            if (headers == 0) {
                // poll said readable and nothing was queued: end of stream (or reset).
                break;
            }
            got += round;
            progress.lazySet(got);
            if (global != null) {
                global.addAndGet(round);
            }
            if (got > bytes) {
                throw new IllegalStateException("more data than sent: " + got + " > " + bytes);
            }
        }
        ErrnoException.check(rx.munmap(addr, rxLen), "munmap");
        return got;
    }

    /** The counters of the machines in a transfer at one instant; the guest's are null for loopback. */
    private record Stats(VsockStats sender, VsockStats receiver, VsockStats guest) {
        static Stats read(Machine sender, Machine receiver, Guest guest) {
            return new Stats(VsockStats.of(sender), VsockStats.of(receiver), guest == null ? null : VsockStats.of(guest));
        }

        Stats minus(Stats earlier) {
            return new Stats(sender.minus(earlier.sender), receiver.minus(earlier.receiver),
                    guest == null ? null : guest.minus(earlier.guest));
        }

        /** These deltas as a run's counters, with the zerocopy calls' counts {@code zc}. */
        Counters counters(long[] zc) {
            // Over virtio the device's copies are vhost's (the guest's device); over loopback the receiver's.
            long device = guest != null ? guest.device().get("BYTES_COPIED")
                    : receiver.vsock().get("BYTES_COPIED_BY_DEVICE");
            return new Counters(sender.vsock().get("BYTES_COPIED_FROM_USER"), receiver.vsock().get("BYTES_COPIED_TO_USER"),
                    device, sender.vsock().get("SENT_RW"), receiver.vsock().get("PKTS_RECEIVED"),
                    receiver.vsock().get("CREDIT_UPDATES_SENT"), guest == null ? 0 : guest.driver().get("KICKS"),
                    guest == null ? 0 : guest.driver().get("INTERRUPTS"), guest == null ? 0 : guest.driver().get("RX_BUFS_USED"),
                    zc[0], zc[1], zc[2], zc[3]);
        }
    }

    /** A {@code [#####.....]} line on stderr, rewritten with {@code \r} (a new line each time if not a TTY). */
    static final class Progress {
        private final PrintStream err;
        private final long total;
        private final AtomicLong done;
        private final Thread thread;
        private final boolean tty = System.console() != null;
        private volatile String label = "";
        private volatile boolean running = true;
        private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        private int lastPercent = -1;

        private Progress(PrintStream err, long total, AtomicLong done) {
            this.err = err;
            this.total = total;
            this.done = done;
            this.thread = new Thread(this::loop, "rx-zerocopy-progress");
            this.thread.setDaemon(true);
        }

        static Progress start(PrintStream err, long total, AtomicLong done) {
            Progress p = new Progress(err, total, done);
            p.thread.start();
            return p;
        }

        void label(String l) {
            label = l;
        }

        private void loop() {
            while (running) {
                draw(false);
                try {
                    if (stopped.await(tty ? 200 : 2000, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private synchronized void draw(boolean last) {
            long d = Math.min(done.get(), total);
            int percent = (int) (100 * d / Math.max(1, total));
            if (!tty && !last && percent == lastPercent) {
                return;
            }
            lastPercent = percent;
            int width = 30;
            int filled = (int) ((long) width * d / Math.max(1, total));
            String line = "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + percent + "% " + label;
            err.print(tty ? "\r" + line + "   " : line + "\n");
            if (last && tty) {
                err.println();
            }
            err.flush();
        }

        void stop() {
            running = false;
            stopped.countDown();
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.set(total);
            label = "done";
            draw(true);
        }
    }

    private ParameterException invalid(String option, String value, String rule) {
        return new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': '" + value + "' " + rule);
    }
}
