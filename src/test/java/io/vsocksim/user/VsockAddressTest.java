package io.vsocksim.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vsocksim.uapi.SockaddrVm;
import java.net.URI;
import org.junit.jupiter.api.Test;

class VsockAddressTest {
    @Test
    void factoriesPutCidAndPortWhereTheirNamesSay() {
        assertThat(VsockAddress.of(3, 1234)).isEqualTo(VsockAddress.ofPortAndCID(1234, 3));
        assertThat(VsockAddress.ofHostPort(80).cid()).isEqualTo(2);
        assertThat(VsockAddress.ofLocalPort(80).cid()).isEqualTo(1);
        assertThat(VsockAddress.ofHypervisorPort(80).cid()).isEqualTo(0);
        assertThat(VsockAddress.ofAnyCIDPort(80).cidUnsigned()).isEqualTo(0xFFFF_FFFFL);
        assertThat(VsockAddress.ofAnyPort().portUnsigned()).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void textFormRoundTripsForEveryKindOfCidAndPort() {
        for (VsockAddress a : new VsockAddress[] {VsockAddress.of(3, 1234), VsockAddress.ofAnyPort(),
                VsockAddress.of(0xFFFF_FFFE, 0x8000_0000), VsockAddress.ofHypervisorPort(0)}) {
            assertThat(VsockAddress.parse(a.toString())).isEqualTo(a);
            assertThat(VsockAddress.of(a.toURI())).isEqualTo(a);
            assertThat(a.toURI().getScheme()).isEqualTo("vsock");
        }
        assertThat(VsockAddress.of(3, 1234)).hasToString("vsock://3:1234");
        assertThat(VsockAddress.ofAnyPort()).hasToString("vsock://any:any");
        assertThat(VsockAddress.of(0xFFFF_FFFE, 7)).hasToString("vsock://4294967294:7");
    }

    @Test
    void parseTakesNamesAndTheBareForm() {
        assertThat(VsockAddress.parse("host:22")).isEqualTo(VsockAddress.ofHostPort(22));
        assertThat(VsockAddress.parse("VSOCK://Local:9")).isEqualTo(VsockAddress.ofLocalPort(9));
        assertThat(VsockAddress.parse("hypervisor:any")).isEqualTo(VsockAddress.of(0, -1));
        assertThat(VsockAddress.of(URI.create("vsock://host:5000"))).isEqualTo(VsockAddress.ofHostPort(5000));
    }

    @Test
    void parseRejectsWhatIsNotAnAddressWithTheReason() {
        assertThatThrownBy(() -> VsockAddress.parse("1234")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CID:PORT");
        assertThatThrownBy(() -> VsockAddress.parse("3:4294967296")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("port \"4294967296\"");
        assertThatThrownBy(() -> VsockAddress.parse("-1:2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CID \"-1\"");
        assertThatThrownBy(() -> VsockAddress.of(URI.create("tcp://host:1"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void equalityIsCidAndPortAndMatchesSockaddrVm() {
        VsockAddress a = VsockAddress.of(3, 1234);
        assertThat(a).isEqualTo(VsockAddress.of(3, 1234)).hasSameHashCodeAs(VsockAddress.of(3, 1234));
        assertThat(a).isNotEqualTo(VsockAddress.of(1234, 3)).isNotEqualTo("vsock://3:1234");
        assertThat(a.toSockaddr()).isEqualTo(new SockaddrVm(3, 1234));
        assertThat(VsockAddress.of(new SockaddrVm(3, 1234, 1))).isEqualTo(a);
    }
}
