package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOCK_NONBLOCK;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.Footprint;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.testing.Settle;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.nio.ByteBuffer;

/**
 * Fuzz target: what vhost makes of a hostile guest's TX packets (drivers/vhost/vsock.c:
 * vhost_vsock_handle_tx_kick, vhost_vsock_alloc_skb, then the host's virtio_transport_recv_pkt).
 * Guest 3 puts hand-made chains on its TX ring: every header field (addresses, ports, type, op,
 * length, flags, credit) chosen by the fuzzer or left plausible so packets get far, split over one to
 * four descriptors at any boundary, some pointing anywhere in its memory, some with a writable
 * descriptor vhost must refuse. Invariants after every input: nothing throws; no WARN on any machine; a
 * bystander connection between guest 4 and the host keeps its bytes both ways (a guest cannot reach
 * another's connections: vhost drops a source CID that is not the sender's); every socket the input
 * made on the host is gone and the host's pages are back. vhost never returns a chain it could not
 * read (vhost_vsock_handle_tx_kick skips it), as in Linux, so guest 3's ring fills with them: once
 * it is nearly full or broken, its device is replugged, which frees what the ring still holds, and
 * then every page of guest 3 must be back too.
 *
 * <p>One host and two guests on manual work queues serve every input. The corpus in
 * {@code src/test/resources/io/vsocksim/sim/VhostTxFuzzTestInputs} runs in every build;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/reliability.md).
 */
class VhostTxFuzzTest {
    private static final int LISTEN_PORT = 1234;
    /** Free TX descriptors under which guest 3's device is replugged: more than one input can take. */
    private static final int REPLUG_BELOW = 16;
    /** Payload bytes a hand-made packet's buffer holds at most: one page with the header. */
    private static final int MAX_PAYLOAD = 4096 - VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM;

    private static Host host;
    private static Guest hostile;
    private static Guest bystander;
    private static VsockSocket listener;
    private static VsockSocket hostEnd;
    private static VsockSocket guestEnd;
    private static int baseHostSockets;
    private static Footprint baseHostPages;
    private static Footprint baseHostilePages;

    private static void boot() throws ErrnoException {
        if (host != null) {
            return;
        }
        host = new Host(KernelContext.deterministic("host", 32L << 20), true, 17);
        hostile = host.startGuest(3, KernelContext.deterministic("guest3", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(19));
        bystander = host.startGuest(4, KernelContext.deterministic("guest4", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(23));
        settle();
        listener = VsockSocket.open(host, SOCK_STREAM | SOCK_NONBLOCK);
        listener.bind(VMADDR_CID_ANY, LISTEN_PORT);
        listener.listen(64);
        guestEnd = VsockSocket.open(bystander, SOCK_STREAM | SOCK_NONBLOCK);
        try {
            guestEnd.connect(VMADDR_CID_HOST, LISTEN_PORT);
        } catch (ErrnoException e) {
            assertThat(e.errno()).isEqualTo(io.vsocksim.uapi.Errno.EINPROGRESS);
        }
        settle();
        hostEnd = listener.accept();
        settle();
        baseHostSockets = host.liveSockets();
        baseHostPages = pages(host);
        baseHostilePages = pages(hostile);
    }

    @FuzzTest(maxDuration = "2m")
    void aHostileGuestsTxPacketsNeverReachAnotherGuestOrLeak(FuzzedDataProvider in) throws Exception {
        boot();
        SkbPool pool = SkbPool.of(hostile.core());
        int chains = in.consumeInt(1, 3);
        for (int c = 0; c < chains; c++) {
            int payload = in.consumeInt(0, MAX_PAYLOAD);
            VsockSkb token = pool.allocLinear(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + payload);
            if (token == null) {
                break;
            }
            token.hdr().srcCid(in.consumeBoolean() ? 3 : in.consumeLong())
                    .dstCid(in.consumeBoolean() ? VMADDR_CID_HOST : in.consumeLong())
                    .srcPort(in.consumeBoolean() ? 5000 + in.consumeInt(0, 3) : in.consumeInt())
                    .dstPort(in.consumeBoolean() ? LISTEN_PORT : in.consumeInt())
                    .len(in.consumeBoolean() ? payload : in.consumeInt())
                    .type(in.consumeBoolean() ? 1 : in.consumeInt(0, 0xFFFF))
                    .op(in.consumeInt(0, in.consumeBoolean() ? 8 : 0xFFFF))
                    .flags(in.consumeInt()).bufAlloc(in.consumeInt()).fwdCnt(in.consumeInt());
            int total = VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + payload;
            int outNum = in.consumeInt(1, 4);
            long[] out = new long[outNum];
            int[] outLen = new int[outNum];
            int at = 0;
            for (int d = 0; d < outNum; d++) {
                int len = d == outNum - 1 ? total - at : in.consumeInt(0, total - at);
                out[d] = in.consumeBoolean() ? token.headGpa() + at : in.consumeLong();
                outLen[d] = in.consumeBoolean() ? len : in.consumeInt();
                at += len;
            }
            boolean writable = in.consumeInt(0, 7) == 0;
            long[] inG = writable ? new long[] {token.headGpa()} : null;
            int[] inL = writable ? new int[] {in.consumeInt(0, 4096)} : null;
            if (hostile.driver().addRawTxChain(out, outLen, outNum, inG, inL, writable ? 1 : 0, token) != 0) {
                token.kfreeSkb(); // refused by the driver's own ring code: still ours
            }
        }
        run();
        for (Machine m : new Machine[] {host, hostile, bystander}) {
            assertThat(m.kernel().warnings().fired()).as("WARN_ONCE on " + m.kernel().name()).isEmpty();
        }
        checkBystander();
        cleanUp();
        assertThat(host.liveSockets()).as("host sockets once the input's are gone").isEqualTo(baseHostSockets);
        assertThat(pages(host)).as("host pages").isEqualTo(baseHostPages);
    }

    /** Guest 4 and the host still carry bytes both ways, exactly. */
    private static void checkBystander() throws ErrnoException {
        byte[] ping = {4, 2, 4, 2};
        assertThat(guestEnd.send(ByteBuffer.wrap(ping), Sock.MSG_DONTWAIT)).isEqualTo(4);
        run();
        ByteBuffer got = ByteBuffer.allocate(16);
        assertThat(hostEnd.recv(got, Sock.MSG_DONTWAIT)).isEqualTo(4);
        assertThat(got.array()).startsWith(ping);
        assertThat(hostEnd.send(ByteBuffer.wrap(ping), Sock.MSG_DONTWAIT)).isEqualTo(4);
        run();
        got.clear();
        assertThat(guestEnd.recv(got, Sock.MSG_DONTWAIT)).isEqualTo(4);
    }

    /**
     * Closes what the input's packets made on the host (children of the listener), replugs guest 3's
     * device if its ring is broken or nearly full of chains vhost never returned (and then checks its
     * pages), lets every timeout run out.
     */
    private static void cleanUp() throws ErrnoException {
        boolean made = false;
        for (;;) {
            VsockSocket child;
            try {
                child = listener.accept();
            } catch (ErrnoException e) {
                break; // EAGAIN: the queue is empty
            }
            child.close();
            made = true;
        }
        io.vsocksim.virtio.VirtqueueSplit tx = hostile.driver().vq(io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX);
        boolean replug = tx.isBroken() || tx.numFree() < REPLUG_BELOW;
        if (replug) {
            assertThat(hostile.replugDevice()).isZero(); // frees what vhost never gave back
            made = true;
        }
        for (int round = 0; round < 3 && (made || host.liveSockets() != baseHostSockets); round++) {
            settle();
            made = false;
        }
        if (replug) {
            assertThat(pages(hostile)).as("guest 3's pages after the replug").isEqualTo(baseHostilePages);
        }
    }

    /** Runs every machine's work until all are idle. */
    private static void run() {
        Settle.drain(host, hostile, bystander);
    }

    /** Runs every machine's work until idle and lets close timeouts run out ({@link Settle#closeTimeouts}). */
    private static void settle() {
        Settle.closeTimeouts(host, hostile, bystander);
    }

    private static Footprint pages(Machine m) {
        return m.footprint();
    }
}
