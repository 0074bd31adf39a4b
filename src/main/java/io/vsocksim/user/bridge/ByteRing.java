package io.vsocksim.user.bridge;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A fixed byte ring between exactly one producer thread (which reads a channel into it) and one consumer
 * thread (which writes it to another channel): one direction of a bridged connection. Its capacity is
 * the most that direction ever holds in the bridge, and a full ring is what makes the producer stop
 * reading its channel, so the sender behind that channel runs out of credit or socket buffer.
 *
 * <p>Single-producer single-consumer without locks: only the producer writes {@code tail}, only the
 * consumer writes {@code head}; each publishes its side with a volatile store after touching the bytes,
 * and reads the other side's counter before touching them. The two threads use separate views of one
 * direct buffer, so positions and limits are never shared.
 */
final class ByteRing {
    private final int capacity;
    private final ByteBuffer producerView;
    private final ByteBuffer consumerView;
    /** Bytes consumed so far; written by the consumer only. */
    private volatile long head;
    /** Bytes produced so far; written by the producer only. */
    private volatile long tail;
    /** The producer will add nothing more; set after its last {@code tail} store. */
    private volatile boolean shutdown;

    ByteRing(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        ByteBuffer b = ByteBuffer.allocateDirect(capacity);
        this.producerView = b.duplicate();
        this.consumerView = b.duplicate();
    }

    /** Bytes held: produced and not yet consumed. Any thread. */
    int size() {
        long h = head;
        return (int) (tail - h);
    }

    /** Room left for the producer. */
    int free() {
        return capacity - size();
    }

    /** Producer: one read of {@code ch} into the free space; what the read returned (0 when full). */
    int readFrom(ReadableByteChannel ch) throws IOException {
        long t = tail;
        int free = capacity - (int) (t - head);
        if (free == 0) {
            return 0;
        }
        int at = (int) (t % capacity);
        producerView.limit(at + Math.min(free, capacity - at)).position(at);
        int n = ch.read(producerView);
        if (n > 0) {
            tail = t + n;
        }
        return n;
    }

    /**
     * Producer: appends {@code len} bytes of {@code src} from {@code off}.
     *
     * @throws IllegalStateException if they do not fit (callers put only into a fresh ring)
     */
    void put(byte[] src, int off, int len) {
        long t = tail;
        if (len > capacity - (int) (t - head)) {
            throw new IllegalStateException(len + " bytes do not fit in " + free());
        }
        for (int done = 0; done < len;) {
            int at = (int) ((t + done) % capacity);
            int n = Math.min(len - done, capacity - at);
            producerView.limit(at + n).position(at);
            producerView.put(src, off + done, n);
            done += n;
        }
        tail = t + len;
    }

    /** Producer: no more bytes will come (end of stream seen on the producer's channel). */
    void shutdown() {
        shutdown = true;
    }

    /**
     * Consumer: true once the producer has shut the ring down and every byte has been consumed. Reads the
     * flag before the count, pairing with the producer's tail-then-flag order.
     */
    boolean drained() {
        return shutdown && size() == 0;
    }

    /** Consumer: one write of the oldest held bytes to {@code ch}; what the write returned. */
    int writeTo(WritableByteChannel ch) throws IOException {
        long h = head;
        int used = (int) (tail - h);
        if (used == 0) {
            return 0;
        }
        int at = (int) (h % capacity);
        consumerView.limit(at + Math.min(used, capacity - at)).position(at);
        int n = ch.write(consumerView);
        head = h + n;
        return n;
    }
}
