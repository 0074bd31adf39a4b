package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void shouldUseLinuxX8664Numbers() {
        assertThat(Errno.EPERM).isEqualTo(1);
        assertThat(Errno.EAGAIN).isEqualTo(11);
        assertThat(Errno.EFAULT).isEqualTo(14);
        assertThat(Errno.EINVAL).isEqualTo(22);
        assertThat(Errno.ENOTTY).isEqualTo(25);
        assertThat(Errno.EPIPE).isEqualTo(32);
        assertThat(Errno.EMSGSIZE).isEqualTo(90);
        assertThat(Errno.ENOPROTOOPT).isEqualTo(92);
        assertThat(Errno.EOPNOTSUPP).isEqualTo(95);
        assertThat(Errno.EAFNOSUPPORT).isEqualTo(97);
        assertThat(Errno.EADDRINUSE).isEqualTo(98);
        assertThat(Errno.EADDRNOTAVAIL).isEqualTo(99);
        assertThat(Errno.ECONNRESET).isEqualTo(104);
        assertThat(Errno.ENOBUFS).isEqualTo(105);
        assertThat(Errno.EISCONN).isEqualTo(106);
        assertThat(Errno.ENOTCONN).isEqualTo(107);
        assertThat(Errno.ETIMEDOUT).isEqualTo(110);
        assertThat(Errno.ECONNREFUSED).isEqualTo(111);
        assertThat(Errno.EHOSTUNREACH).isEqualTo(113);
        assertThat(Errno.EALREADY).isEqualTo(114);
        assertThat(Errno.EINPROGRESS).isEqualTo(115);
    }

    @Test
    void shouldNameErrnoRegardlessOfSign() {
        assertThat(Errno.name(Errno.ECONNRESET)).isEqualTo("ECONNRESET");
        assertThat(Errno.name(-Errno.EPIPE)).isEqualTo("EPIPE");
        assertThat(Errno.name(3)).isEqualTo("ESRCH");
        assertThat(Errno.name(8)).as("ENOEXEC is not named here").isEqualTo("errno 8");
        assertThat(Errno.valueOf("EINPROGRESS")).isEqualTo(115);
        assertThat(Errno.valueOf("EWOULDBLOCK")).isEqualTo(Errno.EAGAIN);
    }

    @Test
    void shouldTreatOnlyMinusMaxErrnoToMinusOneAsErrors() {
        assertThat(Errno.isErr(-1)).isTrue();
        assertThat(Errno.isErr(-4095)).isTrue();
        assertThat(Errno.isErr(-4096)).isFalse();
        assertThat(Errno.isErr(0)).isFalse();
        assertThat(Errno.isErr(65536)).isFalse();
    }

    @Test
    void shouldThrowErrnoExceptionOnlyForNegativeResults() throws Exception {
        assertThat(ErrnoException.check(5, "recv")).isEqualTo(5);
        assertThatThrownBy(() -> ErrnoException.check(-Errno.EAGAIN, "recv"))
                .isInstanceOf(ErrnoException.class)
                .hasMessage("recv: EAGAIN (11)")
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EAGAIN));
    }
}
