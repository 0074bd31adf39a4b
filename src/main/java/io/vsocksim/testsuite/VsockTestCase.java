package io.vsocksim.testsuite;

import java.util.function.Consumer;

/**
 * One entry of vsock_test's {@code test_cases[]}: the kernel's exact name, the client and server
 * functions (either may be null, as in C), and, when the simulator cannot run it yet, why.
 *
 * @param name the kernel's name string
 * @param client the client role, or null
 * @param server the server role, or null
 * @param unsupported null, or the reason the test is reported as skipped
 */
public record VsockTestCase(String name, Consumer<TestContext> client, Consumer<TestContext> server, String unsupported) {
    static VsockTestCase of(String name, Consumer<TestContext> client, Consumer<TestContext> server) {
        return new VsockTestCase(name, client, server, null);
    }

    static VsockTestCase unsupported(String name, String reason) {
        return new VsockTestCase(name, null, null, reason);
    }
}
