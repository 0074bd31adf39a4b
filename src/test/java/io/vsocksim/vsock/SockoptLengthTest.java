package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.Sock.SOL_SOCKET;
import static io.vsocksim.uapi.Sock.SO_LINGER;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO_NEW;
import static io.vsocksim.uapi.Sock.SO_RCVTIMEO_OLD;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO_NEW;
import static io.vsocksim.uapi.Sock.SO_SNDTIMEO_OLD;
import static io.vsocksim.uapi.Sock.SO_TYPE;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_BUFFER_SIZE;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD;
import static io.vsocksim.vsock.LoopbackTestContext.assertErrno;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.user.VsockSocket;
import io.vsocksim.testing.LeakCheck;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * getsockopt with an optlen shorter or longer than the value. SOL_SOCKET options follow
 * net/core/sock.c:sk_getsockopt: the value is cut to {@code min(optlen, lv)} bytes and optlen becomes
 * that length, for the structs (struct linger, the 16-byte timevals) as for ints. The AF_VSOCK level
 * (af_vsock.c:vsock_connectible_getsockopt) is the one that refuses a short optlen with EINVAL.
 */
class SockoptLengthTest {
    private static final byte FILL = 0x5a;

    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    private LoopbackTestContext ctx;
    private VsockSocket s;

    @BeforeEach
    void setUp() throws Exception {
        ctx = LoopbackTestContext.threaded("m", leaks);
        s = ctx.sock(SOCK_STREAM);
        LoopbackTestContext.setLinger(s, true, 7);
        s.setsockoptTimeval(SOL_SOCKET, SO_RCVTIMEO_OLD, 1, 500_000);
        s.setsockoptTimeval(SOL_SOCKET, SO_SNDTIMEO_OLD, 3, 248_000);
    }

    @AfterEach
    void tearDown() {
        ctx.close();
    }

    /** getsockopt into a 32-byte buffer pre-filled with {@link #FILL}: the bytes after it, and optlen. */
    private byte[] get(int level, int name, int optlen, int[] lenOut) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        Arrays.fill(b.array(), FILL);
        lenOut[0] = s.getsockopt(level, name, b, optlen);
        return b.array();
    }

    /** The little-endian encoding of {@code {a, b}} as two {@code width}-byte fields, then FILL up to 32. */
    private static byte[] expected(long a, long b, int width, int copied) {
        ByteBuffer e = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        Arrays.fill(e.array(), FILL);
        ByteBuffer v = ByteBuffer.allocate(2 * width).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) {
            v.putInt((int) a).putInt((int) b);
        } else {
            v.putLong(a).putLong(b);
        }
        e.put(0, v.array(), 0, copied);
        return e.array();
    }

    @ParameterizedTest(name = "optlen={0}")
    @ValueSource(ints = {0, 1, 4, 7, 8, 16})
    @DisplayName("getsockopt(SO_LINGER) with optlen < 8 copies optlen bytes of struct linger; optlen ≥ 8 copies 8")
    void shouldTruncateLingerWhenOptlenShort(int optlen) throws Exception {
        int[] len = new int[1];
        byte[] got = get(SOL_SOCKET, SO_LINGER, optlen, len);
        int copied = Math.min(optlen, 8);
        assertThat(len[0]).isEqualTo(copied);
        assertThat(got).isEqualTo(expected(1, 7, 4, copied));
    }

    @ParameterizedTest(name = "optlen={0}")
    @ValueSource(ints = {0, 4, 8, 15, 16, 32})
    @DisplayName("getsockopt(SO_RCVTIMEO/SO_SNDTIMEO, OLD and NEW) with a short optlen copies that much of the timeval")
    void shouldTruncateTimevalWhenOptlenShort(int optlen) throws Exception {
        int[][] options = {{SO_RCVTIMEO_OLD, 1, 500_000}, {SO_RCVTIMEO_NEW, 1, 500_000},
            {SO_SNDTIMEO_OLD, 3, 248_000}, {SO_SNDTIMEO_NEW, 3, 248_000}};
        for (int[] o : options) {
            int[] len = new int[1];
            byte[] got = get(SOL_SOCKET, o[0], optlen, len);
            int copied = Math.min(optlen, 16);
            assertThat(len[0]).as("optlen of option %d", o[0]).isEqualTo(copied);
            assertThat(got).as("bytes of option %d", o[0]).isEqualTo(expected(o[1], o[2], 8, copied));
        }
    }

    @Test
    @DisplayName("getsockopt(SO_TYPE) with optlen 2 copies two bytes; a negative optlen → EINVAL")
    void shouldTruncateIntAndRefuseNegativeOptlen() throws Exception {
        int[] len = new int[1];
        byte[] got = get(SOL_SOCKET, SO_TYPE, 2, len);
        assertThat(len[0]).isEqualTo(2);
        assertThat(got).isEqualTo(expected(SOCK_STREAM, 0, 4, 2));
        assertErrno(() -> s.getsockopt(SOL_SOCKET, SO_LINGER, ByteBuffer.allocate(8), -1), EINVAL);
        assertErrno(() -> s.getsockopt(SOL_SOCKET, SO_RCVTIMEO_NEW, ByteBuffer.allocate(16), -1), EINVAL);
    }

    @Test
    @DisplayName("getsockopt at level AF_VSOCK with optlen below the value → EINVAL, buffer untouched")
    void shouldRefuseShortOptlenAtVsockLevel() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16);
        Arrays.fill(b.array(), FILL);
        assertErrno(() -> s.getsockopt(AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, b, 15), EINVAL);
        assertErrno(() -> s.getsockopt(AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, b, 7), EINVAL);
        assertThat(b.array()).containsOnly(FILL);
    }
}
