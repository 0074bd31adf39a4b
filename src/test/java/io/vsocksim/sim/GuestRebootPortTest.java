package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A guest rebooted with its CID against the host sockets of its previous life. The host keeps an
 * accepted socket after the guest went away (reset by {@code vhost_vsock_reset_orphans}, still in the
 * connected table until its owner closes it); the kernel draws its first ephemeral port at random per
 * boot ({@code __vsock_bind_connectible}), so the new boot's connection does not meet it. An explicit
 * seed ({@link Guest.Options#withPortSeed}) makes the ports reproducible instead.
 */
@Timeout(60)
class GuestRebootPortTest {
    static final int PORT = 1234;
    /** First ephemeral port of seed 42: {@code 1024 + 42 mod (U32_MAX - 1023)}. */
    static final int SEED_42_FIRST_PORT = 1066;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);
    VsockSocket listener;

    @BeforeEach
    void setUp() throws Exception {
        listener = c.track(VsockSocket.open(c.host, Sock.SOCK_STREAM));
        listener.bind(VmSockets.VMADDR_CID_ANY, PORT);
        listener.listen(16);
    }

    @AfterEach
    void tearDown() {
        c.close();
    }

    /** Connects {@code g} to the host listener; returns {client, accepted}. */
    VsockSocket[] connect(Guest g) throws Exception {
        VsockSocket cl = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
        cl.connect(2, PORT);
        return new VsockSocket[] {cl, c.track(listener.accept())};
    }

    /** Boots guest 3, connects, and shuts the guest down with the host's socket left open. */
    VsockSocket[] firstLife(Guest.Options options) throws Exception {
        Guest g = c.guest(3, options);
        VsockSocket[] p = connect(g);
        c.drain();
        g.close();
        assertThat(UserInternals.sock(p[1]).skErr).isEqualTo(Errno.ECONNRESET);
        return p;
    }

    @Test
    void shouldConnectWhenAGuestRebootedWithTheSameCidConnectsAgain() throws Exception {
        VsockSocket[] old = firstLife(Guest.Options.DEFAULTS);

        Guest again = c.guest(3);
        VsockSocket[] p = connect(again);

        assertThat(p[0].getsockname().port()).isNotEqualTo(old[0].getsockname().port());
        assertThat(p[0].send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0)).isEqualTo(3);
        ByteBuffer in = ByteBuffer.allocate(8);
        assertThat(p[1].recv(in, 0)).isEqualTo(3);
        assertThat(in.flip()).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    }

    @Test
    void shouldHandOutTheSameEphemeralPortsOnEveryBootWhenTheSeedIsExplicit() throws Exception {
        for (int boot = 0; boot < 2; boot++) {
            Guest g = c.guest(3, Guest.Options.DEFAULTS.withPortSeed(42));
            for (int i = 0; i < 2; i++) {
                VsockSocket s = c.track(VsockSocket.open(g, Sock.SOCK_STREAM));
                s.bind(VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY);
                assertThat(s.getsockname().port()).isEqualTo(SEED_42_FIRST_PORT + i);
                s.close();
            }
            g.close();
        }
    }

    /** Why the seed is drawn per boot: a port reused across boots meets the old host socket. */
    @Test
    void shouldMeetTheOldHostSocketWhenARebootedGuestReusesItsPort() throws Exception {
        VsockSocket[] old = firstLife(Guest.Options.DEFAULTS.withPortSeed(42));
        assertThat(old[0].getsockname().port()).isEqualTo(SEED_42_FIRST_PORT);

        Guest again = c.guest(3, Guest.Options.DEFAULTS.withPortSeed(42));
        VsockSocket cl = c.track(VsockSocket.open(again, Sock.SOCK_STREAM));

        assertThatThrownBy(() -> cl.connect(2, PORT)).isInstanceOf(ErrnoException.class)
                .extracting(e -> ((ErrnoException) e).errno()).isEqualTo(Errno.ECONNRESET);
        assertThat(cl.getsockname().port()).isEqualTo(SEED_42_FIRST_PORT);
    }
}
