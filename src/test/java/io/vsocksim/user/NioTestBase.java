package io.vsocksim.user;

import io.vsocksim.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The set-up the NIO face tests share: a {@link NioTestContext} per test, leak-checked. */
abstract class NioTestBase {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    NioTestContext t;

    @BeforeEach
    void setUpContext() {
        t = new NioTestContext(getClass().getSimpleName(), leaks);
    }

    @AfterEach
    void tearDownContext() throws InterruptedException {
        t.close();
    }
}
