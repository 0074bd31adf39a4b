package io.vsocksim.vsock.virtio;

import io.vsocksim.Linux;
import io.vsocksim.kernel.Mutex;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct sk_buff_head}: an intrusive doubly linked list of {@link VsockSkb}s (the links live in
 * the skb) with its own {@link #lock}. Queueing and unlinking allocate nothing.
 *
 * <p>Methods ending in {@code Locked} are the kernel's {@code __skb_*} forms: the caller serialises
 * access, with {@link #lock} or with whatever lock guards the queue (the receive queue of a socket is
 * guarded by {@code VirtioVsockSock.rxLock}, not by its own lock, exactly as in the kernel). The other
 * methods take {@link #lock} themselves ({@code virtio_vsock_skb_queue_tail} and friends).
 *
 * <p>Ownership: a queued skb is owned by the queue; {@link #dequeueLocked()} and
 * {@link #unlinkLocked(VsockSkb)} hand ownership back to the caller; {@link #purge()} frees.
 */
@Linux(file = "include/linux/skbuff.h", fn = "struct sk_buff_head")
public final class SkbQueue {
    /** {@code list->lock}. */
    public final ReentrantLock lock = new Mutex();
    private VsockSkb head;
    private VsockSkb tail;
    private int qlen;

    /** {@code skb_queue_len()}. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_queue_len")
    public int len() {
        return qlen;
    }

    /** {@code skb_queue_empty()}. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_queue_empty")
    public boolean isEmpty() {
        return qlen == 0;
    }

    /** {@code skb_peek()}: the first skb or null; ownership stays with the queue. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_peek")
    public VsockSkb peek() {
        return head;
    }

    /** {@code skb_peek_tail()}. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_peek_tail")
    public VsockSkb peekTail() {
        return tail;
    }

    /** {@code skb_peek_next()}: the skb after {@code skb} in this queue, or null. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_peek_next")
    public VsockSkb peekNext(VsockSkb skb) {
        assert skb.list == this : "skb not on this queue";
        return skb.next;
    }

    /** {@code __skb_queue_tail()}: takes ownership of {@code skb}. */
    @Linux(file = "include/linux/skbuff.h", fn = "__skb_queue_tail")
    public void queueTailLocked(VsockSkb skb) {
        assert skb.list == null : "skb already queued";
        skb.list = this;
        skb.next = null;
        skb.prev = tail;
        if (tail != null) {
            tail.next = skb;
        } else {
            head = skb;
        }
        tail = skb;
        qlen++;
    }

    /** {@code __skb_queue_head()}: takes ownership of {@code skb}. */
    @Linux(file = "include/linux/skbuff.h", fn = "__skb_queue_head")
    public void queueHeadLocked(VsockSkb skb) {
        assert skb.list == null : "skb already queued";
        skb.list = this;
        skb.prev = null;
        skb.next = head;
        if (head != null) {
            head.prev = skb;
        } else {
            tail = skb;
        }
        head = skb;
        qlen++;
    }

    /** {@code __skb_unlink()}: the caller owns {@code skb} afterwards. */
    @Linux(file = "include/linux/skbuff.h", fn = "__skb_unlink")
    public void unlinkLocked(VsockSkb skb) {
        assert skb.list == this : "skb not on this queue";
        if (skb.prev != null) {
            skb.prev.next = skb.next;
        } else {
            head = skb.next;
        }
        if (skb.next != null) {
            skb.next.prev = skb.prev;
        } else {
            tail = skb.prev;
        }
        skb.next = null;
        skb.prev = null;
        skb.list = null;
        qlen--;
    }

    /** {@code __skb_dequeue()}: the first skb (now owned by the caller) or null. */
    @Linux(file = "include/linux/skbuff.h", fn = "__skb_dequeue")
    public VsockSkb dequeueLocked() {
        VsockSkb skb = head;
        if (skb != null) {
            unlinkLocked(skb);
        }
        return skb;
    }

    /**
     * {@code skb_queue_splice()}: moves every skb of {@code list} to the front of this queue, keeping
     * their order; {@code list} is left empty.
     */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_queue_splice")
    public void spliceLocked(SkbQueue list) {
        if (list.head == null) {
            return;
        }
        for (VsockSkb s = list.head; s != null; s = s.next) {
            s.list = this;
        }
        list.tail.next = head;
        if (head != null) {
            head.prev = list.tail;
        } else {
            tail = list.tail;
        }
        head = list.head;
        qlen += list.qlen;
        list.head = null;
        list.tail = null;
        list.qlen = 0;
    }

    /** {@code skb_queue_splice_init()} into an empty queue {@code dst}: moves everything there. */
    @Linux(file = "include/linux/skbuff.h", fn = "skb_queue_splice_init")
    public void spliceInitLocked(SkbQueue dst) {
        dst.spliceTailFrom(this);
    }

    private void spliceTailFrom(SkbQueue list) {
        if (list.head == null) {
            return;
        }
        for (VsockSkb s = list.head; s != null; s = s.next) {
            s.list = this;
        }
        list.head.prev = tail;
        if (tail != null) {
            tail.next = list.head;
        } else {
            head = list.head;
        }
        tail = list.tail;
        qlen += list.qlen;
        list.head = null;
        list.tail = null;
        list.qlen = 0;
    }

    /** {@code __skb_queue_purge()}: frees every queued skb. */
    @Linux(file = "include/linux/skbuff.h", fn = "__skb_queue_purge")
    public void purgeLocked() {
        VsockSkb skb;
        while ((skb = dequeueLocked()) != null) {
            skb.kfreeSkb();
        }
    }

    /** {@code virtio_vsock_skb_queue_tail()}: takes {@link #lock}; takes ownership of {@code skb}. */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_queue_tail")
    public void queueTail(VsockSkb skb) {
        lock.lock();
        try {
            queueTailLocked(skb);
        } finally {
            lock.unlock();
        }
    }

    /** {@code virtio_vsock_skb_queue_head()}: takes {@link #lock}; takes ownership of {@code skb}. */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_queue_head")
    public void queueHead(VsockSkb skb) {
        lock.lock();
        try {
            queueHeadLocked(skb);
        } finally {
            lock.unlock();
        }
    }

    /** {@code virtio_vsock_skb_dequeue()}: takes {@link #lock}; the caller owns the result. */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_dequeue")
    public VsockSkb dequeue() {
        lock.lock();
        try {
            return dequeueLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code virtio_vsock_skb_queue_purge()}. SIM: the skbs are freed after {@link #lock} is dropped,
     * since freeing may drop the last reference of an owner socket.
     */
    @Linux(file = "include/linux/virtio_vsock.h", fn = "virtio_vsock_skb_queue_purge")
    public void purge() {
        SkbQueue tmp = new SkbQueue();
        lock.lock();
        try {
            spliceInitLocked(tmp);
        } finally {
            lock.unlock();
        }
        tmp.purgeLocked();
    }
}
