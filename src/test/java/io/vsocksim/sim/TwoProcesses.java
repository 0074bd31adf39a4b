package io.vsocksim.sim;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_LOCAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.user.UserProcess;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A loopback test machine with a server and a client process, and threads for the calls that block;
 * {@link #close()} (from {@code @AfterEach}) stops the threads and ends both processes.
 */
final class TwoProcesses implements AutoCloseable {
    final Machine m;
    final UserProcess server;
    final UserProcess client;
    final ExecutorService pool = Executors.newCachedThreadPool();

    TwoProcesses(String name, LeakCheck leaks) {
        m = TestMachine.threaded(name, leaks);
        server = UserProcess.spawn(m, "server");
        client = UserProcess.spawn(m, "client");
    }

    /**
     * A stream connection by descriptor to {@code port}: {accepted, client}, or with
     * {@code keepListener} {listener, accepted, client}.
     */
    int[] connect(int port, boolean keepListener) {
        int l = server.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(server.bind(l, VMADDR_CID_ANY, port)).isZero();
        assertThat(server.listen(l, 4)).isZero();
        int c = client.socket(AF_VSOCK, SOCK_STREAM, 0);
        assertThat(client.connect(c, VMADDR_CID_LOCAL, port)).isZero();
        int a = server.accept4(l, 0);
        assertThat(a).isNotNegative();
        if (keepListener) {
            return new int[] {l, a, c};
        }
        assertThat(server.close(l)).isZero();
        return new int[] {a, c};
    }

    @Override
    public void close() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        server.close();
        client.close();
    }
}
