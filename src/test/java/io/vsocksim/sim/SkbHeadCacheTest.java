package io.vsocksim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.mm.Footprint;
import io.vsocksim.mm.Kmalloc;
import io.vsocksim.mm.KmemCache;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.ZerocopyPolicy;
import io.vsocksim.vsock.virtio.SkbPool;
import io.vsocksim.vsock.virtio.VsockSkb;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** skb heads come from the kernel's slab caches: kmalloc-N and skbuff_small_head. */
@Timeout(60)
class SkbHeadCacheTest {
    @RegisterExtension
    final LeakCheck leaks = new LeakCheck();
    final GuestHostTestContext c = new GuestHostTestContext(leaks);

    @AfterEach
    void tearDown() {
        c.close();
    }

    @Test
    void shouldPostEachRxBufferAsAKmalloc4096ObjectEightToAnOrder3Slab() throws Exception {
        Guest g = c.guest(3);
        Kmalloc slab = g.kernel().pages().slab();
        KmemCache k4096 = slab.kmallocCache(4096);
        long posted = g.deviceObjects();
        assertThat(posted).as("virtio_vsock_rx_fill fills the ring").isEqualTo(128);
        assertThat(k4096.objectsInUse()).isEqualTo(posted);
        assertThat(k4096.slabs()).isEqualTo(posted / 8);
        assertThat(k4096.slabPages()).isEqualTo(posted);
        assertThat(g.devicePages()).as("no page outside the slab").isZero();
    }

    @Test
    void shouldTakeHeaderOnlyHeadsFromSkbuffSmallHeadAndLinearHeadsFromKmalloc() throws Exception {
        Guest g = c.guest(3);
        SkbPool pool = SkbPool.of(g.core());
        Kmalloc slab = g.kernel().pages().slab();
        Footprint before = g.footprint();
        // 44 + 64 KiB does not fit a linear skb: header-only head (640 bytes) plus page fragments.
        VsockSkb paged = pool.alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + 65536);
        KmemCache small = slab.kmemCacheCreate("skbuff_small_head", SkbPool.SKB_SMALL_HEAD_CACHE_SIZE);
        assertThat(small.objectsInUse()).isEqualTo(1);
        assertThat(small.order()).isEqualTo(1);
        assertThat(paged.tailroom()).isZero();
        // 44 + 1000 bytes: ALIGN(1044, 64) + 320 = 1408, a kmalloc-2048 object, tailroom 2048 - 320 - 1044.
        VsockSkb linear = pool.alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + 1000);
        linear.put(1000);
        assertThat(slab.kmallocCache(2048).objectsInUse()).isEqualTo(1);
        assertThat(linear.tailroom()).isEqualTo(2048 - SkbPool.SKB_SHINFO_SIZE - 1044);
        assertThat(g.footprint()).isEqualTo(new Footprint(before.pages() + 16, before.objects() + 2));
        paged.kfreeSkb();
        linear.kfreeSkb();
        assertThat(g.footprint()).isEqualTo(before);
    }

    @Test
    void shouldKeepTheHeadersOfZerocopyRxBuffersInSkbuffSmallHead() throws Exception {
        Guest g = c.guest(3, Guest.Options.DEFAULTS, ZerocopyPolicy.PAGES, 1);
        KmemCache small = g.kernel().pages().slab().kmemCacheCreate("skbuff_small_head", SkbPool.SKB_SMALL_HEAD_CACHE_SIZE);
        // Two descriptors a buffer (header, page): 64 buffers fill the 128-entry ring.
        assertThat(small.objectsInUse()).isEqualTo(g.deviceObjects()).isEqualTo(64);
        assertThat(small.slabs()).as("twelve to a slab").isEqualTo((64 + 11) / 12);
        assertThat(g.devicePages()).as("one data page behind each header").isEqualTo(64);
    }
}
