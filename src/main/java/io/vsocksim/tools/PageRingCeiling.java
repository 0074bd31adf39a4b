package io.vsocksim.tools;

import io.vsocksim.kernel.RealClock;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The in-JVM ceiling of this simulator's design, measured with the same transfer as the vsock rows: the
 * bytes go from a sending thread to a receiving thread through a ring of 4 KiB direct-buffer pages (as
 * many as a vsock receive buffer holds), with one copy per page — the sender's into the page — and
 * nothing else: no headers, no credit, no locks, no work queues. Both threads spin while they wait
 * (never park), which two threads on two CPUs can afford. No vsock transfer can beat it: every vsock
 * byte is copied into a page at least once, and crosses at least this one hand-off between threads.
 *
 * <p>Single producer, single consumer: the sender owns {@code tail}, the receiver {@code head}; each
 * publishes its index with a volatile write after touching the slot, and reads the other's before.
 */
final class PageRingCeiling {
    /** Pages in the ring: 256 KiB, the default vsock receive buffer. */
    static final int RING_PAGES = 64;
    private static final int PAGE = 4096;
    private static final RealClock CLOCK = new RealClock();

    private final ByteBuffer[] pages = new ByteBuffer[RING_PAGES];
    private final int[] lengths = new int[RING_PAGES];
    private volatile long head;
    private volatile long tail;

    private PageRingCeiling() {
        ByteBuffer all = ByteBuffer.allocateDirect(RING_PAGES * PAGE);
        for (int i = 0; i < RING_PAGES; i++) {
            pages[i] = all.slice(i * PAGE, PAGE);
        }
    }

    /** Moves {@code bytes} in writes of {@code writeBytes}; timed on the receiver, like the other rows. */
    static RxZerocopyCommand.Run run(long bytes, int writeBytes) {
        return new PageRingCeiling().transfer(bytes, writeBytes);
    }

    private RxZerocopyCommand.Run transfer(long bytes, int writeBytes) {
        ByteBuffer source = ByteBuffer.allocateDirect(writeBytes);
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> send(source, bytes));
        long t0 = CLOCK.nanoTime();
        long got = 0;
        long h = head;
        while (got < bytes) {
            while (tail == h) {
                Thread.onSpinWait();
            }
            got += lengths[(int) (h % RING_PAGES)];
            head = ++h; // the page is free again
        }
        long t1 = CLOCK.nanoTime();
        sender.join();
        return new RxZerocopyCommand.Run("in-JVM ceiling (page ring, 1 copy)", got, t1 - t0, null);
    }

    private void send(ByteBuffer source, long bytes) {
        long sent = 0;
        long t = tail;
        while (sent < bytes) {
            int write = (int) Math.min(source.capacity(), bytes - sent);
            for (int off = 0; off < write; off += PAGE) {
                while (t - head == RING_PAGES) {
                    Thread.onSpinWait();
                }
                int slot = (int) (t % RING_PAGES);
                int n = Math.min(PAGE, write - off);
                pages[slot].put(0, source, off, n);
                lengths[slot] = n;
                tail = ++t; // publishes the page and its length
            }
            sent += write;
        }
    }
}
