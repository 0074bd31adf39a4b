package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.Fcntl;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** The factory: whose process the sockets belong to, and what closing it ends. */
class VsockNetTest extends NetTestBase {
    @Test
    void shouldMakeTheSocketsDescriptorsOfTheProcessItWasGiven() throws Exception {
        UserProcess p = worlds.localNet().process();
        VsockNet net = VsockNet.of(p);
        ServerSocket l = worlds.track(net.serverSocket(VsockAddress.ofLocalPort(5005), 4));
        Socket c = worlds.track(net.socket(VsockAddress.ofLocalPort(5005)));
        worlds.track(l.accept());
        assertThat(net.process()).isSameAs(p);
        for (int fd = 0; fd < 3; fd++) {
            assertThat(p.fcntl(fd, Fcntl.F_GETFD, 0)).as("descriptor %d: close-on-exec, as the JDK's", fd)
                    .isEqualTo(Fcntl.FD_CLOEXEC);
        }
        c.close();
        assertThat(p.fcntl(1, Fcntl.F_GETFD, 0)).as("the client's descriptor is closed").isEqualTo(-Errno.EBADF);
        net.close();
        assertThat(p.fcntl(0, Fcntl.F_GETFD, 0)).as("a borrowed process lives on").isEqualTo(Fcntl.FD_CLOEXEC);
    }

    @Test
    void shouldEndItsOwnProcessAndSoEverySocketWhenAMachinesFaceIsClosed() throws Exception {
        worlds.localNet(); // boots the machine
        VsockNet server = VsockNet.of(worlds.localNet().process().machine());
        ServerSocket l = server.serverSocket(5006);
        Socket c = worlds.track(worlds.localNet().socket(VsockAddress.ofLocalPort(5006)));
        Socket a = l.accept();
        server.close();
        assertThat(c.getInputStream().read()).as("the peer's end went with the process").isEqualTo(-1);
        assertThat(server.process().fcntl(0, Fcntl.F_GETFD, 0)).isEqualTo(-Errno.EBADF);
        a.close(); // the Socket object still closes quietly
    }

    @Test
    void shouldGiveNioChannelsOfTheSameProcessThatTalkToItsSockets() throws Exception {
        VsockNet net = worlds.localNet();
        ServerSocket l = worlds.track(net.serverSocket(5007));
        try (java.nio.channels.SocketChannel ch = net.selectorProvider().openSocketChannel()) {
            assertThat(ch.provider()).isInstanceOf(io.vsocksim.user.nio.VsockSelectorProvider.class);
            assertThat(((io.vsocksim.user.nio.VsockSelectorProvider) ch.provider()).process()).isSameAs(net.process());
            ch.connect(VsockAddress.ofLocalPort(5007));
            Socket a = worlds.track(l.accept());
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {4, 2}));
            assertThat(a.getInputStream().readNBytes(2)).containsExactly(4, 2);
        }
    }
}
