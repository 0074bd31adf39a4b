package io.vsocksim.vsock;

import static io.vsocksim.uapi.Sock.SO_EE_ORIGIN_ZEROCOPY;

import io.vsocksim.Linux;
import io.vsocksim.uapi.SockExtendedErr;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct ubuf_info_msgzc}: the completion object of one MSG_ZEROCOPY send round, and the
 * generic net/core/skbuff.c functions that manage it (Linux 6.12; taken from the kernel's
 * net/core/skbuff.c and net/core/sock.c, which are not among the files this project pins in its
 * source tree — see docs/faithfulness.md).
 *
 * <p><b>Life.</b> {@link #alloc} ({@code msg_zerocopy_alloc}) takes the socket's next notification id
 * ({@code sk_zckey}, u32), a socket reference and a reference count of 1 that belongs to the
 * sending call. Every skb of the round takes one more ({@code skb_zcopy_set}) and drops it when it is
 * freed ({@code skb_zcopy_clear}, before its fragment pages are released). The call drops its own
 * with {@link #put} when it handed over data, or {@link #putAbort} when it handed over nothing: the
 * id is given back ({@code sk_zckey} decremented) and no completion is queued. When the count reaches
 * zero the completion is queued on the socket's error queue, unless the round was aborted or the
 * socket is dead ({@code SOCK_DEAD}), and the socket is woken.
 *
 * <p><b>Coalescing</b> ({@code __msg_zerocopy_callback} / {@code skb_zerocopy_notify_extend}): if the
 * tail of the error queue is a zerocopy notification whose range ends right before this one's
 * ({@code lo == old_hi + 1}) and the merged range stays below 2^32 ids, the tail's {@code ee_data} is
 * extended instead of queueing a new entry. The COPIED bit is not compared: the merged entry keeps the
 * tail's {@code ee_code}, as in 6.12.
 *
 * <p>Thread-safe: the reference count is atomic; the error queue has its own lock (the queue object).
 */
@Linux(file = "include/linux/skbuff.h", fn = "struct ubuf_info_msgzc")
public final class UbufInfoMsgzc {
    private final VsockSock sk;
    private final AtomicInteger refcnt = new AtomicInteger(1);
    /** {@code id}: first notification id (u32). */
    private final int id;
    /** {@code len}: ids covered (1, or 0 after an abort). */
    private int len;
    /** {@code bytelen}: bytes the round was asked to send. */
    private final long bytelen;
    /** {@code zerocopy}: false once the data was (or will be) copied. */
    private volatile boolean zerocopy;

    private UbufInfoMsgzc(VsockSock sk, int id, long bytelen) {
        this.sk = sk;
        this.id = id;
        this.len = 1;
        this.bytelen = bytelen;
        this.zerocopy = true;
    }

    /**
     * {@code msg_zerocopy_realloc(sk, size, NULL)} → {@code msg_zerocopy_alloc}: a new completion
     * with the next id. SIM: never fails (the optmem and RLIMIT_MEMLOCK accounting that could make it
     * fail are not modelled).
     */
    @Linux(file = "net/core/skbuff.c", fn = "msg_zerocopy_alloc")
    public static UbufInfoMsgzc alloc(VsockSock sk, long size) {
        UbufInfoMsgzc uarg = new UbufInfoMsgzc(sk, sk.zckey.getAndIncrement(), size);
        sk.sockHold();
        return uarg;
    }

    /** The first notification id (u32). */
    public int id() {
        return id;
    }

    /** True while the round is (still) a real zerocopy one. */
    public boolean zerocopy() {
        return zerocopy;
    }

    /** {@code uarg_to_msgzc(uarg)->zerocopy = 0}: the round copies; its completion will say COPIED. */
    public void markCopied() {
        zerocopy = false;
    }

    /** Current reference count (tests). */
    public int refCount() {
        return refcnt.get();
    }

    /** {@code net_zcopy_get()}: an skb of the round takes a reference ({@code skb_zcopy_set}). */
    @Linux(file = "include/linux/skbuff.h", fn = "net_zcopy_get")
    public void get() {
        int r = refcnt.getAndIncrement();
        assert r > 0 : "net_zcopy_get on a completed ubuf_info";
    }

    /** {@code net_zcopy_put()}: the sending call drops its reference after handing data over. */
    @Linux(file = "include/linux/skbuff.h", fn = "net_zcopy_put")
    public void put() {
        complete(true);
    }

    /**
     * {@code net_zcopy_put_abort(uarg, have_uref)} → {@code msg_zerocopy_put_abort}: nothing was handed
     * over; the id is given back and the completion will not be queued.
     */
    @Linux(file = "net/core/skbuff.c", fn = "msg_zerocopy_put_abort")
    public void putAbort(boolean haveUref) {
        sk.zckey.decrementAndGet();
        len--;
        if (haveUref) {
            complete(true);
        }
    }

    /**
     * {@code msg_zerocopy_complete()}: drops one reference ({@code success} false would mark the round
     * copied; every caller here passes true); the last one runs the callback.
     */
    @Linux(file = "net/core/skbuff.c", fn = "msg_zerocopy_complete")
    public void complete(boolean success) {
        if (!success) {
            zerocopy = false;
        }
        int r = refcnt.decrementAndGet();
        if (r == 0) {
            callback();
        } else if (r < 0) {
            throw new AssertionError("ubuf_info reference count below zero: id=" + Integer.toUnsignedString(id));
        }
    }

    @Linux(file = "net/core/skbuff.c", fn = "__msg_zerocopy_callback")
    private void callback() {
        if (len != 0 && !sk.sockFlag(VsockSock.SOCK_DEAD)) {
            int lo = id;
            int hi = id + len - 1;
            SockExtendedErr serr = SockExtendedErr.zerocopy(lo, hi, !zerocopy);
            ArrayDeque<SockExtendedErr> q = sk.errorQueue;
            synchronized (q) {
                SockExtendedErr tail = q.peekLast();
                SockExtendedErr merged = tail == null || tail.eeOrigin != SO_EE_ORIGIN_ZEROCOPY ? null
                        : notifyExtend(tail, lo, len);
                if (merged == null) {
                    q.addLast(serr);
                } else {
                    q.pollLast();
                    q.addLast(merged);
                }
            }
            sk.errorReport();
        }
        sk.sockPut();
    }

    /**
     * The queued {@code tail} extended by {@code len} ids starting at {@code lo}, or null if they do
     * not follow on or the range would pass 2^32 ids; error-queue lock held. SIM: the kernel grows the
     * queued skb's {@code ee_data} in place; here the tail is replaced by the grown value.
     */
    @Linux(file = "net/core/skbuff.c", fn = "skb_zerocopy_notify_extend")
    private static SockExtendedErr notifyExtend(SockExtendedErr tail, int lo, int len) {
        long oldLo = Integer.toUnsignedLong(tail.eeInfo);
        long oldHi = Integer.toUnsignedLong(tail.eeData);
        long sumLen = oldHi - oldLo + 1 + len;
        if (sumLen >= (1L << 32)) {
            return null;
        }
        if (lo != (int) (oldHi + 1)) {
            return null;
        }
        return tail.withEeData((int) (oldHi + len));
    }

    /**
     * {@code sock_dequeue_err_skb()}: takes the head of the error queue, or null. (Zerocopy entries never
     * set {@code sk_err}; a remaining entry re-reports the error so poll keeps showing EPOLLERR.)
     */
    @Linux(file = "net/core/skbuff.c", fn = "sock_dequeue_err_skb")
    public static SockExtendedErr dequeueErrSkb(VsockSock sk) {
        SockExtendedErr skb;
        boolean next;
        ArrayDeque<SockExtendedErr> q = sk.errorQueue;
        synchronized (q) {
            skb = q.pollFirst();
            next = skb != null && !q.isEmpty();
        }
        if (next) {
            sk.errorReport();
        }
        return skb;
    }

    /** {@code __skb_queue_purge(&sk->sk_error_queue)} (vsock_sk_destruct). */
    static void purgeErrorQueue(VsockSock sk) {
        synchronized (sk.errorQueue) {
            sk.errorQueue.clear();
        }
    }

    @Override
    public String toString() {
        return "ubuf_info_msgzc{id=" + Integer.toUnsignedString(id) + " len=" + len + " zerocopy=" + zerocopy
                + " refcnt=" + refcnt.get() + "}";
    }
}
