package io.vsocksim.vsock.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsocksim.kernel.Clock;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.VsockSock;
import java.nio.ByteBuffer;

/**
 * Fuzz target: the receive path of the common transport (virtio_transport_recv_pkt and its state
 * handlers) fed packets a hostile peer builds: any type, op, flags, credit fields, addresses and
 * payload length, to a listener, to nobody, to half-open children. Whatever arrives, a bystander
 * connection between two other ports keeps working and keeps its bytes, nothing throws, no WARN fires,
 * and once the fuzzed sockets are closed and their timeouts ran, no socket and no packet buffer is left.
 *
 * <p>One deterministic loopback machine serves every input (building one per input would dominate the
 * run); the checks run after each input. The corpus in
 * {@code src/test/resources/io/vsocksim/vsock/virtio/RecvPktFuzzTestInputs} runs in every build;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/reliability.md).
 */
class RecvPktFuzzTest {
    private static final int BYSTANDER_PORT = 1234;
    private static final int LISTEN_PORT = 2000;
    private static VsockTestContext ctx;
    private static VsockSock bystanderClient;
    private static VsockSock bystanderServer;
    private static VsockSock listener;
    private static int baseSockets;

    private static void boot() {
        if (ctx != null) {
            return;
        }
        ctx = new VsockTestContext(new LeakCheck());
        VsockSock l = ctx.listen(Sock.SOCK_STREAM, BYSTANDER_PORT, 1);
        bystanderClient = ctx.connect(Sock.SOCK_STREAM, 1, BYSTANDER_PORT);
        ctx.run();
        bystanderServer = ctx.accept(l);
        ctx.release(l);
        ctx.run();
        listener = ctx.listen(Sock.SOCK_STREAM, LISTEN_PORT, 4);
        baseSockets = ctx.core.liveSockets();
    }

    @FuzzTest(maxDuration = "2m")
    void hostilePacketsNeverDisturbABystanderOrLeak(FuzzedDataProvider in) {
        boot();
        int clientPort = bystanderClient.localAddr.port();
        int packets = in.consumeInt(1, 4);
        for (int p = 0; p < packets; p++) {
            int len = in.consumeInt(0, 9000);
            VsockSkb skb = ctx.lo.pool().alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + len);
            int srcPort = in.consumeBoolean() ? in.consumeInt(3000, 3003) : in.consumeInt();
            int dstPort = in.consumeBoolean() ? LISTEN_PORT : in.consumeInt();
            if ((srcPort == BYSTANDER_PORT && dstPort == clientPort) || (srcPort == clientPort && dstPort == BYSTANDER_PORT)) {
                dstPort = LISTEN_PORT; // the bystander's own peer may reset it; everyone else may not
            }
            int type = in.consumeBoolean() ? in.consumeInt(1, 2) : in.consumeInt(0, 0xFFFF);
            VirtioTransportSend.initHdr(skb, type, in.consumeInt(0, 9), 0, len,
                    in.consumeBoolean() ? 1 : in.consumeInt(), srcPort, in.consumeBoolean() ? 1 : in.consumeInt(), dstPort);
            skb.hdr().flags(in.consumeInt()).bufAlloc(in.consumeInt()).fwdCnt(in.consumeInt());
            byte[] payload = new byte[len];
            assertThat(skb.fillFromIter(new MsgHdr().init(ByteBuffer.wrap(payload), 0), len)).isZero();
            VirtioTransportRecv.recvPkt(ctx.lo, skb);
            ctx.run();
        }
        closeFuzzedSockets();
        assertThat(ctx.k.warnings().fired()).as("WARN_ONCE").isEmpty();
        assertThat(ctx.core.liveSockets()).as("sockets after the fuzzed ones closed").isEqualTo(baseSockets);
        checkBystander(clientPort);
        assertThat(SkbPool.of(ctx.core).inUse()).as("packet buffers in use").isZero();
    }

    /** Accepts and closes every child a fuzzed REQUEST created, then lets the close timeouts run out. */
    private static void closeFuzzedSockets() {
        for (VsockSock c; (c = ctx.accept(listener)) != null; ) {
            ctx.release(c);
        }
        ctx.run();
        ctx.clock.advanceJiffies(9 * Clock.HZ);
        ctx.run();
    }

    /** The bystander still carries bytes both ways, exactly, and is still established. */
    private static void checkBystander(int clientPort) {
        assertThat(bystanderClient.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(bystanderServer.skState).isEqualTo(TcpState.TCP_ESTABLISHED);
        assertThat(bystanderClient.localAddr.port()).isEqualTo(clientPort);
        byte[] ping = {1, 2, 3, 4, 5};
        assertThat(ctx.send(bystanderClient, ping, 0)).isEqualTo(5);
        ctx.run();
        assertThat(ctx.recv(bystanderServer, 16, 0)).containsExactly(ping);
        assertThat(ctx.send(bystanderServer, ping, 0)).isEqualTo(5);
        ctx.run();
        assertThat(ctx.recv(bystanderClient, 16, 0)).containsExactly(ping);
        ctx.run();
    }
}
