package io.vsocksim.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The ceiling row of {@code rx-zerocopy --compare} moves exactly the bytes asked for. */
class PageRingCeilingTest {
    @Test
    @Timeout(60)
    void shouldMoveEveryByteIncludingAPartialLastPageAndWrite() {
        RxZerocopyCommand.Run r = PageRingCeiling.run(10_000_001L, 65536);
        assertThat(r.bytes()).isEqualTo(10_000_001L);
        assertThat(r.label()).isEqualTo("in-JVM ceiling (page ring, 1 copy)");
        assertThat(r.nanos()).isPositive();
    }

    @Test
    @Timeout(60)
    void shouldMoveWritesSmallerThanAPage() {
        assertThat(PageRingCeiling.run(1000, 64).bytes()).isEqualTo(1000);
    }
}
