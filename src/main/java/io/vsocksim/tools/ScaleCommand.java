package io.vsocksim.tools;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;

import io.vsocksim.kernel.RealClock;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.VsockSocket;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vsocksim scale}: many guests on one host in one JVM, each with one connection to the host, and
 * what they cost: start time per guest, connect time, the 1-byte round trip, memory per idle guest and
 * the JVM's threads, for each guest count side by side.
 */
@Command(name = "scale",
        description = {"Starts N guests on one host (for each N given), connects each to a host listener and"
            + " measures: the start time per guest, the connect time, the 1-byte round-trip median over the"
            + " guests, the heap and the resident memory per idle guest (after a full GC), and the threads in"
            + " the JVM. Guests share the host's worker threads; memory is backed on first write."},
        optionListHeading = "%nOptions:%n")
final class ScaleCommand implements Callable<Integer> {
    /** The wall clock the figures are in. */
    private static final RealClock WALL = new RealClock();
    private final PrintStream out;

    @Option(names = "--guests", paramLabel = "N[,N...]", split = ",", converter = Positive.class,
            description = "Guest counts to measure, each on a fresh host (default: 1,64,1000)")
    private int[] guests = {1, 64, 1000};

    @Option(names = "--round-trips", paramLabel = "K", converter = Positive.class,
            description = "1-byte round trips measured, spread over the guests (default: ${DEFAULT-VALUE})")
    private int roundTrips = 2000;

    private ScaleCommand(PrintStream out, PrintStream err) {
        this.out = out;
    }

    /** One guest count's figures. */
    record Row(int guests, double startMsPerGuest, double connectUsMedian, double rttUsMedian,
               double heapKibPerGuest, double rssKibPerGuest, double directKibPerGuest, int threads,
               long rss0, long heap0) {
        /** Heap still used and resident memory per guest now, against the figures before the host started. */
        String left() {
            quiesceGc(); // unreachable machines' mappings are unmapped when their buffers are collected
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() - heap0;
            return String.format("heap %.0f KiB, RSS %.0f KiB per guest", heap / 1024.0 / guests, (rssBytes() - rss0) / 1024.0 / guests);
        }
    }

    @Override
    public Integer call() throws Exception {
        out.printf("scale: guests on one host, one connection each; %d round trips per row; %d CPUs, JDK %s%n",
                roundTrips, Runtime.getRuntime().availableProcessors(), Runtime.version());
        measure(8, Math.min(roundTrips, 1000)); // untimed: class loading and the JIT's first compilations
        List<Row> rows = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (int n : guests) {
            Row r = measure(n, roundTrips);
            rows.add(r);
            left.add("  " + n + " guests closed, after a full GC: " + r.left()); // measure's frame is gone
        }
        out.println("  guests | start/guest | connect p50 | 1-B RTT p50 | heap/guest | RSS/guest | direct/guest | JVM threads");
        for (Row r : rows) {
            out.printf("  %6d | %8.3f ms | %8.1f µs | %8.1f µs | %6.0f KiB | %5.0f KiB | %8.0f KiB | %d%n",
                    r.guests(), r.startMsPerGuest(), r.connectUsMedian(), r.rttUsMedian(), r.heapKibPerGuest(),
                    r.rssKibPerGuest(), r.directKibPerGuest(), r.threads());
        }
        left.forEach(out::println);
        if (rows.size() > 1) {
            Row first = rows.get(0);
            Row last = rows.get(rows.size() - 1);
            out.printf("  RTT at %d guests / RTT at %d: %.2f; threads %d -> %d%n", last.guests(), first.guests(),
                    last.rttUsMedian() / first.rttUsMedian(), first.threads(), last.threads());
        }
        return 0;
    }

    /** Boots a host and {@code n} guests, connects one socket per guest and measures. */
    static Row measure(int n, int roundTrips) throws ErrnoException, IOException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        quiesceGc();
        long heap0 = mem.getHeapMemoryUsage().getUsed();
        long rss0 = rssBytes();
        long direct0 = directBytes();
        try (Host host = Host.virtualTime("host")) {
            VsockSocket listener = VsockSocket.open(host, SOCK_STREAM);
            listener.bind(VMADDR_CID_ANY, 1234);
            listener.listen(4096);
            Guest[] g = new Guest[n];
            long t0 = WALL.nanoTime();
            for (int i = 0; i < n; i++) {
                g[i] = host.startGuest(3 + i);
            }
            double startMs = (WALL.nanoTime() - t0) / 1e6 / n;
            VsockSocket[] client = new VsockSocket[n];
            VsockSocket[] server = new VsockSocket[n];
            long[] connect = new long[n];
            for (int i = 0; i < n; i++) {
                client[i] = VsockSocket.open(g[i], SOCK_STREAM);
                long c0 = WALL.nanoTime();
                client[i].connect(VMADDR_CID_HOST, 1234);
                connect[i] = WALL.nanoTime() - c0;
                server[i] = listener.accept();
            }
            ByteBuffer one = ByteBuffer.allocateDirect(1);
            long[] rtt = new long[roundTrips];
            for (int k = 0; k < roundTrips + Math.min(roundTrips, 500); k++) { // the first 500 warm up
                int i = k % n;
                long r0 = WALL.nanoTime();
                one.clear();
                client[i].send(one, 0);
                one.clear();
                server[i].recv(one, 0);
                one.clear();
                server[i].send(one, 0);
                one.clear();
                client[i].recv(one, 0);
                long d = WALL.nanoTime() - r0;
                int m = k - Math.min(roundTrips, 500);
                if (m >= 0) {
                    rtt[m] = d;
                }
            }
            quiesceGc();
            double heapKib = (mem.getHeapMemoryUsage().getUsed() - heap0) / 1024.0 / n;
            double rssKib = (rssBytes() - rss0) / 1024.0 / n;
            double directKib = (directBytes() - direct0) / 1024.0 / n;
            int threads = ManagementFactory.getThreadMXBean().getThreadCount();
            for (int i = 0; i < n; i++) {
                client[i].close();
                server[i].close();
            }
            listener.close();
            return new Row(n, startMs, median(connect) / 1e3, median(rtt) / 1e3, heapKib, rssKib, directKib, threads,
                    rss0, heap0);
        }
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static void quiesceGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
    }

    /**
     * Bytes of direct buffers the JDK has allocated. Machine memory is mapped instead (the "mapped" pool,
     * whose figure is address space, not memory): what of it is used shows in the resident set.
     */
    private static long directBytes() {
        long n = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                n += b.getMemoryUsed();
            }
        }
        return n;
    }

    /** The process's resident set ({@code VmRSS} of /proc/self/status), or 0 where there is none. */
    private static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
