package io.vsocksim.testsuite;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The control channel as an in-process pair of line queues: the default when both roles run in one
 * process (SIM: the kernel's vsock_test uses a TCP connection; see {@link TcpControl}). Thread
 * interruption aborts a blocked read with a {@link TestFailure}.
 */
public final class PipeControl implements Control {
    private static final String EOF = new String("EOF");
    private final BlockingQueue<String> in;
    private final BlockingQueue<String> out;

    private PipeControl(BlockingQueue<String> in, BlockingQueue<String> out) {
        this.in = in;
        this.out = out;
    }

    /** Two connected ends: {@code [client, server]}. */
    public static PipeControl[] pair() {
        BlockingQueue<String> a = new LinkedBlockingQueue<>();
        BlockingQueue<String> b = new LinkedBlockingQueue<>();
        return new PipeControl[] {new PipeControl(a, b), new PipeControl(b, a)};
    }

    @Override
    public void writeln(String line) {
        out.add(line);
    }

    @Override
    public String readln() {
        try {
            String line = in.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (line == null) {
                throw new TestFailure("recv timed out");
            }
            if (line == EOF) {
                in.add(EOF);
                throw new TestFailure("unexpected EOF on control socket");
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestFailure("aborted");
        }
    }

    @Override
    public void close() {
        out.add(EOF);
    }
}
