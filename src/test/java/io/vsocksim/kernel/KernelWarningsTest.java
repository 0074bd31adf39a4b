package io.vsocksim.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KernelWarningsTest {
    private final KernelWarnings warnings = new KernelWarnings("guest3");

    @Test
    void shouldRecordOnceWhenSameWarningFiresTwice() {
        assertThat(warnings.warnOnce(true, "rx_queue is empty, but rx_bytes is non-zero")).isTrue();
        assertThat(warnings.warnOnce(true, "rx_queue is empty, but rx_bytes is non-zero")).isTrue();
        assertThat(warnings.warnOnce(true, "other")).isTrue();
        assertThat(warnings.fired()).containsExactly("rx_queue is empty, but rx_bytes is non-zero", "other");
    }

    @Test
    void shouldRecordNothingWhenConditionIsFalse() {
        assertThat(warnings.warnOnce(false, "never")).isFalse();
        assertThat(warnings.fired()).isEmpty();
    }

    @Test
    void shouldFireAgainWhenCleared() {
        warnings.warnOnce(true, "w");
        warnings.clear();
        assertThat(warnings.fired()).isEmpty();
        warnings.warnOnce(true, "w");
        assertThat(warnings.fired()).containsExactly("w");
    }

    @Test
    void shouldThrowAssertionErrorWhenBug() {
        assertThatThrownBy(() -> KernelWarnings.bug("impossible")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("impossible");
        assertThatThrownBy(() -> KernelWarnings.bugOn(true, "x")).isInstanceOf(AssertionError.class);
        KernelWarnings.bugOn(false, "fine");
    }
}
