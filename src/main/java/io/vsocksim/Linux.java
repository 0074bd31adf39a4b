package io.vsocksim;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the kernel function (or struct) that the annotated Java element models, in the pinned kernel
 * ({@link LinuxVersion#PINNED}). Citations are {@code file:function}, never line numbers.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.FIELD})
@Repeatable(Linux.List.class)
public @interface Linux {
    /** Kernel source path relative to the tree root, e.g. {@code net/vmw_vsock/af_vsock.c}. */
    String file();

    /** The function, struct or macro modelled, e.g. {@code vsock_bind}. */
    String fn();

    /** Holder for repeated citations. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.TYPE, ElementType.METHOD, ElementType.CONSTRUCTOR, ElementType.FIELD})
    @interface List {
        /** The citations. */
        Linux[] value();
    }
}
