package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SHUT_WR;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.testing.ExternalTool;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.testsuite.VsockTestRunner;
import io.vsocksim.testsuite.VsockTests;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VsockMon;
import io.vsocksim.vsock.Vsockmon;
import io.vsocksim.user.VsockSocket;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * vsockmon frames (virtio_transport_build_skb) and the capture files written from them: a connect /
 * data / credit update / shutdown / reset sequence over loopback, checked field by field against
 * {@code struct af_vsockmon_hdr} and {@code struct virtio_vsock_hdr}, and read back from pcap and pcapng.
 */
class VsockCaptureTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @TempDir
    Path dir;
    private final Machine m = TestMachine.threaded("capture", leaks);

    @AfterEach
    void tearDown() {
        m.close();
    }

    /** Any value: the field is not checked. */
    private static final int ANY = -1;
    /** SO_VM_SOCKETS_BUFFER_SIZE's default, the {@code buf_alloc} a fresh socket advertises. */
    private static final int BUF_ALLOC = 256 * 1024;

    /**
     * One expected frame: op, monitor op, ports, payload, and the header's flags, buf_alloc and fwd_cnt
     * ({@link #ANY}: not checked).
     */
    private record Expect(VirtioVsockOp op, int monOp, int srcPort, int dstPort, String payload, int flags, int bufAlloc,
            int fwdCnt) {
    }

    /** Runs the sequence; returns the client's port. */
    private int exchange() throws ErrnoException {
        try (VsockSocket l = VsockSocket.open(m, SOCK_STREAM); VsockSocket c = VsockSocket.open(m, SOCK_STREAM)) {
            l.bind(VMADDR_CID_ANY, 5000);
            l.listen(1);
            c.bind(VMADDR_CID_ANY, 6000);
            c.connect(VMADDR_CID_LOCAL, 5000);
            try (VsockSocket a = l.accept()) {
                c.send(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)), 0);
                assertThat(a.recv(ByteBuffer.allocate(16), 0)).isEqualTo(5);
                a.setsockoptLong(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, 128 * 1024); // sends a credit update
                c.shutdown(SHUT_WR);
                m.quiesce();
            }
            m.quiesce();
        }
        try (VsockSocket r = VsockSocket.open(m, SOCK_STREAM)) {
            r.bind(VMADDR_CID_ANY, 6001);
            assertThatThrownBy(() -> r.connect(VMADDR_CID_LOCAL, 5001)).isInstanceOf(ErrnoException.class);
        }
        m.quiesce();
        return 6000;
    }

    private static final List<Expect> SEQUENCE = List.of(
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST, VsockMon.AF_VSOCK_OP_CONNECT, 6000, 5000, "", 0, BUF_ALLOC, 0),
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_RESPONSE, VsockMon.AF_VSOCK_OP_CONNECT, 5000, 6000, "", 0, BUF_ALLOC, 0),
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_RW, VsockMon.AF_VSOCK_OP_PAYLOAD, 6000, 5000, "hello", 0, BUF_ALLOC, 0),
            // The recv that empties the queue leaves rx_bytes below SO_RCVLOWAT: a credit update.
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE, VsockMon.AF_VSOCK_OP_CONTROL, 5000, 6000, "", 0, BUF_ALLOC, 5),
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_CREDIT_UPDATE, VsockMon.AF_VSOCK_OP_CONTROL, 5000, 6000, "", 0, 128 * 1024, 5),
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_SHUTDOWN, VsockMon.AF_VSOCK_OP_DISCONNECT, 6000, 5000, "",
                    VirtioVsock.VIRTIO_VSOCK_SHUTDOWN_SEND, BUF_ALLOC, 0));

    /**
     * The refused connect, the last two frames: the REQUEST of a fresh socket (virtio_transport_connect,
     * through virtio_transport_send_pkt_info, which stamps the socket's buf_alloc and fwd_cnt), and the
     * RST that virtio_transport_reset_no_sock answers with when no socket has port 5001: type copied from
     * the request, ports and CIDs swapped, no flags, and buf_alloc and fwd_cnt left at the 0 that
     * virtio_transport_init_hdr writes, since no socket's credit is stamped on it.
     */
    private static final List<Expect> REFUSED = List.of(
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_REQUEST, VsockMon.AF_VSOCK_OP_CONNECT, 6001, 5001, "", 0, BUF_ALLOC, 0),
            new Expect(VirtioVsockOp.VIRTIO_VSOCK_OP_RST, VsockMon.AF_VSOCK_OP_DISCONNECT, 5001, 6001, "", 0, 0, 0));

    /** The checks every frame of the sequence gets, field by field. */
    private static void checkFrame(byte[] f, Expect e) {
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(f.length).isEqualTo(VsockMon.HDR_SIZE + 44 + e.payload().length());
        assertThat(b.getLong(VsockMon.OFF_SRC_CID)).isEqualTo(1);
        assertThat(b.getLong(VsockMon.OFF_DST_CID)).isEqualTo(1);
        assertThat(b.getInt(VsockMon.OFF_SRC_PORT)).isEqualTo(e.srcPort());
        assertThat(b.getInt(VsockMon.OFF_DST_PORT)).isEqualTo(e.dstPort());
        assertThat(b.getShort(VsockMon.OFF_OP)).as("monitor op of %s", e.op()).isEqualTo((short) e.monOp());
        assertThat(b.getShort(VsockMon.OFF_TRANSPORT)).isEqualTo((short) VsockMon.AF_VSOCK_TRANSPORT_VIRTIO);
        assertThat(b.getShort(VsockMon.OFF_LEN)).isEqualTo((short) 44);
        assertThat(b.getShort(30)).as("reserved").isZero();
        int h = VsockMon.HDR_SIZE; // struct virtio_vsock_hdr follows, as the packet carried it
        assertThat(b.getLong(h)).isEqualTo(1);
        assertThat(b.getLong(h + 8)).isEqualTo(1);
        assertThat(b.getInt(h + 16)).isEqualTo(e.srcPort());
        assertThat(b.getInt(h + 20)).isEqualTo(e.dstPort());
        assertThat(b.getInt(h + 24)).as("len").isEqualTo(e.payload().length());
        assertThat(b.getShort(h + 28)).as("type").isEqualTo((short) 1);
        assertThat(b.getShort(h + 30)).as("op").isEqualTo((short) e.op().value());
        assertThat(b.getInt(h + 32)).as("flags").isEqualTo(e.flags());
        if (e.bufAlloc() != ANY) {
            assertThat(b.getInt(h + 36)).as("buf_alloc").isEqualTo(e.bufAlloc());
        }
        if (e.fwdCnt() != ANY) {
            assertThat(b.getInt(h + 40)).as("fwd_cnt").isEqualTo(e.fwdCnt());
        }
        assertThat(new String(f, h + 44, f.length - h - 44, StandardCharsets.US_ASCII)).isEqualTo(e.payload());
    }

    private static void checkSequence(List<byte[]> frames) {
        List<byte[]> rest = new ArrayList<>(frames);
        for (Expect e : SEQUENCE) {
            assertThat(rest).as("frames left for %s", e.op()).isNotEmpty();
            checkFrame(rest.remove(0), e);
        }
        assertThat(rest).as("frames left for the refused connect").hasSizeGreaterThanOrEqualTo(REFUSED.size());
        checkFrame(rest.get(rest.size() - 2), REFUSED.get(0));
        checkFrame(rest.get(rest.size() - 1), REFUSED.get(1));
    }

    @Test
    void aVsockmonDeviceSeesEveryPacketAsTheKernelBuildsItsFrame() throws Exception {
        Vsockmon dev = new Vsockmon(m.core());
        List<byte[]> frames = new ArrayList<>();
        dev.addListener((f, t) -> {
            synchronized (frames) {
                frames.add(f.clone());
            }
        });
        dev.open();
        exchange();
        dev.stop();
        synchronized (frames) {
            checkSequence(frames);
            assertThat(dev.packets()).isEqualTo(frames.size());
            assertThat(dev.bytes()).isEqualTo(frames.stream().mapToLong(f -> f.length).sum());
        }
        long before = dev.packets();
        exchange();
        assertThat(dev.packets()).as("a device that is down sees nothing").isEqualTo(before);
    }

    @Test
    void pcapRecordsAreTheFramesWithTheVsockLinkType() throws Exception {
        Path file = dir.resolve("vsock.pcap");
        try (VsockCapture cap = VsockCapture.start(m, file)) {
            exchange();
            m.quiesce();
            assertThat(cap.records()).isGreaterThanOrEqualTo(SEQUENCE.size() + REFUSED.size());
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(0xa1b23c4d);
        assertThat(b.getShort(4)).isEqualTo((short) 2);
        assertThat(b.getShort(6)).isEqualTo((short) 4);
        assertThat(b.getInt(20)).isEqualTo(271);
        List<byte[]> frames = new ArrayList<>();
        long lastTs = 0;
        for (int at = 24; at < b.limit(); ) {
            long ts = b.getInt(at) * 1_000_000_000L + b.getInt(at + 4);
            assertThat(b.getInt(at + 4)).isBetween(0, 999_999_999);
            assertThat(ts).isGreaterThanOrEqualTo(lastTs);
            lastTs = ts;
            int caplen = b.getInt(at + 8);
            assertThat(b.getInt(at + 12)).isEqualTo(caplen);
            frames.add(Arrays.copyOfRange(b.array(), at + 16, at + 16 + caplen));
            at += 16 + caplen;
        }
        checkSequence(frames);
    }

    @Test
    void pcapngHasASectionAnInterfaceWithNanosecondsAndAnEnhancedPacketPerFrame() throws Exception {
        Path file = dir.resolve("vsock.pcapng");
        try (VsockCapture cap = VsockCapture.start(m, file)) {
            exchange();
        }
        checkSequence(readPcapng(file));
    }

    @Test
    void hostAndGuestEachSeeTheFragmentsOfAPacketVhostSplitsOverRxBuffers() throws Exception {
        io.vsocksim.kernel.KernelContext hk = io.vsocksim.sim.Host.threadedKernel("host", 16L << 20);
        leaks.track(hk);
        try (io.vsocksim.sim.Host host = new io.vsocksim.sim.Host(hk, false)) {
            io.vsocksim.kernel.KernelContext gk = io.vsocksim.sim.Host.threadedKernel("guest3", 16L << 20);
            leaks.track(gk);
            io.vsocksim.sim.Guest guest = host.startGuest(3, gk, io.vsocksim.sim.Guest.Options.DEFAULTS);
            Vsockmon hostMon = new Vsockmon(host.core());
            Vsockmon guestMon = new Vsockmon(guest.core());
            List<byte[]> hostFrames = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<byte[]> guestFrames = new java.util.concurrent.CopyOnWriteArrayList<>();
            hostMon.addListener((f, t) -> hostFrames.add(f.clone()));
            guestMon.addListener((f, t) -> guestFrames.add(f.clone()));
            byte[] data = new byte[10_000];
            new java.util.Random(7).nextBytes(data);
            try (VsockSocket l = VsockSocket.open(guest, SOCK_STREAM); VsockSocket c = VsockSocket.open(host, SOCK_STREAM)) {
                l.bind(VMADDR_CID_ANY, 7000);
                l.listen(1);
                c.connect(3, 7000);
                try (VsockSocket a = l.accept()) {
                    hostMon.open();
                    guestMon.open();
                    assertThat(c.send(ByteBuffer.wrap(data), 0)).isEqualTo(data.length);
                    ByteBuffer got = ByteBuffer.allocate(data.length);
                    while (got.hasRemaining()) {
                        a.recv(got, 0);
                    }
                    host.quiesce();
                    guest.quiesce();
                    hostMon.stop();
                    guestMon.stop();
                }
            }
            List<byte[]> hostRw = rw(hostFrames);
            List<byte[]> guestRw = rw(guestFrames);
            assertThat(hostRw).as("vhost delivers each fragment it puts in an RX buffer").hasSizeGreaterThan(1);
            assertThat(guestRw).hasSameSizeAs(hostRw);
            java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < hostRw.size(); i++) {
                assertThat(guestRw.get(i)).as("fragment %d seen alike on both sides", i).isEqualTo(hostRw.get(i));
                ByteBuffer b = ByteBuffer.wrap(hostRw.get(i)).order(ByteOrder.LITTLE_ENDIAN);
                int len = b.getInt(VsockMon.HDR_SIZE + 24);
                assertThat(hostRw.get(i).length).isEqualTo(VsockMon.HDR_SIZE + 44 + len);
                assertThat(b.getLong(VsockMon.OFF_SRC_CID)).isEqualTo(2);
                assertThat(b.getLong(VsockMon.OFF_DST_CID)).isEqualTo(3);
                seen.write(hostRw.get(i), VsockMon.HDR_SIZE + 44, len);
            }
            assertThat(seen.toByteArray()).isEqualTo(data);
        }
    }

    /** The frames of a pcapng file this class's captures write, with its blocks checked on the way. */
    static List<byte[]> readPcapng(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(0x0A0D0D0A);
        assertThat(b.getInt(8)).isEqualTo(0x1A2B3C4D);
        int at = b.getInt(4);
        assertThat(b.getInt(at)).as("IDB").isEqualTo(1);
        assertThat(b.getShort(at + 8)).isEqualTo((short) 271);
        String name = new String(b.array(), at + 20, b.getShort(at + 18), StandardCharsets.UTF_8);
        assertThat(name).isEqualTo("vsockmon0");
        assertThat(b.getShort(at + 20 + 12)).as("if_tsresol option").isEqualTo((short) 9);
        assertThat(b.get(at + 20 + 16)).as("10^-9").isEqualTo((byte) 9);
        assertThat(b.getInt(at + b.getInt(at + 4) - 4)).as("trailing length").isEqualTo(b.getInt(at + 4));
        at += b.getInt(at + 4);
        List<byte[]> frames = new ArrayList<>();
        while (at < b.limit()) {
            int len = b.getInt(at + 4);
            assertThat(b.getInt(at)).as("EPB").isEqualTo(6);
            assertThat(len % 4).isZero();
            assertThat(b.getInt(at + len - 4)).isEqualTo(len);
            int caplen = b.getInt(at + 20);
            frames.add(Arrays.copyOfRange(b.array(), at + 28, at + 28 + caplen));
            at += len;
        }
        return frames;
    }

    /** The RW frames of a capture, in order. */
    private static List<byte[]> rw(List<byte[]> frames) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] f : frames) {
            if (ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getShort(VsockMon.OFF_OP) == VsockMon.AF_VSOCK_OP_PAYLOAD) {
                out.add(f);
            }
        }
        return out;
    }

    /** tshark's fields, in the order {@link #tsharkFields} prints them. */
    private static final List<String> TSHARK_FIELDS = List.of("vsock.src_cid", "vsock.dst_cid", "vsock.src_port",
            "vsock.dst_port", "vsock.op", "vsock.trans", "vsock.trans_len", "vsock.virtio.src_cid",
            "vsock.virtio.dst_cid", "vsock.virtio.src_prot", "vsock.virtio.dst_prot", "vsock.virtio.len",
            "vsock.virtio.type", "vsock.virtio.op", "vsock.virtio.flags", "vsock.virtio.buf_alloc",
            "vsock.virtio.fwd_cnt", "vsock.payload");

    /** What tshark should print for {@code frame} with {@link #TSHARK_FIELDS}, read from the frame's bytes. */
    private static String tsharkFields(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        int h = VsockMon.HDR_SIZE;
        int len = b.getInt(h + 24);
        return String.join("|", Long.toUnsignedString(b.getLong(VsockMon.OFF_SRC_CID)),
                Long.toUnsignedString(b.getLong(VsockMon.OFF_DST_CID)),
                Integer.toUnsignedString(b.getInt(VsockMon.OFF_SRC_PORT)), Integer.toUnsignedString(b.getInt(VsockMon.OFF_DST_PORT)),
                Integer.toString(b.getShort(VsockMon.OFF_OP)), Integer.toString(b.getShort(VsockMon.OFF_TRANSPORT)),
                Integer.toString(b.getShort(VsockMon.OFF_LEN)),
                Long.toUnsignedString(b.getLong(h)), Long.toUnsignedString(b.getLong(h + 8)),
                Integer.toUnsignedString(b.getInt(h + 16)), Integer.toUnsignedString(b.getInt(h + 20)),
                Integer.toUnsignedString(len), Integer.toString(b.getShort(h + 28)), Integer.toString(b.getShort(h + 30)),
                String.format("0x%08x", b.getInt(h + 32)), Integer.toUnsignedString(b.getInt(h + 36)),
                Integer.toUnsignedString(b.getInt(h + 40)), HexFormat.of().formatHex(frame, h + 44, h + 44 + len));
    }

    @Test
    void shouldHaveTsharkDecodeEveryPacketTheSimulatorSentDuringAShortVsockTestRun() throws Exception {
        String tshark = ExternalTool.require("tshark", "apt-get install tshark; the records are checked in Java by the other tests");
        Path file = dir.resolve("vsock_test.pcapng");
        // The witness: a second vsockmon device, up before the capture and down after it, records every
        // frame of the packet path on its own. Loopback delivers from one work item, so both see one order.
        List<byte[]> sent = new CopyOnWriteArrayList<>();
        Vsockmon witness = new Vsockmon(m.core());
        witness.addListener((f, t) -> sent.add(f.clone()));
        witness.open();
        try (VsockCapture cap = m.capture(file)) {
            VsockTestRunner.Side side = new VsockTestRunner.Side(m, VMADDR_CID_LOCAL);
            try (VsockTestRunner runner = new VsockTestRunner(side, side, 1234, Set.of(), Set.of(0, 2, 5, 14), 42)) {
                PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
                assertThat(runner.run(VsockTests.all(quiet), quiet, quiet).failed()).isZero();
            }
            m.quiesce();
        } finally {
            witness.stop();
        }
        assertThat(sent).hasSizeGreaterThan(20);
        List<byte[]> recorded = readPcapng(file);
        assertThat(recorded).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            assertThat(recorded.get(i)).as("record %d of the file", i).isEqualTo(sent.get(i));
        }

        List<String> cmd = new ArrayList<>(List.of(tshark, "-r", file.toString(), "-T", "fields", "-E", "separator=|"));
        for (String f : TSHARK_FIELDS) {
            cmd.add("-e");
            cmd.add(f);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(p.waitFor()).isZero();
        assertThat(lines).as("packets tshark decoded").hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            assertThat(lines.get(i)).as("packet %d: %s", i + 1, TSHARK_FIELDS).isEqualTo(tsharkFields(sent.get(i)));
        }
    }

    @Test
    void shouldCaptureThroughTheMachineUntilClosed() throws Exception {
        Path pcap = dir.resolve("machine.pcap");
        try (VsockCapture cap = m.capture(pcap)) {
            assertThat(m.core().taps().active()).as("the capture is a tap while it runs").isTrue();
            exchange();
            m.quiesce();
            assertThat(cap.records()).isGreaterThanOrEqualTo(SEQUENCE.size() + REFUSED.size());
        }
        assertThat(m.core().taps().active()).as("closing it stops it").isFalse();
        long size = Files.size(pcap);
        exchange();
        assertThat(Files.size(pcap)).as("nothing recorded after close").isEqualTo(size);
        assertThat(ByteBuffer.wrap(Files.readAllBytes(pcap)).order(ByteOrder.LITTLE_ENDIAN).getInt(0))
                .as("classic pcap, nanosecond magic").isEqualTo(0xa1b23c4d);

        Path pcapng = dir.resolve("machine.pcapng");
        try (VsockCapture cap = m.capture(pcapng)) {
            exchange();
        }
        checkSequence(readPcapng(pcapng));
    }

    @Test
    void aCaptureThatCannotBeOpenedFailsAtStartAndLeavesNoTap() {
        Path file = dir.resolve("missing-dir").resolve("x.pcap");
        assertThatThrownBy(() -> VsockCapture.start(m, file)).isInstanceOf(IOException.class);
        assertThat(m.core().taps().active()).isFalse();
    }
}
