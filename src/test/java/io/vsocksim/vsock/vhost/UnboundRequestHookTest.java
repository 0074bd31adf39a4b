package io.vsocksim.vsock.vhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.sim.Guest;
import io.vsocksim.sim.GuestHostTestContext;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIM hook (not in the kernel): a REQUEST from a guest to a host port nobody is bound to goes to the
 * listener its VMM's {@link UnboundRequestHook} names, and keeps its destination as the child's address;
 * without a hook, or when the hook refuses, Linux's RST.
 */
class UnboundRequestHookTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    GuestHostTestContext t;
    Guest guest;

    @BeforeEach
    void setUp() throws ErrnoException {
        t = new GuestHostTestContext(leaks);
        guest = t.guest(3);
    }

    @AfterEach
    void tearDown() {
        t.close();
    }

    @Test
    @Timeout(30)
    void shouldHandTheRequestToTheNamedListenerWhenTheHookAccepts() throws ErrnoException {
        VsockSocket l = t.track(VsockSocket.open(t.host, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_HOST, 7000);
        l.listen(4);
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        SimInternals.vhost(guest).setUnboundRequestHook((type, guestPort, hostPort) -> {
            asked.add(type + ":" + hostPort + "<-" + guestPort);
            return 7000;
        });
        VsockSocket c = t.track(VsockSocket.open(guest, Sock.SOCK_STREAM));
        c.bind(VmSockets.VMADDR_CID_ANY, 4444);
        c.connect(VmSockets.VMADDR_CID_HOST, 5000);
        VsockSocket a = t.track(l.accept());

        assertThat(asked).containsExactly(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value() + ":5000<-4444");
        assertThat(c.getpeername()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, 5000));
        assertThat(a.getsockname()).isEqualTo(new SockaddrVm(VmSockets.VMADDR_CID_HOST, 5000));
        assertThat(a.getpeername()).isEqualTo(new SockaddrVm(3, 4444));
    }

    @Test
    @Timeout(30)
    void shouldResetTheConnectWhenTheHookRefuses() throws ErrnoException {
        SimInternals.vhost(guest).setUnboundRequestHook((type, guestPort, hostPort) -> VmSockets.VMADDR_PORT_ANY);
        assertConnectToPort5000IsReset();
    }

    private void assertConnectToPort5000IsReset() throws ErrnoException {
        VsockSocket c = t.track(VsockSocket.open(guest, Sock.SOCK_STREAM));
        assertThatThrownBy(() -> c.connect(VmSockets.VMADDR_CID_HOST, 5000))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ECONNRESET));
    }

    @Test
    @Timeout(30)
    void shouldResetTheConnectWhenTheNamedPortHoldsNoListener() throws ErrnoException {
        SimInternals.vhost(guest).setUnboundRequestHook((type, guestPort, hostPort) -> 7001);
        assertConnectToPort5000IsReset();
    }

    @Test
    @Timeout(30)
    void shouldNotAskTheHookWhenASocketIsBoundAtTheDestination() throws ErrnoException {
        List<Integer> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        SimInternals.vhost(guest).setUnboundRequestHook((type, guestPort, hostPort) -> {
            asked.add(hostPort);
            return VmSockets.VMADDR_PORT_ANY;
        });
        VsockSocket l = t.track(VsockSocket.open(t.host, Sock.SOCK_STREAM));
        l.bind(VmSockets.VMADDR_CID_ANY, 5000);
        l.listen(4);
        VsockSocket c = t.track(VsockSocket.open(guest, Sock.SOCK_STREAM));
        c.connect(VmSockets.VMADDR_CID_HOST, 5000);
        t.track(l.accept());
        assertThat(asked).isEmpty();
    }
}
