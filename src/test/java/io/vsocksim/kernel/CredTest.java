package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Capability;
import org.junit.jupiter.api.Test;

/** setuid(2) and cap_task_fix_setuid on {@link Cred}, and capable() of the current task. */
class CredTest {
    @Test
    void shouldDropEveryCapabilityWhenRootSetsAllUidsToAnotherUser() {
        Cred c = Cred.ROOT.setuid(1000);
        assertThat(c.uid).isEqualTo(1000);
        assertThat(c.euid).isEqualTo(1000);
        assertThat(c.suid).isEqualTo(1000);
        assertThat(c.capEffective).isZero();
        assertThat(c.capPermitted).isZero();
        assertThat(c.setuid(0)).as("EPERM").isNull();
        assertThat(c.setuid(1000)).as("to the real uid is allowed").isNotNull();
    }

    @Test
    void shouldMoveOnlyTheEffectiveUidWithoutCapSetuidAndRestoreCapsWhenItReturnsToRoot() {
        // A set-uid-root program run by 1000: real 1000, effective and saved 0, full permitted set.
        Cred suidRoot = new Cred(1000, 0, 0, 1000, 1000, 1000, Capability.of(Capability.CAP_NET_BIND_SERVICE),
                Capability.ALL);
        Cred dropped = new Cred(1000, 0, 0, 1000, 1000, 1000, 0, Capability.ALL).setuid(1000);
        assertThat(dropped.uid).isEqualTo(1000);
        assertThat(dropped.euid).isEqualTo(1000);
        assertThat(dropped.suid).as("saved uid kept without CAP_SETUID").isZero();
        assertThat(dropped.capEffective).isZero();
        assertThat(dropped.capPermitted).as("a saved uid 0 keeps the permitted set").isEqualTo(Capability.ALL);
        Cred back = dropped.setuid(0);
        assertThat(back.euid).isZero();
        assertThat(back.capEffective).as("effective back from permitted").isEqualTo(Capability.ALL);
        assertThat(suidRoot.setuid(5)).as("CAP_SETUID missing, 5 is neither real nor saved").isNull();
    }

    @Test
    void shouldAnswerCapableFromTheCurrentTaskWhenInACallAndFromTheFallbackOutside() {
        long socketSet = Capability.of(Capability.CAP_NET_ADMIN);
        assertThat(Cred.capable(Capability.CAP_NET_ADMIN, socketSet)).isTrue();
        Cred prev = Cred.enter(Cred.ROOT.setuid(65534));
        try {
            assertThat(Cred.capable(Capability.CAP_NET_ADMIN, socketSet)).isFalse();
        } finally {
            Cred.exit(prev);
        }
        assertThat(Cred.current()).isNull();
    }
}
