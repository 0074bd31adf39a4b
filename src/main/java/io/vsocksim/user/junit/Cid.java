package io.vsocksim.user.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Picks the guest a {@code Guest} parameter receives when a {@link VsockSim} test runs several:
 * {@code void test(@Cid(3) Guest three, @Cid(4) Guest four)}. Optional with a single guest.
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Cid {
    /**
     * The guest.
     *
     * @return its CID, one of {@link VsockSim#guests()}
     */
    long value();
}
