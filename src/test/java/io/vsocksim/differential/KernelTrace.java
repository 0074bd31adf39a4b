package io.vsocksim.differential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Poll;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.VsockSocket;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recorded Linux 6.12.117 loopback traces ({@code src/test/resources/kernel-traces}), read at test
 * time, and a cursor that replays one scenario's steps in order: each call a test makes names the
 * step it reproduces (its {@code call} text must match the trace), runs it against the simulator and
 * asserts what the kernel returned — return value, errno name, and every output field the step
 * recorded. A new descriptor (socket, accept4) is a return value like any other: those steps run in a
 * process of the simulator ({@link TraceFixture#proc()}) and the recorded number is asserted exactly.
 * Steps the simulator cannot express are consumed with a reason from {@link KnownDivergences};
 * {@link Scenario#done()} fails if any step was left unreplayed.
 *
 * <p>{@code t_*} and {@code nd_*} fields are timings and run-dependent raw values: never compared.
 */
final class KernelTrace {
    static final String RESOURCE = "/kernel-traces/linux-6.12.117-loopback.jsonl";

    /** Every poll bit a step can show: the traces' poll() asked for all of them. */
    static final int ALL_EVENTS = Poll.POLLIN | Poll.POLLPRI | Poll.POLLOUT | Poll.POLLRDNORM | Poll.POLLRDBAND
            | Poll.POLLWRNORM | Poll.POLLWRBAND | Poll.POLLRDHUP;

    private static Map<String, Map<String, Object>> scenarios;

    private KernelTrace() {
    }

    /** All scenarios of the trace file, by id, in file order. */
    static synchronized Map<String, Map<String, Object>> all() {
        if (scenarios == null) {
            Map<String, Map<String, Object>> m = new LinkedHashMap<>();
            try (InputStream in = KernelTrace.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("missing test resource " + RESOURCE);
                }
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                for (String line : text.split("\n")) {
                    if (!line.isBlank()) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> sc = (Map<String, Object>) new Json(line).value();
                        m.put((String) sc.get("id"), sc);
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            scenarios = Collections.unmodifiableMap(m);
        }
        return scenarios;
    }

    /** A cursor over scenario {@code id}. */
    static Scenario scenario(String id) {
        Map<String, Object> sc = all().get(id);
        if (sc == null) {
            throw new IllegalArgumentException("no scenario " + id);
        }
        return new Scenario(sc);
    }

    /** A simulator call: returns the syscall's non-negative result or throws {@link ErrnoException}. */
    @FunctionalInterface
    interface Call {
        long run() throws Exception;
    }

    /** One recorded step. */
    static final class Step {
        final Map<String, Object> f;
        final int index;
        final String scenario;

        Step(String scenario, int index, Map<String, Object> f) {
            this.scenario = scenario;
            this.index = index;
            this.f = f;
        }

        String call() {
            return (String) f.get("call");
        }

        long ret() {
            return ((Number) f.get("ret")).longValue();
        }

        String errno() {
            return (String) f.get("errno");
        }

        boolean racy() {
            return Boolean.TRUE.equals(f.get("racy"));
        }

        boolean note() {
            return Boolean.TRUE.equals(f.get("note"));
        }

        boolean has(String key) {
            return f.containsKey(key);
        }

        long num(String key) {
            Object v = f.get(key);
            if (!(v instanceof Number)) {
                throw new AssertionError(this + ": no numeric field " + key);
            }
            return ((Number) v).longValue();
        }

        String str(String key) {
            return String.valueOf(f.get(key));
        }

        String where() {
            return scenario + " step " + index + " [" + f.get("actor") + "] " + call();
        }

        /** The recorded numeric field {@code key} equals {@code actual}. */
        Step value(String key, long actual) {
            assertThat(actual).as(where() + ": " + key).isEqualTo(num(key));
            return this;
        }

        /** The recorded boolean field {@code key} equals {@code actual}. */
        Step flag(String key, boolean actual) {
            assertThat(actual).as(where() + ": " + key).isEqualTo(f.get(key));
            return this;
        }

        /** The recorded revents equal {@code mask}, compared by name for a readable diff. */
        Step revents(int mask) {
            assertThat(Poll.names(mask)).as(where() + ": revents").isEqualTo(Poll.names(Poll.parse(str("revents"))));
            return this;
        }

        /**
         * The received bytes match the recorded {@code data}: the trace keeps at most the first 48
         * bytes of what was read, so the data read must start with it (and equal it when shorter).
         */
        Step data(byte[] got) {
            if (!has("data")) {
                return this;
            }
            String want = str("data");
            String have = new String(got, StandardCharsets.ISO_8859_1);
            if (got.length <= 48 || want.length() < 48) {
                assertThat(have).as(where() + ": data").isEqualTo(want);
            } else {
                assertThat(have).as(where() + ": data").startsWith(want);
            }
            return this;
        }

        Step msgFlags(int flags) {
            assertThat(msgFlagNames(flags)).as(where() + ": msg_flags").isEqualTo(str("msg_flags"));
            return this;
        }

        Step sigpipe(long delta) {
            if (has("sigpipe")) {
                assertThat(delta).as(where() + ": SIGPIPEs raised").isEqualTo(num("sigpipe"));
            }
            return this;
        }

        /**
         * A returned address ({@code family/cid/port/addrlen/svm_flags} or {@code peer_cid/peer_port}):
         * symbolic CIDs, ports relative to the scenario's {@code base}; {@code auto} = an ephemeral
         * port the kernel chose (unsigned &gt; 1023, not VMADDR_PORT_ANY).
         */
        Step addr(String prefix, SockaddrVm a, int base) {
            String cidKey = prefix.isEmpty() ? "cid" : prefix + "_cid";
            if (!has(cidKey) && has("addrlen")) {
                // Only the length was recorded (a truncated getsockname): the full address is 16 bytes.
                assertThat((long) SockaddrVm.SIZE).as(where() + ": addrlen").isEqualTo(num("addrlen"));
                return this;
            }
            String portKey = prefix.isEmpty() ? "port" : prefix + "_port";
            assertThat(cidName(a.cid())).as(where() + ": " + cidKey).isEqualTo(str(cidKey));
            String want = str(portKey);
            if ("auto".equals(want)) {
                assertThat(a.portUnsigned()).as(where() + ": " + portKey + " (auto)")
                        .isGreaterThan(VmSockets.LAST_RESERVED_PORT).isNotEqualTo(0xffffffffL);
            } else {
                assertThat(a.portUnsigned()).as(where() + ": " + portKey).isEqualTo(port(want, base));
            }
            if (has("svm_flags")) {
                assertThat(a.flags()).as(where() + ": svm_flags").isEqualTo(num("svm_flags"));
            }
            if (has("family")) {
                assertThat(VmSockets.AF_VSOCK).as(where() + ": family").isEqualTo(num("family"));
            }
            if (has("addrlen")) {
                assertThat((long) SockaddrVm.SIZE).as(where() + ": addrlen").isEqualTo(num("addrlen"));
            }
            return this;
        }

        @Override
        public String toString() {
            return where();
        }
    }

    static String cidName(int cid) {
        switch (cid) {
            case VmSockets.VMADDR_CID_ANY:
                return "ANY";
            case VmSockets.VMADDR_CID_LOCAL:
                return "LOCAL";
            case VmSockets.VMADDR_CID_HOST:
                return "HOST";
            case VmSockets.VMADDR_CID_HYPERVISOR:
                return "HYPERVISOR";
            default:
                return Integer.toUnsignedString(cid);
        }
    }

    /** {@code P+k} → base + k; {@code ANY} → 0xffffffff; a number → itself. */
    static long port(String sym, int base) {
        if ("ANY".equals(sym)) {
            return 0xffffffffL;
        }
        if (sym.startsWith("P+")) {
            return base + Long.parseLong(sym.substring(2));
        }
        return Long.parseLong(sym);
    }

    static String msgFlagNames(int flags) {
        List<String> n = new ArrayList<>();
        int[] bits = {io.vsocksim.uapi.Sock.MSG_OOB, io.vsocksim.uapi.Sock.MSG_CTRUNC, io.vsocksim.uapi.Sock.MSG_EOR,
            io.vsocksim.uapi.Sock.MSG_TRUNC, io.vsocksim.uapi.Sock.MSG_ERRQUEUE};
        String[] names = {"MSG_OOB", "MSG_CTRUNC", "MSG_EOR", "MSG_TRUNC", "MSG_ERRQUEUE"};
        int rest = flags;
        for (int i = 0; i < bits.length; i++) {
            if ((flags & bits[i]) != 0) {
                n.add(names[i]);
                rest &= ~bits[i];
            }
        }
        if (rest != 0) {
            n.add("0x" + Integer.toHexString(rest));
        }
        return n.isEmpty() ? "0" : String.join("|", n);
    }

    /** Bytes {@code 'a' + i % 26}: the payload the trace programs sent. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    /** A cursor over one scenario's steps. */
    static final class Scenario {
        final String id;
        final String what;
        private final List<Step> steps = new ArrayList<>();
        private int next;
        int asserted;
        int notExpressible;
        int notes;

        @SuppressWarnings("unchecked")
        Scenario(Map<String, Object> sc) {
            id = (String) sc.get("id");
            what = (String) sc.get("what");
            List<Object> raw = (List<Object>) sc.get("steps");
            for (int i = 0; i < raw.size(); i++) {
                steps.add(new Step(id, i, (Map<String, Object>) raw.get(i)));
            }
        }

        /** The next non-note step, whose call must be {@code call}. */
        Step next(String call) {
            skipNotes();
            if (next >= steps.size()) {
                fail(id + ": no step left, test expected " + call);
            }
            Step s = steps.get(next++);
            assertThat(s.call()).as(id + " step " + s.index + ": the test is out of step with the trace").isEqualTo(call);
            return s;
        }

        /** The next step if it is a note (environment record): returns it, consumed. */
        Step note() {
            if (next >= steps.size() || !steps.get(next).note()) {
                fail(id + ": expected a note at step " + next);
            }
            notes++;
            return steps.get(next++);
        }

        private void skipNotes() {
            while (next < steps.size() && steps.get(next).note()) {
                next++;
                notes++;
            }
        }

        /**
         * Replays the next step: runs {@code c} and asserts ret / errno as recorded (either outcome of a
         * {@code racy} step is accepted, but it must be one a kernel could give: the recorded one or
         * success).
         */
        Step expect(String call, Call c) throws Exception {
            Step s = next(call);
            Outcome o = run(c);
            check(s, o);
            return s;
        }

        /** A {@code racy} step: the recorded outcome, or one of {@code alternatives} (errno names, "0" = success). */
        Step expectRacy(String call, Call c, String... alternatives) throws Exception {
            Step s = next(call);
            assertThat(s.racy()).as(s.where() + " is marked racy").isTrue();
            Outcome o = run(c);
            asserted++;
            String got = o.errno == null ? "0" : o.errno;
            java.util.List<String> ok = new ArrayList<>(java.util.List.of(alternatives));
            ok.add(s.errno() == null ? "0" : s.errno());
            assertThat(ok).as(s.where() + ": racy outcome").contains(got);
            return s;
        }

        /** Like {@link #expect} but also hands back what the call returned. */
        Outcome outcome(String call, Call c) throws Exception {
            Step s = next(call);
            Outcome o = run(c);
            check(s, o);
            o.step = s;
            return o;
        }

        static Outcome run(Call c) throws Exception {
            try {
                return new Outcome(c.run(), null);
            } catch (ErrnoException e) {
                return new Outcome(-1, e.errnoName());
            }
        }

        void check(Step s, Outcome o) {
            asserted++;
            assertThat(s.racy()).as(s.where() + " is racy: replay it with expectRacy").isFalse();
            assertThat(o.errno).as(s.where() + ": errno").isEqualTo(s.errno());
            assertThat(o.ret).as(s.where() + ": ret").isEqualTo(s.ret());
        }

        /** Consumes a step the simulator cannot express; {@code reason} must be listed in {@link KnownDivergences}. */
        Step notExpressible(String call, String reason) {
            Step s = next(call);
            assertThat(KnownDivergences.TABLE).as("reason for " + s.where() + " must be in KnownDivergences")
                    .containsKey(reason);
            notExpressible++;
            return s;
        }

        // ---- common calls --------------------------------------------------------------------------

        /** poll(fd, ALL_EVENTS, timeoutMs): ret is 1 when any bit shows, revents as recorded. */
        Step poll(String call, VsockSocket sock, long timeoutMs) throws Exception {
            int[] rev = new int[1];
            Step s = expect(call, () -> {
                rev[0] = sock.poll(ALL_EVENTS, timeoutMs);
                return rev[0] == 0 ? 0 : 1;
            });
            return s.revents(rev[0]);
        }

        Step poll(String call, VsockSocket sock) throws Exception {
            return poll(call, sock, 0);
        }

        Step getsockname(String call, VsockSocket sock, int base) throws Exception {
            SockaddrVm[] a = new SockaddrVm[1];
            Step s = expect(call, () -> {
                a[0] = sock.getsockname();
                return 0;
            });
            return a[0] == null ? s : s.addr("", a[0], base);
        }

        Step getpeername(String call, VsockSocket sock, int base) throws Exception {
            SockaddrVm[] a = new SockaddrVm[1];
            Step s = expect(call, () -> {
                a[0] = sock.getpeername();
                return 0;
            });
            return a[0] == null ? s : s.addr("", a[0], base);
        }

        /** send(2) of {@code data}; asserts the SIGPIPEs raised by this call. */
        Step send(String call, VsockSocket sock, byte[] data, int flags) throws Exception {
            long before = sock.sigpipes();
            Step s = expect(call, () -> sock.send(ByteBuffer.wrap(data), flags));
            return s.sigpipe(sock.sigpipes() - before);
        }

        /** recv(2) into a {@code len}-byte buffer; asserts ret/errno and the data read. */
        byte[] recv(String call, VsockSocket sock, int len, int flags) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(len);
            Step s = expect(call, () -> sock.recv(b, flags));
            byte[] got = new byte[b.position()];
            b.flip();
            b.get(got);
            s.data(got);
            return got;
        }

        /** recvmsg(2): also asserts msg_flags. */
        byte[] recvmsg(String call, VsockSocket sock, int len, int flags) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(len);
            int[] mf = new int[1];
            Step s = expect(call, () -> sock.recvmsg(b, flags, mf));
            byte[] got = new byte[b.position()];
            b.flip();
            b.get(got);
            if (s.errno() == null) {
                s.data(got);
                s.msgFlags(mf[0]);
            }
            return got;
        }

        /** getsockopt(SOL_SOCKET, SO_ERROR): value as recorded, optlen 4. */
        Step soError(String call, VsockSocket sock) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int[] len = new int[1];
            Step s = expect(call, () -> {
                len[0] = sock.getsockopt(io.vsocksim.uapi.Sock.SOL_SOCKET, io.vsocksim.uapi.Sock.SO_ERROR, b, 4);
                return 0;
            });
            return s.value("value", b.getInt(0)).value("optlen", len[0]);
        }

        /** Asserts that every step was replayed (or consumed as not expressible). */
        void done() {
            skipNotes();
            assertThat(next).as(id + ": steps left unreplayed from " + next).isEqualTo(steps.size());
            System.out.printf("kernel trace %s: %d steps asserted, %d not expressible, %d notes%n",
                    id, asserted, notExpressible, notes);
        }
    }

    /** What a simulator call gave. */
    static final class Outcome {
        final long ret;
        final String errno;
        Step step;

        Outcome(long ret, String errno) {
            this.ret = ret;
            this.errno = errno;
        }

        @Override
        public String toString() {
            return errno == null ? "ret " + ret : "-1 " + errno;
        }
    }

    /** A minimal JSON reader: objects, arrays, strings, numbers (as Long or Double), booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            ws();
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    i += 4;
                    return Boolean.TRUE;
                case 'f':
                    i += 5;
                    return Boolean.FALSE;
                case 'n':
                    i += 4;
                    return null;
                default:
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                String k = string();
                ws();
                expectChar(':');
                m.put(k, value());
                ws();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expectChar('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (s.charAt(i) == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(value());
                ws();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expectChar(']');
                    return l;
                }
            }
        }

        private String string() {
            expectChar('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n':
                            b.append('\n');
                            break;
                        case 't':
                            b.append('\t');
                            break;
                        case 'r':
                            b.append('\r');
                            break;
                        case 'b':
                            b.append('\b');
                            break;
                        case 'f':
                            b.append('\f');
                            break;
                        case 'u':
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                            break;
                        default:
                            b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private Object number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String n = s.substring(start, i);
            if (n.isEmpty()) {
                throw new IllegalArgumentException("bad JSON at " + start);
            }
            return n.contains(".") || n.contains("e") || n.contains("E") ? (Object) Double.valueOf(n) : (Object) Long.valueOf(n);
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expectChar(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("bad JSON at " + i + ": expected " + c);
            }
            i++;
        }
    }
}
