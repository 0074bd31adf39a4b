package io.vsocksim.user.bridge;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread running one {@link Selector}: the JDK's for the Unix side of a bridge, the simulated host
 * process's ({@code VsockSelectorProvider}) for the vsock side. Channels registered with it are touched
 * only by its thread; other threads hand it work with {@link #execute}, which wakes the selector.
 *
 * <p>Each key's attachment is a {@link Handler}. A handler that throws an unexpected runtime exception
 * has its channel closed and the loop goes on (counted by the bridge as an abort).
 */
final class SelectorLoop {
    private static final Logger log = LoggerFactory.getLogger(SelectorLoop.class);

    /** What a key's readiness is handed to. */
    interface Handler {
        /** The key's channel is ready for some of its interest set; called on the loop's thread. */
        void ready(SelectionKey key);
    }

    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean stopping;

    SelectorLoop(String name, Selector selector) {
        this.selector = selector;
        this.thread = new Thread(this::loop, name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Selector selector() {
        return selector;
    }

    /** Runs {@code task} on the loop's thread, after the current round of ready keys. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private void loop() {
        try {
            while (!stopping) {
                selector.select();
                for (SelectionKey k : selector.selectedKeys()) {
                    dispatch(k);
                }
                selector.selectedKeys().clear();
                for (Runnable r = tasks.poll(); r != null && !stopping; r = tasks.poll()) {
                    runTask(r);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("{}: selector failed", thread.getName(), e);
        }
    }

    /** One handed-over task; a failing one is logged and the loop goes on serving every other channel. */
    private void runTask(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("{}: task failed", thread.getName(), e);
        }
    }

    private void dispatch(SelectionKey k) {
        if (!k.isValid()) {
            return;
        }
        try {
            ((Handler) k.attachment()).ready(k);
        } catch (RuntimeException e) {
            log.warn("{}: handler failed, closing its channel", thread.getName(), e);
            try {
                k.channel().close();
            } catch (IOException ignored) {
                // closing is all that is left to do
            }
        }
    }

    /**
     * Accepts every connection {@code server} (non-blocking) has queued and hands each to {@code next};
     * stops at the first error, which a later readiness retries.
     */
    static void acceptEach(java.nio.channels.ServerSocketChannel server,
            java.util.function.Consumer<java.nio.channels.SocketChannel> next) {
        for (;;) {
            java.nio.channels.SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            if (c == null) {
                return;
            }
            next.accept(c);
        }
    }

    /**
     * Stops the thread (after the task or round it is in) and waits for it. The selector and the channels
     * stay open: the caller closes them once no thread touches them.
     */
    void stop() throws InterruptedException {
        stopping = true;
        selector.wakeup();
        if (thread.isAlive() && Thread.currentThread() != thread) {
            thread.join();
        }
    }
}
