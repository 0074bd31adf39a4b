package io.vsocksim.testsuite;

import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;

import io.vsocksim.Linux;
import java.io.PrintStream;
import java.util.List;

/**
 * vsock_test's {@code test_cases[]} of Linux 6.12.117, in the kernel's order under the kernel's exact
 * names (IDs 0–25), followed by the two tests the zerocopy receive RFC adds (26, 27; reconstructed,
 * not upstream: see {@link ZerocopyRxTests}).
 */
@Linux(file = "tools/testing/vsock/vsock_test.c", fn = "test_cases")
public final class VsockTests {

    private VsockTests() {
    }

    /** The test table; {@code err} receives the tests' own stderr notes (test 24/25's skip message). */
    public static List<VsockTestCase> all(PrintStream err) {
        return List.of(
            VsockTestCase.of("SOCK_STREAM connection reset", StreamTests::connectionReset, null),
            VsockTestCase.of("SOCK_STREAM bind only", StreamTests::bindOnlyClient, StreamTests::bindOnlyServer),
            VsockTestCase.of("SOCK_STREAM client close",
                t -> StreamTests.sendByteAndClose(t, t.streamConnect()),
                t -> StreamTests.afterPeerClose(t, t.streamAccept())),
            VsockTestCase.of("SOCK_STREAM server close",
                t -> StreamTests.afterPeerClose(t, t.streamConnect()),
                t -> StreamTests.sendByteAndClose(t, t.streamAccept())),
            VsockTestCase.of("SOCK_STREAM multiple connections", StreamTests::multiconnClient, StreamTests::multiconnServer),
            VsockTestCase.of("SOCK_STREAM MSG_PEEK", t -> StreamTests.msgPeekClient(t, false), t -> StreamTests.msgPeekServer(t, false)),
            VsockTestCase.of("SOCK_SEQPACKET msg bounds", SeqpacketTests::msgBoundsClient, SeqpacketTests::msgBoundsServer),
            VsockTestCase.of("SOCK_SEQPACKET MSG_TRUNC flag", SeqpacketTests::msgTruncClient, SeqpacketTests::msgTruncServer),
            VsockTestCase.of("SOCK_SEQPACKET timeout", SeqpacketTests::timeoutClient,
                t -> StreamTests.acceptExpectClose(t, "WAITDONE", true)),
            VsockTestCase.of("SOCK_SEQPACKET invalid receive buffer", SeqpacketTests::invalidRecBufferClient,
                SeqpacketTests::invalidRecBufferServer),
            VsockTestCase.of("SOCK_STREAM poll() + SO_RCVLOWAT", StreamTests::pollRcvlowatClient, StreamTests::pollRcvlowatServer),
            VsockTestCase.of("SOCK_SEQPACKET big message", SeqpacketTests::bigmsgClient,
                t -> StreamTests.acceptExpectClose(t, "CLISENT", true)),
            VsockTestCase.of("SOCK_STREAM test invalid buffer", t -> StreamTests.invBufClient(t, true), t -> StreamTests.invBufServer(t, true)),
            VsockTestCase.of("SOCK_SEQPACKET test invalid buffer", t -> StreamTests.invBufClient(t, false),
                t -> StreamTests.invBufServer(t, false)),
            VsockTestCase.of("SOCK_STREAM virtio skb merge", StreamTests::skbMergeClient, StreamTests::skbMergeServer),
            VsockTestCase.of("SOCK_SEQPACKET MSG_PEEK", t -> StreamTests.msgPeekClient(t, true), t -> StreamTests.msgPeekServer(t, true)),
            VsockTestCase.of("SOCK_STREAM SHUT_WR", StreamTests::shutwrClient, StreamTests::shutwrServer),
            VsockTestCase.of("SOCK_STREAM SHUT_RD", StreamTests::shutrdClient, StreamTests::shutrdServer),
            VsockTestCase.of("SOCK_STREAM MSG_ZEROCOPY", t -> ZerocopyTests.client(t, false), t -> ZerocopyTests.server(t, false)),
            VsockTestCase.of("SOCK_SEQPACKET MSG_ZEROCOPY", t -> ZerocopyTests.client(t, true), t -> ZerocopyTests.server(t, true)),
            VsockTestCase.of("SOCK_STREAM MSG_ZEROCOPY empty MSG_ERRQUEUE", StreamTests::emptyErrqClient,
                t -> StreamTests.acceptExpectClose(t, "DONE", false)),
            VsockTestCase.of("SOCK_STREAM double bind connect", StreamTests::doubleBindConnectClient,
                StreamTests::doubleBindConnectServer),
            VsockTestCase.of("SOCK_STREAM virtio credit update + SO_RCVLOWAT", CreditTests::rcvlowatDefCredUpdClient,
                t -> CreditTests.creditUpdateServer(t, false)),
            VsockTestCase.of("SOCK_STREAM virtio credit update + low rx_bytes", CreditTests::rcvlowatDefCredUpdClient,
                t -> CreditTests.creditUpdateServer(t, true)),
            VsockTestCase.of("SOCK_STREAM ioctl(SIOCOUTQ) 0 unsent bytes",
                t -> CreditTests.unsentBytesClient(t, SOCK_STREAM, err), t -> CreditTests.unsentBytesServer(t, SOCK_STREAM)),
            VsockTestCase.of("SOCK_SEQPACKET ioctl(SIOCOUTQ) 0 unsent bytes",
                t -> CreditTests.unsentBytesClient(t, SOCK_SEQPACKET, err), t -> CreditTests.unsentBytesServer(t, SOCK_SEQPACKET)),
            VsockTestCase.of("SOCK_STREAM zerocopy receive invalid cases", ZerocopyRxTests::invalidClient,
                ZerocopyRxTests::invalidServer),
            VsockTestCase.of("SOCK_STREAM zerocopy receive", ZerocopyRxTests::transferClient, ZerocopyRxTests::transferServer));
    }


    /** Number of tests Linux 6.12.117's vsock_test has (IDs 0..25). */
    public static final int KERNEL_TESTS = 26;
}
