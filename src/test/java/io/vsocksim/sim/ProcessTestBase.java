package io.vsocksim.sim;

import io.vsocksim.testing.LeakCheck;
import io.vsocksim.user.UserProcess;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The set-up the process tests share: a {@link TwoProcesses} fixture per test, leak-checked. */
abstract class ProcessTestBase {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    TwoProcesses t;
    Machine m;
    UserProcess server;
    UserProcess client;
    ExecutorService pool;

    @BeforeEach
    void setUpProcesses() {
        t = new TwoProcesses(getClass().getSimpleName(), leaks);
        m = t.m;
        server = t.server;
        client = t.client;
        pool = t.pool;
    }

    @AfterEach
    void tearDownProcesses() throws InterruptedException {
        t.close();
    }
}
