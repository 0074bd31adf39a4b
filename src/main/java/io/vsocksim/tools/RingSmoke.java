package io.vsocksim.tools;

import static io.vsocksim.uapi.VirtioRing.VIRTIO_F_VERSION_1;
import static io.vsocksim.uapi.VirtioRing.VIRTIO_RING_F_EVENT_IDX;

import io.vsocksim.mm.GuestMemory;
import io.vsocksim.mm.PageAllocator;
import io.vsocksim.uapi.VirtioVsockHdr;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.vhost.Iov;
import io.vsocksim.vhost.VhostVirtqueue;
import io.vsocksim.virtio.VirtqueueSplit;
import io.vsocksim.virtio.VringAddrs;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.zip.CRC32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The foundation smoke job: a guest driver places {@code virtio_vsock_hdr} + payload chains on a split
 * TX virtqueue in guest memory, a vhost device pops them, copies the header out once (TOCTOU rule),
 * checks it and the payload checksum, and returns the chains. It exercises every layer built so far
 * and prints the counters.
 */
@Command(name = "smoke",
        description = {"Ring smoke job: virtio_vsock_hdr packets through a split virtqueue.",
            "A guest driver places virtio_vsock_hdr + payload chains on a split TX virtqueue in guest"
            + " memory; a vhost device pops them, checks each header and the payload checksum, and returns the"
            + " chains. Prints the driver, device and page counters and 1 passed, 0 failed."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every packet arrived intact", "1:a header or the payload checksum did not match",
            "2:bad usage"})
final class RingSmoke implements Callable<Integer> {
    private static final int QUEUE_SIZE = 128;
    private static final long RING_GPA = 0;

    private final PrintStream out;

    @Option(names = "--packets", paramLabel = "N", converter = Positive.class,
            description = "Packets to send through the ring (default: ${DEFAULT-VALUE})")
    private int packets = 100_000;

    private RingSmoke(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        return run(packets, out);
    }

    /** Runs {@code packets} round trips; returns 0 on success, 1 on a mismatch. */
    static int run(int packets, PrintStream out) {
        GuestMemory mem = new GuestMemory("guest3", GuestMemory.DEFAULT_SIZE);
        long ringBytes = VringAddrs.legacySize(QUEUE_SIZE, GuestMemory.PAGE_SIZE);
        int ringPages = (int) ((ringBytes + GuestMemory.PAGE_SIZE - 1) / GuestMemory.PAGE_SIZE);
        PageAllocator pages = new PageAllocator(mem, ringPages, (int) mem.pages() - ringPages, true);
        long features = (1L << VIRTIO_F_VERSION_1) | (1L << VIRTIO_RING_F_EVENT_IDX);
        VringAddrs addrs = VringAddrs.legacy(RING_GPA, QUEUE_SIZE, GuestMemory.PAGE_SIZE);

        long[] interrupts = {0};
        VhostVirtqueue dev = new VhostVirtqueue(mem, features, () -> interrupts[0]++);
        dev.setNum(QUEUE_SIZE);
        dev.setAddr(addrs.descGpa(), addrs.availGpa(), addrs.usedGpa());
        VirtqueueSplit drv = new VirtqueueSplit(mem, addrs, features, null, vq -> true, null);
        dev.setBackend(true);

        Iov iov = new Iov();
        VirtioVsockHdr hdr = new VirtioVsockHdr();
        ByteBuffer snapshot = ByteBuffer.allocate(VirtioVsockHdr.SIZE);
        VirtioVsockHdr copy = new VirtioVsockHdr().wrap(snapshot, 0);
        long[] outGpa = new long[2];
        int[] outLen = new int[2];
        CRC32 sent = new CRC32();
        CRC32 received = new CRC32();
        byte[] scratch = new byte[GuestMemory.PAGE_SIZE];
        long bytes = 0;
        int bad = 0;

        for (int i = 0; i < packets; i++) {
            long h = pages.allocPages(0);
            int len = 1 + (i * 977) % (GuestMemory.PAGE_SIZE - VirtioVsockHdr.SIZE);
            ByteBuffer page = pages.page(h, 0);
            hdr.wrap(page, 0).clear().srcCid(3).dstCid(2).srcPort(1024 + i % 7).dstPort(1234).len(len)
                    .type(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()).op(VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value())
                    .bufAlloc(262144).fwdCnt(i);
            for (int b = 0; b < len; b++) {
                scratch[b] = (byte) (i + b * 31);
            }
            page.put(VirtioVsockHdr.SIZE, scratch, 0, len);
            sent.update(scratch, 0, len);
            outGpa[0] = pages.gpa(h);
            outLen[0] = VirtioVsockHdr.SIZE;
            outGpa[1] = pages.gpa(h) + VirtioVsockHdr.SIZE;
            outLen[1] = len;
            if (drv.addSgs(outGpa, outLen, 2, null, null, 0, h) != 0) {
                throw new IllegalStateException("ring full at packet " + i);
            }
            drv.kick();

            dev.disableNotify();
            int head;
            while ((head = dev.getVqDesc(iov)) >= 0 && head < QUEUE_SIZE) {
                snapshot.clear();
                iov.copyFromOut(mem, 0, snapshot);
                if (copy.len() > iov.outBytes() - VirtioVsockHdr.SIZE || copy.op() != VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value()) {
                    bad++;
                }
                ByteBuffer payload = ByteBuffer.wrap(scratch, 0, copy.len());
                iov.copyFromOut(mem, VirtioVsockHdr.SIZE, payload);
                received.update(scratch, 0, copy.len());
                bytes += copy.len();
                dev.addUsed(head, 0);
            }
            dev.enableNotify();
            dev.signal();

            Object token;
            while ((token = drv.getBuf()) != null) {
                pages.freePages((Long) token);
            }
        }

        boolean ok = bad == 0 && sent.getValue() == received.getValue() && pages.pagesInUse() == 0
                && dev.errors() == 0 && !drv.isBroken();
        out.printf("ring smoke: %d packets, %d payload bytes through a %d-entry split virtqueue in %s%n",
                packets, bytes, QUEUE_SIZE, mem);
        out.printf("  driver: kicks=%d added=%d used=%d broken=%s%n", drv.kicks(), drv.buffersAdded(),
                drv.buffersUsed(), drv.isBroken());
        out.printf("  device: descs=%d used=%d interrupts=%d vq_errors=%d%n", dev.descsFetched(), dev.usedAdded(),
                interrupts[0], dev.errors());
        out.printf("  pages: %s%n", pages);
        out.printf("  payload crc32 sent=%08x received=%08x bad headers=%d%n", sent.getValue(), received.getValue(), bad);
        out.println(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
        return ok ? 0 : 1;
    }
}
