package io.vsocksim.testsuite;

/**
 * A vsock_test assertion failed: carries the diagnostic the C test prints on stderr before
 * {@code exit(EXIT_FAILURE)} (e.g. {@code "Message bounds broken"} or {@code "recv: EAGAIN"}).
 */
public final class TestFailure extends RuntimeException {
    /** @param message the diagnostic, in the kernel test's words */
    public TestFailure(String message) {
        super(message);
    }
}
