package io.vsocksim.user.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs each test of the annotated class (or the annotated test method) with a fresh simulated host
 * (CID 2) and guests, and checks after it that nothing leaked:
 *
 * <pre>{@code
 * @VsockSim(guests = {3, 4})
 * class MyTest {
 *     @Test
 *     void talks(Host host, @Cid(3) Guest three, @Cid(4) Guest four) throws Exception { ... }
 * }
 * }</pre>
 *
 * <p>Test and lifecycle methods ({@code @BeforeEach}, {@code @AfterEach}) take the machines as
 * parameters: {@code Host}, {@code Guest} (with {@link Cid} when several run), {@code List<Guest>}, or
 * the whole {@link Simulation} (its {@link Simulation#connectedPair} makes a connected pair of
 * sockets). When the test is done the machines are shut down, and a test that passed fails if it left
 * a descriptor of the machines' embedder process open or a socket alive, if a kernel WARN fired, or if
 * a page was not given back ({@link VsockSimExtension} says exactly what is checked).
 *
 * <p>On a method, it replaces the class's settings for that method. {@link VsockSimExtension} is the
 * same extension for {@code @RegisterExtension}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(VsockSimExtension.class)
public @interface VsockSim {
    /**
     * The guests to start.
     *
     * @return their CIDs, in start order; empty for a host alone
     */
    long[] guests() default {3};

    /**
     * How the machines' clocks run.
     *
     * @return virtual (the default) or real time
     */
    Time time() default Time.VIRTUAL;

    /** How the machines' clocks run. */
    enum Time {
        /**
         * Virtual time that runs by itself ({@code Host.virtualTime}'s clock): it follows real time, and
         * jumps to the next timer as soon as every thread using the machines waits, so a 2-s connect
         * timeout or the 8-s close timeout costs milliseconds.
         */
        VIRTUAL,
        /** Real time: every timeout takes as long as it says (what a benchmark wants). */
        REAL
    }
}
