package io.vsocksim.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.uapi.VirtioRing;
import java.util.HashSet;
import java.util.Set;

/**
 * Fuzz target: the guest driver taking buffers back from a device it does not trust
 * (virtio_ring.c: virtqueue_get_buf_ctx_split, detach_buf_split, virtqueue_detach_unused_buf_split).
 * The device owns the used ring: any used.idx, any id and length in any entry. Whatever it writes, the
 * driver hands back only tokens it gave, each at most once, marks the queue broken for an id out of
 * range or not a head (BAD_RING), and at teardown gets every token it still holds back, so no buffer is
 * lost or returned twice; nothing throws.
 *
 * <p>The corpus in {@code src/test/resources/io/vsocksim/virtio/UsedRingFuzzTestInputs} runs in every
 * build; {@code JAZZER_FUZZ=1} fuzzes (docs/reliability.md).
 */
class UsedRingFuzzTest {
    private static final GuestMemory MEM = new GuestMemory("fuzz-driver", 1L << 20);
    private static final long RING = 0x1000;
    private static final long BUF = 0x40_000;
    private static final long TABLES = 0x80_000;

    @FuzzTest(maxDuration = "2m")
    void aHostileUsedRingNeverYieldsATokenTwiceOrOneNeverGiven(FuzzedDataProvider in) {
        int num = 1 << in.consumeInt(0, 8);
        boolean indirect = in.consumeBoolean();
        long features = (indirect ? 1L << VirtioRing.VIRTIO_RING_F_INDIRECT_DESC : 0)
                | (in.consumeBoolean() ? 1L << VirtioRing.VIRTIO_RING_F_EVENT_IDX : 0);
        VringAddrs addrs = VringAddrs.legacy(RING, num, 4096);
        long[] nextTable = {TABLES};
        VirtqueueSplit.IndirectAllocator alloc = !indirect ? null : new VirtqueueSplit.IndirectAllocator() {
            @Override
            public long alloc(int bytes) {
                long gpa = nextTable[0];
                nextTable[0] += (bytes + 15) & ~15;
                return gpa;
            }

            @Override
            public void free(long gpa, int bytes) {
            }
        };
        VirtqueueSplit vq = new VirtqueueSplit(MEM, addrs, features, q -> { }, q -> true, alloc);

        // The driver posts buffers of one to three segments until the input says stop or the ring is full.
        Set<Integer> given = new HashSet<>();
        int buffers = in.consumeInt(0, num);
        for (int t = 0; t < buffers; t++) {
            int outs = in.consumeInt(0, 2);
            int ins = outs == 0 ? in.consumeInt(1, 2) : in.consumeInt(0, 2);
            long[] og = new long[outs];
            int[] ol = new int[outs];
            long[] ig = new long[ins];
            int[] il = new int[ins];
            for (int i = 0; i < outs; i++) {
                og[i] = BUF + 0x100L * (3 * t + i);
                ol[i] = in.consumeInt(1, 256);
            }
            for (int i = 0; i < ins; i++) {
                ig[i] = BUF + 0x100L * (3 * t + outs + i);
                il[i] = in.consumeInt(1, 256);
            }
            if (vq.addSgs(og, ol, outs, ig, il, ins, t) < 0) {
                break; // ring full (indirect or not): nothing posted
            }
            given.add(t);
        }

        // The device writes whatever it likes into the used ring.
        int entries = in.consumeInt(0, num);
        for (int i = 0; i < entries; i++) {
            long elem = addrs.usedGpa() + 4 + 8L * i;
            MEM.putU32(elem, in.consumeBoolean() ? in.consumeInt(0, num - 1) : Integer.toUnsignedLong(in.consumeInt()));
            MEM.putU32(elem + 4, Integer.toUnsignedLong(in.consumeInt()));
        }
        MEM.putU16(addrs.usedGpa() + 2, in.consumeBoolean() ? entries : in.consumeInt(0, 0xFFFF));

        Set<Integer> back = new HashSet<>();
        for (int round = 0; round <= num + 1; round++) {
            Object token = vq.getBuf();
            if (token == null) {
                break;
            }
            assertThat(given).as("a token the driver gave").contains((Integer) token);
            assertThat(back.add((Integer) token)).as("token %s returned once", token).isTrue();
        }
        if (vq.isBroken()) {
            assertThat(vq.getBuf()).as("a broken queue returns nothing").isNull();
        }
        for (Object token; (token = vq.detachUnusedBuf()) != null; ) {
            assertThat(given).contains((Integer) token);
            assertThat(back.add((Integer) token)).as("token %s returned once at teardown", token).isTrue();
        }
        // Only the driver's own table could lose a chain (CHAIN_CORRUPT), and the device here writes
        // nothing but the used ring: every buffer comes back, broken queue or not.
        assertThat(vq.brokenReason()).isNotEqualTo(VirtqueueSplit.BadRing.CHAIN_CORRUPT);
        assertThat(back).as("every buffer comes back").isEqualTo(given);
    }
}
