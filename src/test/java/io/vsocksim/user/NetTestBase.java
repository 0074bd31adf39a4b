package io.vsocksim.user;

import io.vsocksim.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The set-up the java.net face tests share: {@link NetWorlds} per test, leak-checked, closed after it. */
@Timeout(60)
abstract class NetTestBase {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final NetWorlds worlds = new NetWorlds(leaks);

    @AfterEach
    void closeWorlds() throws Exception {
        worlds.close();
    }
}
