package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class VirtioRingTest {

    record NeedEventCase(String name, int event, int newIdx, int old, boolean expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<NeedEventCase> needEventCases() {
        return Stream.of(
                new NeedEventCase("event just published (new == event + 1)", 0, 1, 0, true),
                new NeedEventCase("new == event: event not yet reached", 5, 5, 4, false),
                new NeedEventCase("old == new: nothing published", 3, 7, 7, false),
                new NeedEventCase("event inside a batch", 5, 10, 3, true),
                new NeedEventCase("event == old: first entry of the batch", 3, 10, 3, true),
                new NeedEventCase("event == new - 1: last entry of the batch", 9, 10, 3, true),
                new NeedEventCase("event == old - 1: before the batch", 2, 10, 3, false),
                new NeedEventCase("event ahead of new", 20, 10, 3, false),
                new NeedEventCase("wrap: batch crosses 65535 -> 0, event 65535", 65535, 2, 65534, true),
                new NeedEventCase("wrap: batch crosses 65535 -> 0, event 0", 0, 2, 65534, true),
                new NeedEventCase("wrap: batch crosses 65535 -> 0, event 1", 1, 2, 65534, true),
                new NeedEventCase("wrap: batch crosses 65535 -> 0, event 2 (== new)", 2, 2, 65534, false),
                new NeedEventCase("wrap: event 65533 before the window", 65533, 2, 65534, false),
                new NeedEventCase("new == event == 0 after wrap", 0, 0, 65535, false),
                new NeedEventCase("new 0, event 65535, old 65535", 65535, 0, 65535, true),
                new NeedEventCase("full 65535-wide window", 100, 65535, 0, true),
                new NeedEventCase("unmasked inputs are treated as u16", 0x1_0000, 0x1_0001, 0x2_0000, true));
    }

    @ParameterizedTest
    @MethodSource("needEventCases")
    void shouldMatchKernelFormulaWhenEvaluatingNeedEvent(NeedEventCase c) {
        assertThat(VirtioRing.vringNeedEvent(c.event(), c.newIdx(), c.old())).isEqualTo(c.expected());
    }

    @Test
    void shouldAgreeWithWindowDefinitionForAllEventsWhenWindowWraps() {
        int old = 65530;
        int newIdx = 4; // entries old..new-1 = {65530..65535, 0..3} were just published
        for (int event = 0; event < 65536; event++) {
            // "Tell me when entry `event` is published": event in [old, new), i.e. event + 1 in (old, new].
            int dist = (event - old) & 0xFFFF;
            boolean inWindow = dist < ((newIdx - old) & 0xFFFF);
            assertThat(VirtioRing.vringNeedEvent(event, newIdx, old)).as("event=%d", event).isEqualTo(inWindow);
        }
    }

    @Test
    void shouldComputeLegacyVringSizeWhenGivenKnownSizes() {
        // 16*128 + 2*(3+128) = 2310 -> 4096, + 6 + 8*128 = 5126
        assertThat(VirtioRing.vringSize(128, 4096)).isEqualTo(5126);
        // 16*256 + 2*259 = 4614 -> 8192, + 6 + 2048 = 10246
        assertThat(VirtioRing.vringSize(256, 4096)).isEqualTo(10246);
        // 16 + 8 = 24 -> 4096, + 6 + 8 = 4110
        assertThat(VirtioRing.vringSize(1, 4096)).isEqualTo(4110);
        for (int num = 1; num <= 32768; num <<= 1) {
            long formula = ((16L * num + 2L * (3 + num) + 4095) & ~4095L) + 6 + 8L * num;
            assertThat(VirtioRing.vringSize(num, 4096)).as("num=%d", num).isEqualTo(formula);
        }
    }

    @Test
    void shouldPlaceLegacyAreasAndEventFieldsWhenLaidOut() {
        assertThat(VirtioRing.legacyAvailOffset(256)).isEqualTo(4096);
        assertThat(VirtioRing.legacyUsedOffset(256, 4096)).isEqualTo(8192);
        assertThat(VirtioRing.usedEventOffset(256)).isEqualTo(4 + 512);
        assertThat(VirtioRing.availEventOffset(256)).isEqualTo(4 + 2048);
        assertThat(VirtioRing.availRingSize(256)).isEqualTo(6 + 512);
        assertThat(VirtioRing.usedRingSize(256)).isEqualTo(6 + 2048);
    }

    @Test
    void shouldUseKernelNumbersWhenNamingFlagsAndFeatures() {
        assertThat(VirtioRing.VRING_DESC_F_NEXT).isEqualTo(1);
        assertThat(VirtioRing.VRING_DESC_F_WRITE).isEqualTo(2);
        assertThat(VirtioRing.VRING_DESC_F_INDIRECT).isEqualTo(4);
        assertThat(VirtioRing.VRING_USED_F_NO_NOTIFY).isEqualTo(1);
        assertThat(VirtioRing.VRING_AVAIL_F_NO_INTERRUPT).isEqualTo(1);
        assertThat(VirtioRing.VIRTIO_F_NOTIFY_ON_EMPTY).isEqualTo(24);
        assertThat(VirtioRing.VIRTIO_F_ANY_LAYOUT).isEqualTo(27);
        assertThat(VirtioRing.VIRTIO_RING_F_INDIRECT_DESC).isEqualTo(28);
        assertThat(VirtioRing.VIRTIO_RING_F_EVENT_IDX).isEqualTo(29);
        assertThat(VirtioRing.VIRTIO_F_VERSION_1).isEqualTo(32);
        assertThat(VirtioRing.VIRTIO_F_ACCESS_PLATFORM).isEqualTo(33);
        assertThat(VirtioRing.VRING_DESC_ALIGN_SIZE).isEqualTo(16);
        assertThat(VirtioRing.VRING_AVAIL_ALIGN_SIZE).isEqualTo(2);
        assertThat(VirtioRing.VRING_USED_ALIGN_SIZE).isEqualTo(4);
        assertThat(VirtioRing.hasFeature(1L << 33, VirtioRing.VIRTIO_F_ACCESS_PLATFORM)).isTrue();
    }

    @Test
    void shouldAcceptOnlyPowersOfTwoUpTo32768WhenValidatingSize() {
        assertThat(VirtioRing.isValidNum(1)).isTrue();
        assertThat(VirtioRing.isValidNum(32768)).isTrue();
        assertThat(VirtioRing.isValidNum(0)).isFalse();
        assertThat(VirtioRing.isValidNum(3)).isFalse();
        assertThat(VirtioRing.isValidNum(65536)).isFalse();
        assertThat(VirtioRing.isValidNum(-4)).isFalse();
    }
}
