package io.vsocksim.sim;

import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_EVENT;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_RX;
import static io.vsocksim.uapi.VirtioVsock.VSOCK_VQ_TX;

import io.vsocksim.kernel.LoggerNames;
import io.vsocksim.kernel.Mutex;
import io.vsocksim.mm.GuestMemory;
import io.vsocksim.sim.internal.VhostVsockPciCounters.Counter;
import io.vsocksim.sim.internal.VhostVsockPciCounters;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.VirtioVsock;
import io.vsocksim.vhost.Iov;
import io.vsocksim.vhost.VhostVirtqueue;
import io.vsocksim.virtio.VringAddrs;
import io.vsocksim.vsock.guest.VirtioVsockDevice;
import io.vsocksim.vsock.guest.VirtioVsockTransport;
import io.vsocksim.vsock.vhost.VhostVsock;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VMM's vhost-vsock device for one guest (QEMU's {@code vhost-vsock-pci} in spirit): the guest
 * driver's {@link VirtioVsockDevice}, forwarding rx/tx queue setup and kicks to the host's
 * {@link VhostVsock} and the host's interrupts back to the driver, and serving the event queue itself
 * (TRANSPORT_RESET, as QEMU's {@code vhost_vsock_common_send_transport_reset}).
 *
 * <p>SIM: eventfds are direct calls; a kick queues the vhost handler on the host's work queue and an
 * interrupt queues the driver's work on the guest's work queue, so neither side runs the other's code
 * on its own threads.
 */
final class VhostVsockPci implements VirtioVsockDevice {
    /** Features offered when every option is on. */
    static final long FULL_OFFER = VhostVsock.VHOST_VSOCK_FEATURES & ~(1L << VhostVsock.VHOST_F_LOG_ALL);

    private static final Logger LOG = LoggerFactory.getLogger(LoggerNames.VMM_VHOST_VSOCK);

    private final VhostVsock vhost;
    private final GuestMemory guestMemory;
    private final VirtioVsockTransport driver;
    private final long offer;
    private volatile long guestCid;
    private volatile int status;
    private long acked;

    private final ReentrantLock eventLock = new Mutex();
    private VhostVirtqueue eventVq;
    private final Iov eventIov = new Iov(16);
    /** {@code struct virtio_vsock_event}, little-endian, as written into the guest. */
    private final ByteBuffer eventBuf = ByteBuffer.allocate(VirtioVsock.VIRTIO_VSOCK_EVENT_SIZE)
            .order(ByteOrder.LITTLE_ENDIAN);
    private final VhostVsockPciCounters counters = new VhostVsockPciCounters();

    VhostVsockPci(VhostVsock vhost, GuestMemory guestMemory, VirtioVsockTransport driver, long offer, long cid) {
        this.vhost = vhost;
        this.guestMemory = guestMemory;
        this.driver = driver;
        this.offer = offer;
        this.guestCid = cid;
        vhost.setMemTable(guestMemory);
        vhost.setVringCall(VSOCK_VQ_RX, () -> interrupt(VSOCK_VQ_RX));
        vhost.setVringCall(VSOCK_VQ_TX, () -> interrupt(VSOCK_VQ_TX));
    }

    private void interrupt(int index) {
        var d = driver.device();
        if (d != null) {
            d.interrupt(index);
        }
    }

    @Override
    public long deviceFeatures() {
        return offer;
    }

    @Override
    public void finalizeFeatures(long features) {
        acked = features;
        int r = vhost.setFeatures(features & VhostVsock.VHOST_VSOCK_FEATURES);
        if (r != 0) {
            throw new IllegalStateException("vhost refused features: rc=" + r);
        }
    }

    @Override
    public void setStatus(int s) {
        int old = status;
        status = s;
        if ((s & io.vsocksim.vsock.guest.VirtioVsock.VIRTIO_CONFIG_S_DRIVER_OK) != 0
                && (old & io.vsocksim.vsock.guest.VirtioVsock.VIRTIO_CONFIG_S_DRIVER_OK) == 0) {
            int r = vhost.setRunning(true);
            if (r != 0) {
                throw new IllegalStateException("vhost could not start: rc=" + r);
            }
            eventLock.lock();
            try {
                eventVq.setBackend(true);
            } finally {
                eventLock.unlock();
            }
        }
    }

    @Override
    public long readGuestCid() {
        return guestCid;
    }

    /** Changes the CID in config space (e.g. after migration); the guest re-reads it on TRANSPORT_RESET. */
    void setConfigGuestCid(long cid) {
        guestCid = cid;
    }

    @Override
    public int setupVq(int index, VringAddrs a) {
        if (index == VSOCK_VQ_EVENT) {
            eventLock.lock();
            try {
                eventVq = new VhostVirtqueue(guestMemory, acked, () -> interrupt(VSOCK_VQ_EVENT));
                int r = eventVq.setNum(a.num());
                return r != 0 ? r : eventVq.setAddr(a.descGpa(), a.availGpa(), a.usedGpa());
            } finally {
                eventLock.unlock();
            }
        }
        int r = vhost.setVringNum(index, a.num());
        return r != 0 ? r : vhost.setVringAddr(index, a.descGpa(), a.availGpa(), a.usedGpa());
    }

    @Override
    public boolean notify(int index) {
        if (index != VSOCK_VQ_EVENT) {
            vhost.kick(index);
        }
        return true;
    }

    @Override
    public void reset() {
        vhost.setRunning(false);
        eventLock.lock();
        try {
            if (eventVq != null) {
                eventVq.setBackend(false);
            }
        } finally {
            eventLock.unlock();
        }
        status = 0;
    }

    @Override
    public void delVqs() {
        eventLock.lock();
        try {
            eventVq = null;
        } finally {
            eventLock.unlock();
        }
    }

    /**
     * Puts a {@code VIRTIO_VSOCK_EVENT_TRANSPORT_RESET} event on the guest's event queue, as QEMU's
     * {@code vhost_vsock_common_send_transport_reset}: pops the next chain, scatters the 4-byte event over
     * its device-writable descriptors in order ({@code iov_from_buf} over {@code in_sg}), returns it with
     * used length 4 and interrupts.
     *
     * <p>A chain QEMU refuses is dropped: consumed and never returned to the guest
     * ({@code virtqueue_detach_element}), and counted in {@link #counters()}. That is a chain with
     * device-readable descriptors (nothing written), or one whose writable part is shorter than the event
     * (its buffers hold the event's first bytes, as {@code iov_from_buf} leaves them).
     *
     * @return 0; {@code -ENODEV} if the event queue is not running; {@code -ENOSPC} if the guest posted
     *     no event buffer (QEMU logs "missed transport reset event"); {@code -EINVAL} if the chain was
     *     dropped; the ring error of a chain the device could not read (see {@link VhostVirtqueue#getVqDesc})
     */
    int sendTransportReset() {
        eventLock.lock();
        try {
            VhostVirtqueue vq = eventVq;
            if (vq == null || !vq.hasBackend()) {
                return -Errno.ENODEV;
            }
            vq.disableNotify();
            try {
                return writeTransportReset(vq);
            } finally {
                vq.enableNotify();
            }
        } finally {
            eventLock.unlock();
        }
    }

    private int writeTransportReset(VhostVirtqueue vq) {
        int head = vq.getVqDesc(eventIov);
        if (head < 0) {
            logEvent("not sent", vq.lastError(), "the device cannot read the event queue (vq_err)");
            return head;
        }
        if (head == vq.num()) {
            counters.inc(Counter.EVENTS_MISSED);
            logEvent("missed", Counter.EVENTS_MISSED, "no event buffer posted");
            return -Errno.ENOSPC;
        }
        if (eventIov.out() != 0) {
            counters.inc(Counter.EVENT_DROP_OUT_BUFS);
            logEvent("dropped", Counter.EVENT_DROP_OUT_BUFS, "the chain has device-readable descriptors");
            return -Errno.EINVAL;
        }
        eventBuf.clear();
        eventBuf.putInt(0, VirtioVsock.VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
        if (eventIov.copyToIn(guestMemory, 0, eventBuf) != VirtioVsock.VIRTIO_VSOCK_EVENT_SIZE) {
            counters.inc(Counter.EVENT_DROP_SHORT);
            logEvent("dropped", Counter.EVENT_DROP_SHORT, "the chain is shorter than the event");
            return -Errno.EINVAL;
        }
        // Counted and logged before the guest can see it: its event work may run on another thread
        // the moment the interrupt is signalled, and its own lines must follow this one.
        counters.inc(Counter.EVENTS_SENT);
        logEvent("sent", Counter.EVENTS_SENT, "the guest resets its connections");
        vq.addUsed(head, VirtioVsock.VIRTIO_VSOCK_EVENT_SIZE);
        vq.signal();
        return 0;
    }

    /**
     * The DEBUG line of one TRANSPORT_RESET the VMM tried to send, on the guest's name: {@code reason} is
     * the counter that counted it, or the ring error. (QEMU reports a lost event with error_report; a
     * guest can cause that at will, so it stays at DEBUG here.)
     */
    private void logEvent(String what, Object reason, String detail) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: TRANSPORT_RESET event {} ({}): {}", driver.core().kernel().name(), what, reason, detail);
        }
    }

    /** What this device did on the event queue. */
    VhostVsockPciCounters counters() {
        return counters;
    }
}
