package io.vsocksim;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks code that follows a patch series that never reached mainline (the 2022 virtio-vsock
 * zerocopy receive RFC), so readers comparing with Linux are not misled.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.FIELD})
public @interface NotUpstream {
    /** Which series and version the code follows, e.g. {@code "virtio/vsock zerocopy RX RFC v1"}. */
    String value();
}
