package io.vsocksim.uapi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class U16Test {
    @Test
    void shouldWrapLikeCu16() {
        assertThat(U16.of(65536)).isZero();
        assertThat(U16.of(-1)).isEqualTo(65535);
        assertThat(U16.sub(2, 65534)).isEqualTo(4);
        assertThat(U16.add(65535, 3)).isEqualTo(2);
    }

    @Test
    void shouldCompareU32Unsigned() {
        assertThat(U32.lt(1, -1)).isTrue();
        assertThat(U32.le(-1, -1)).isTrue();
        assertThat(U32.min(-2, 5)).isEqualTo(5);
        // credit arithmetic across the wrap: peer_buf_alloc - (tx_cnt - peer_fwd_cnt)
        int txCnt = 10;
        int peerFwdCnt = -4086; // 0xFFFFF00A: tx_cnt wrapped after it
        assertThat(262144 - (txCnt - peerFwdCnt)).isEqualTo(262144 - 4096);
    }
}
