package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.mm.Footprint;
import io.vsocksim.testing.Settle;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.vhost.Iov;
import io.vsocksim.vhost.VhostVirtqueue;
import java.nio.ByteBuffer;

/**
 * Fuzz target: the guest driver's RX path (virtio_transport.c: virtio_transport_rx_work) under a host
 * it does not trust, the confidential-computing threat model. The host takes the guest's posted RX
 * buffers as the device would, but fills them with anything — a header whose length lies, any op,
 * type, addresses and credit fields, any payload — and reports any used length. The guest must drop
 * what it must drop (a used length outside the buffer, a header longer than what was written), count
 * it, and go on: nothing throws, a bystander connection keeps its bytes both ways, no WARN fires, and
 * once everything settled the guest's pages are back.
 *
 * <p>One host and guest on manual work queues serve every input. The corpus in
 * {@code src/test/resources/io/vsocksim/sim/GuestRxFuzzTestInputs} runs in every build;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/reliability.md).
 */
class GuestRxFuzzTest {
    private static Host host;
    private static Guest guest;
    private static VsockSocket hostEnd;
    private static VsockSocket guestEnd;
    private static Footprint baseGuestPages;

    private static void boot() throws ErrnoException {
        if (host != null) {
            return;
        }
        host = new Host(KernelContext.deterministic("host", 32L << 20), true, 11);
        guest = host.startGuest(3, KernelContext.deterministic("guest3", 16L << 20), Guest.Options.DEFAULTS.withPortSeed(13));
        settle();
        VsockSocket l = VsockSocket.open(host, SOCK_STREAM);
        l.bind(VMADDR_CID_ANY, 1234);
        l.listen(1);
        guestEnd = VsockSocket.open(guest, SOCK_STREAM);
        guestEnd.setNonBlocking(true);
        try {
            guestEnd.connect(VMADDR_CID_HOST, 1234);
        } catch (ErrnoException e) {
            assertThat(e.errno()).isEqualTo(io.vsocksim.uapi.Errno.EINPROGRESS);
        }
        settle();
        l.setNonBlocking(true);
        hostEnd = l.accept();
        l.close();
        settle();
        baseGuestPages = guestPages();
    }

    @FuzzTest(maxDuration = "2m")
    void aHostileHostsRxBuffersAreDroppedOrDeliveredNeverTrusted(FuzzedDataProvider in) throws Exception {
        boot();
        VhostVirtqueue rx = guest.vhost().vq(0);
        rx.disableNotify();
        Iov iov = new Iov();
        int buffers = in.consumeInt(1, 4);
        for (int b = 0; b < buffers; b++) {
            int head = rx.getVqDesc(iov);
            if (head < 0 || head == rx.num()) {
                break; // no RX buffer posted (or the ring is unusable): nothing to fill
            }
            byte[] bytes = in.consumeBytes(in.consumeInt(0, 4200));
            iov.copyToIn(guest.kernel().memory(), 0, ByteBuffer.wrap(bytes));
            int usedLen = in.consumeBoolean() ? bytes.length : in.consumeInt();
            rx.addUsed(head, usedLen);
        }
        rx.signal();
        settle();
        assertThat(guest.kernel().warnings().fired()).as("WARN_ONCE on the guest").isEmpty();
        checkBystander();
        settle();
        assertThat(guestPages()).as("the guest's pages once everything settled").isEqualTo(baseGuestPages);
    }

    /** The bystander carries bytes both ways, exactly. */
    private static void checkBystander() throws ErrnoException {
        byte[] ping = {4, 2, 4, 2};
        assertThat(guestEnd.send(ByteBuffer.wrap(ping), Sock.MSG_DONTWAIT)).isEqualTo(4);
        settle();
        ByteBuffer got = ByteBuffer.allocate(16);
        assertThat(hostEnd.recv(got, Sock.MSG_DONTWAIT)).isEqualTo(4);
        assertThat(got.array()).startsWith(ping);
        assertThat(hostEnd.send(ByteBuffer.wrap(ping), Sock.MSG_DONTWAIT)).isEqualTo(4);
        settle();
        got.clear();
        assertThat(guestEnd.recv(got, Sock.MSG_DONTWAIT)).isEqualTo(4);
    }

    /** Runs both machines' work until idle and lets timeouts run out, three times over. */
    private static void settle() {
        for (int round = 0; round < 3; round++) {
            Settle.closeTimeouts(host, guest);
        }
    }

    private static Footprint guestPages() {
        return guest.footprint();
    }
}
