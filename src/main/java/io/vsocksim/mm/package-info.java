/**
 * Memory of a simulated machine: physical pages, the page allocator and user mappings.
 *
 * <p><b>Kernel files mirrored</b> (Linux 6.12.117):
 * <ul>
 *   <li>{@link io.vsocksim.mm.GuestMemory}: the machine's RAM as page frames (what {@code mem_map} and
 *       the direct map give the kernel), plus GPA-addressed copies for devices.</li>
 *   <li>{@link io.vsocksim.mm.PageAllocator}: {@code mm/page_alloc.c} ({@code __rmqueue_smallest},
 *       {@code expand}, {@code __free_one_page}, {@code __free_pages}), {@code get_page}/{@code put_page}
 *       from {@code include/linux/mm.h}, and {@code mm/page_poison.c}.</li>
 *   <li>{@link io.vsocksim.mm.KmemCache}, {@link io.vsocksim.mm.Kmalloc}: the SLUB allocator of
 *       {@code mm/slub.c} and the kmalloc caches of {@code mm/slab_common.c}: objects of one size carved
 *       out of page blocks, named by {@code long} handles; skb heads come from them as in the kernel.
 *       {@link io.vsocksim.mm.Footprint} is what a leak check compares: pages outside slabs and slab
 *       objects.</li>
 *   <li>{@link io.vsocksim.mm.MmStruct}, {@link io.vsocksim.mm.VmArea}: the {@code mm_struct} /
 *       {@code vm_area_struct} subset of {@code include/linux/mm_types.h}, {@code do_mmap} and
 *       {@code __vm_munmap} ({@code mm/mmap.c}), {@code __split_vma} ({@code mm/vma.c}),
 *       {@code vm_insert_page} and {@code zap_page_range_single} ({@code mm/memory.c}) and
 *       {@code MADV_DONTNEED} ({@code mm/madvise.c}): enough for the zerocopy receive RFC to map RX
 *       pages into a process and take them back.</li>
 * </ul>
 *
 * <p><b>Handles.</b> A block of pages is a {@code long} handle (cookie, pfn, order; layout in
 * {@link io.vsocksim.mm.PageAllocator}), decoded with {@code PageAllocator.pfn(h)} and
 * {@code PageAllocator.order(h)}. A handle is {@code > 0}; allocation failure is {@code -ENOMEM}.
 * There is no Java object per page.
 *
 * <p><b>Ownership and reference counts.</b> A new block has reference count 1, owned by whoever
 * allocated it. {@code getPage} adds an owner, {@code putPage} removes one and the last one frees the
 * block. {@code freePages} is for the sole owner only: freeing a block that someone else still
 * references is reported as a bug, as are double frees, stale handles and handles of another
 * allocator. Each filled slot of a {@link io.vsocksim.mm.VmArea} is an owner: mapping takes a
 * reference and zapping drops it, so a mapped page outlives its other owners (a socket that drops its
 * RX page while the page is mapped) and goes back to the allocator only when it is unmapped.
 * Every {@code PageAllocator} counts pages in use and every slab cache counts objects in use; tests
 * check that the pages outside slabs and the objects return to their starting values (the pages a
 * cache keeps for later are its own business, as in the kernel).
 *
 * <p><b>Locking.</b> Lock order: {@code MmStruct} ({@code mmap_lock}), then {@code VmArea} (its page
 * table lock), then a {@code KmemCache}'s lock, then {@code PageAllocator} (the zone lock; a cache never holds its
 * own lock while it asks the page allocator). Each is held briefly; the allocator's lock
 * covers list operations only, never page contents. {@code GuestMemory} has no lock: accesses to
 * different bytes never interfere and ordering is the caller's business, as with real RAM.
 *
 * <p><b>Deviations.</b>
 * <ul>
 *   <li>SIM: {@code GuestMemory} is backed by 2 MiB banks allocated on first touch (demand paging), so a
 *       large, sparsely used memory costs only what is touched.</li>
 *   <li>SIM: one zone, no per-CPU page lists, no migrate types, no watermarks or reclaim: an empty free
 *       list is {@code -ENOMEM} at once. Blocks are naturally aligned in absolute pfn.</li>
 *   <li>SIM: handles carry a 23-bit cookie stamped per allocation, which the kernel does not have, so a
 *       stale or foreign handle is caught instead of freeing someone else's block.</li>
 *   <li>SIM: one reference count per block (as for compound pages), and no separate
 *       {@code _mapcount}: a mapping holds a plain reference.</li>
 *   <li>SIM: poisoning fills with {@code PAGE_POISON} (0xaa, include/linux/poison.h); a
 *       poisoned allocator fills its whole range at creation, like pages freed into the buddy at
 *       boot, and a corrupted pattern at allocation throws instead of logging.</li>
 *   <li>SIM: user mappings have no page tables, faults or file backing; an access to an empty slot is a
 *       {@link io.vsocksim.uapi.SegmentationFault}. Addresses come top-down below
 *       {@link io.vsocksim.mm.MmStruct#MMAP_BASE}; there is no {@code MAP_FIXED} and areas never merge.</li>
 * </ul>
 */
package io.vsocksim.mm;
