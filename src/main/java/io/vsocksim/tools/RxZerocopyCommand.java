package io.vsocksim.tools;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;

import io.vsocksim.NotUpstream;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.VsockCounters;
import io.vsocksim.vsock.VsockSocket;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code vsocksim rx-zerocopy}: the zerocopy-receive RFC's {@code rx_zerocopy} utility rebuilt on the
 * simulator. A server sends exactly {@code --mb} megabytes in writes of {@code --tx} pages; the client
 * reads them in copy mode ({@code recv} into {@code --rx} pages) or, with {@code --zerocopy}, through a
 * mapping of {@code --rx} pages (getsockopt + madvise). It prints the time, the rate and the counters
 * that explain them, and the same transfer through JDK loopback TCP and Unix-domain channels.
 */
@NotUpstream("virtio/vsock zerocopy receive RFC v1/v2: tools/testing/vsock/vsock_rx_zerocopy-like utility")
final class RxZerocopyCommand {
    static final int PAGE = GuestMemory.PAGE_SIZE;

    private RxZerocopyCommand() {
    }

    /** What to run. */
    record Options(long mb, int rxPages, int txPages, boolean zerocopy, String transport, String direction, boolean baselines) {
    }

    /** One measured transfer. */
    record Run(String label, long bytes, long nanos, String counters) {
        double mbPerSec() {
            return bytes / 1e6 / (nanos / 1e9);
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        long mb = 1000;
        int rx = 64;
        int tx = 64;
        boolean zc = false;
        String transport = "virtio";
        String direction = "h2g";
        boolean baselines = true;
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(0, eq) : arg;
            String value = eq > 0 ? arg.substring(eq + 1) : null;
            switch (name) {
                case "--help":
                    usage(out);
                    return 0;
                case "--mb":
                    mb = Long.parseLong(value);
                    break;
                case "--rx":
                    rx = Integer.parseInt(value);
                    break;
                case "--tx":
                    tx = Integer.parseInt(value);
                    break;
                case "--zerocopy":
                    zc = true;
                    break;
                case "--transport":
                    transport = value;
                    break;
                case "--direction":
                    direction = value;
                    break;
                case "--no-baselines":
                    baselines = false;
                    break;
                default:
                    err.println("rx-zerocopy: unknown option " + arg);
                    usage(err);
                    return 2;
            }
        }
        if (zc) {
            err.println("rx-zerocopy: --zerocopy needs the zerocopy receive path, which is not built yet");
            return 2;
        }
        Options o = new Options(mb, rx, tx, zc, transport, direction, baselines);
        List<Run> runs = new ArrayList<>();
        runs.add(vsock(o));
        if (baselines) {
            runs.add(Baselines.tcp(o.mb() * 1_000_000L, 64 * 1024));
            runs.add(Baselines.unix(o.mb() * 1_000_000L, 64 * 1024));
        }
        print(o, runs, out);
        return 0;
    }

    static void print(Options o, List<Run> runs, PrintStream out) {
        out.printf("rx-zerocopy: %d MB, rx %d pages, tx %d pages, %s%n", o.mb(), o.rxPages(), o.txPages(),
                o.zerocopy() ? "zerocopy receive" : "copy receive");
        for (Run r : runs) {
            out.printf("  %-44s %8.3f s  %9.1f MB/s%n", r.label(), r.nanos() / 1e9, r.mbPerSec());
            if (r.counters() != null) {
                out.println("      " + r.counters());
            }
        }
    }

    /** One vsock transfer with the chosen placement. */
    static Run vsock(Options o) {
        long bytes = o.mb() * 1_000_000L;
        String label;
        Machine sender;
        Machine receiver;
        int dstCid;
        List<Machine> owned = new ArrayList<>();
        try {
            if ("loopback".equals(o.transport())) {
                Machine m = Machine.threaded("local", 256L << 20);
                owned.add(m);
                sender = m;
                receiver = m;
                dstCid = VMADDR_CID_LOCAL;
                label = "vsock loopback (CID 1)";
            } else {
                Host host = new Host(KernelContext.threaded("host", 256L << 20, 2), true);
                owned.add(host);
                Guest guest = host.startGuest(3, KernelContext.threaded("guest3", 256L << 20, 2), Guest.Options.DEFAULTS);
                if ("g2h".equals(o.direction())) {
                    sender = guest;
                    receiver = host;
                    dstCid = VMADDR_CID_HOST;
                    label = "vsock guest -> host (virtio)";
                } else {
                    sender = host;
                    receiver = guest;
                    dstCid = 3;
                    label = "vsock host -> guest (virtio)";
                }
            }
            Guest guest = owned.get(0) instanceof Host h && !h.guests().isEmpty() ? h.guests().get(0) : null;
            return transfer(label, sender, receiver, guest, dstCid, bytes, o.txPages() * PAGE, o.rxPages() * PAGE);
        } catch (ErrnoException e) {
            throw new IllegalStateException(e);
        } finally {
            for (Machine m : owned) {
                m.close();
            }
        }
    }

    private static Run transfer(String label, Machine sender, Machine receiver, Guest guest, int dstCid, long bytes,
            int txLen, int rxLen) throws ErrnoException {
        VsockSocket listener = receiver.socket(SOCK_STREAM);
        listener.bind(VMADDR_CID_ANY, 1234);
        listener.listen(1);
        VsockSocket client = sender.socket(SOCK_STREAM);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                client.connect(dstCid, 1234);
                ByteBuffer buf = ByteBuffer.allocateDirect(txLen);
                long sent = 0;
                while (sent < bytes) {
                    buf.clear();
                    if (bytes - sent < txLen) {
                        buf.limit((int) (bytes - sent));
                    }
                    sent += client.send(buf, 0);
                }
                client.close();
            } catch (ErrnoException e) {
                throw new IllegalStateException(e);
            }
        });
        VsockSocket conn = listener.accept();
        Clock clock = receiver.kernel().clock();
        VsockCounters rc = receiver.counters();
        long copiedBefore = rc.get(VsockCounters.Counter.BYTES_COPIED_TO_USER);
        long t0 = clock.nanoTime();
        ByteBuffer rbuf = ByteBuffer.allocateDirect(rxLen);
        long got = 0;
        int n;
        while ((n = conn.recv(rbuf, 0)) > 0) {
            got += n;
            rbuf.clear();
        }
        long t1 = clock.nanoTime();
        writer.join();
        conn.close();
        listener.close();
        if (got != bytes) {
            throw new IllegalStateException("short transfer: " + got + " of " + bytes);
        }
        VsockCounters sc = sender.counters();
        StringBuilder counters = new StringBuilder()
                .append("copied: send ").append(sc.get(VsockCounters.Counter.BYTES_COPIED_FROM_USER))
                .append(" recv ").append(rc.get(VsockCounters.Counter.BYTES_COPIED_TO_USER) - copiedBefore)
                .append("; RW packets sent ").append(sc.sent(io.vsocksim.uapi.VirtioVsockOp.VIRTIO_VSOCK_OP_RW))
                .append(", packets received ").append(rc.get(VsockCounters.Counter.PKTS_RECEIVED))
                .append(", credit updates ").append(rc.get(VsockCounters.Counter.CREDIT_UPDATES_SENT));
        if (guest != null) {
            io.vsocksim.vsock.vhost.VhostVsockCounters dev = guest.deviceCounters();
            io.vsocksim.vsock.guest.VirtioVsockCounters drv = guest.driverCounters();
            counters.append("; vhost copied ").append(dev.get(io.vsocksim.vsock.vhost.VhostVsockCounters.Counter.BYTES_COPIED))
                    .append(", guest kicks ").append(drv.get(io.vsocksim.vsock.guest.VirtioVsockCounters.Counter.KICKS))
                    .append(", interrupts ").append(drv.get(io.vsocksim.vsock.guest.VirtioVsockCounters.Counter.INTERRUPTS))
                    .append(", RX buffers used ").append(drv.get(io.vsocksim.vsock.guest.VirtioVsockCounters.Counter.RX_BUFS_USED));
        }
        return new Run(label, got, t1 - t0, counters.toString());
    }

    static void usage(PrintStream out) {
        out.println("usage: vsocksim rx-zerocopy [--mb=N] [--rx=PAGES] [--tx=PAGES] [--zerocopy]");
        out.println("                            [--transport=virtio|loopback] [--direction=h2g|g2h] [--no-baselines]");
        out.println("  A server sends N MB in writes of --tx pages; the client receives into --rx pages");
        out.println("  (copy) or through a mapping of --rx pages (--zerocopy). Default: host -> guest over virtio.");
        out.println("  The same transfer through JDK loopback TCP and Unix-domain channels is measured beside it.");
    }
}
