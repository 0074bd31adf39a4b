package io.vsocksim.mm;

/**
 * What a machine's memory holds for its users, as a leak check compares it: pages allocated outside
 * the slab caches, and objects allocated from them. Pages a slab cache keeps are not counted, since
 * how many the caches keep depends on the order of frees, not on who still holds memory (so
 * {@link PageAllocator#pagesInUse()} alone cannot tell a leak).
 *
 * @param pages   pages in use that no slab cache holds
 * @param objects slab objects in use
 */
public record Footprint(long pages, long objects) {
    /** The footprint of everything {@code a} and its caches hand out now. */
    public static Footprint of(PageAllocator a) {
        Kmalloc slab = a.slab();
        // Objects first: a concurrent slab growth can only make the page count look smaller, not a leak.
        long objects = slab.objectsInUse();
        return new Footprint(a.pagesInUse() - slab.slabPages(), objects);
    }

    /** This footprint without what devices hold on purpose ({@code pages} pages, {@code objects} objects). */
    public Footprint minus(long devicePages, long deviceObjects) {
        return new Footprint(pages - devicePages, objects - deviceObjects);
    }

    /** What {@code this} holds beyond {@code base}, in words ("2 page(s), 1 slab object(s)"). */
    public String beyond(Footprint base) {
        return (pages - base.pages) + " page(s), " + (objects - base.objects) + " slab object(s)";
    }
}
