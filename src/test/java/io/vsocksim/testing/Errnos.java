package io.vsocksim.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** The errno an object-face call fails with, for tests that assert it exactly. */
public final class Errnos {
    private Errnos() {
    }

    /** 0 if {@code call} returns, its errno if it throws {@link ErrnoException}; anything else fails the test. */
    public static int errnoOf(ThrowingCallable call) {
        try {
            call.call();
            return 0;
        } catch (ErrnoException e) {
            return e.errno();
        } catch (Throwable t) {
            throw new AssertionError("expected an errno or success, got " + t, t);
        }
    }

    /** Asserts that {@code call} throws {@link ErrnoException} with {@code errno} (compared by name, for the message). */
    public static void assertErrno(ThrowingCallable call, int errno) {
        assertThatThrownBy(call).isInstanceOf(ErrnoException.class)
                .satisfies(e -> assertThat(((ErrnoException) e).errnoName()).isEqualTo(Errno.name(errno)));
    }
}
