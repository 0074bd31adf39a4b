package io.vsocksim.testing;

import java.util.concurrent.CountDownLatch;

/** Latch waits for threads that must not give up early (blocker works that hold a worker). */
public final class Latches {
    private Latches() {}

    /** Waits for {@code latch} to open, keeping an interrupt for the caller to see afterwards. */
    public static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        for (;;) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
