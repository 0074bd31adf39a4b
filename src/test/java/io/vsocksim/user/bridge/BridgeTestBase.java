package io.vsocksim.user.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.testing.LeakCheck;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The set-up the bridge tests share: a {@link BridgeTestContext} per test in a fresh directory, leak-checked. */
abstract class BridgeTestBase {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    @TempDir
    Path dir;
    BridgeTestContext t;

    @BeforeEach
    void setUpBridge() throws Exception {
        assertThat(BridgeTestContext.bridgeThreads()).as("bridge threads before the test").isZero();
        t = new BridgeTestContext(leaks, dir);
    }

    @AfterEach
    void tearDownBridge() throws Exception {
        t.close();
    }
}
