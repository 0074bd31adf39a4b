package io.vsocksim.differential;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every scenario of the trace file has exactly one replaying test, named by its id and what. */
class LinuxTraceCoverageTest {
    @Test
    @DisplayName("every recorded scenario is replayed by one @Test named \"id: what\"")
    void shouldReplayEveryRecordedScenario() {
        List<String> names = new ArrayList<>();
        for (Class<?> c : List.of(LinuxTraceConnectTest.class, LinuxTraceDataTest.class, LinuxTracePollTest.class,
                LinuxTraceOptionsTest.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.isAnnotationPresent(Test.class)) {
                    names.add(m.getAnnotation(DisplayName.class).value());
                }
            }
        }
        List<String> expected = new ArrayList<>();
        KernelTrace.all().forEach((id, sc) -> expected.add(id + ": " + sc.get("what")));
        assertThat(names).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(expected).hasSize(33);
    }
}
