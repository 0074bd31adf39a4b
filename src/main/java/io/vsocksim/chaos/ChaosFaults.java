package io.vsocksim.chaos;

import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;

import io.vsocksim.kernel.ManualWorkQueue;
import io.vsocksim.mm.PageHold;
import io.vsocksim.net.SocketFile;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Fcntl;
import io.vsocksim.uapi.Signal;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VirtioVsockOp;
import io.vsocksim.uapi.VirtioVsockType;
import io.vsocksim.user.UserProcess;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.virtio.VirtioTransport;
import io.vsocksim.vsock.virtio.VirtioVsockSock;
import io.vsocksim.vsock.virtio.VsockSkb;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The faults a {@link ChaosRun} injects, each what a deployment meets: a TRANSPORT_RESET (migration),
 * a guest's free memory taken and given back (RX starvation, ENOMEM), a guest paused and resumed, its
 * vsock device unplugged and plugged back, a guest removed with its connections open, a signal that
 * interrupts a blocked call, and a guest that sends past the credit its peer gave it.
 */
final class ChaosFaults {
    /** How long a blocked call may take to notice the signal sent to it, in real time: only a bug waits. */
    private static final long SIGNAL_WAIT_SECONDS = 10;

    private final ChaosRun run;
    /** Each guest's memory taken by the schedule, or null. */
    private final PageHold[] held = new PageHold[2];
    private final java.util.Map<String, Integer> kinds = new java.util.TreeMap<>();

    ChaosFaults(ChaosRun run) {
        this.run = run;
    }

    /** Faults injected so far, by kind. */
    java.util.Map<String, Integer> kinds() {
        return java.util.Collections.unmodifiableMap(kinds);
    }

    private void injected(String kind) {
        kinds.merge(kind, 1, Integer::sum);
    }

    /** One fault step ({@code what} is the step's draw, 93 to 99); null, or the violated invariant. */
    String step(int what) {
        int g = run.rnd.nextInt(run.guests.length);
        if (run.removed[g]) {
            return null;
        }
        Guest guest = run.guests[g];
        switch (what) {
            case 93 -> {
                int rc = run.host.sendTransportReset(guest);
                run.note("TRANSPORT_RESET guest" + guest.cid() + " -> " + rc);
                if (rc == 0) {
                    run.resetEpoch[g]++;
                    run.resetPending[g] = true;
                }
                injected("transport reset");
            }
            case 94, 95 -> memoryPressure(g);
            case 96 -> {
                if (guest.paused()) {
                    run.note("resume guest" + guest.cid() + " -> " + guest.resume());
                } else {
                    guest.pause();
                    run.note("pause guest" + guest.cid());
                    injected("pause");
                }
            }
            case 97 -> {
                return signalBlockedCall();
            }
            case 98 -> {
                return overCredit(g);
            }
            default -> {
                int r = run.rnd.nextInt(8);
                if (r == 0) {
                    removeGuest(g);
                } else if (r < 3 && !guest.paused()) {
                    run.resetEpoch[g]++; // virtio_vsock_remove resets every connected socket at once
                    run.note("replug guest" + guest.cid() + " device -> " + guest.replugDevice());
                    injected("device replug");
                }
            }
        }
        return null;
    }

    /** After each step: a transport reset is handled once the guest's queue has run dry. */
    String afterStep() {
        for (int g = 0; g < run.guests.length; g++) {
            if (run.resetPending[g] && (run.removed[g]
                    || ((ManualWorkQueue) SimInternals.kernel(run.guests[g]).systemWq()).queued() == 0)) {
                run.resetPending[g] = false;
            }
        }
        return null;
    }

    /** Takes all of a guest's free pages, or gives them back. */
    private void memoryPressure(int g) {
        if (held[g] == null) {
            held[g] = new PageHold(SimInternals.kernel(run.guests[g]).pages(), Long.MAX_VALUE);
            run.note("memory pressure on guest" + run.guests[g].cid() + ": " + held[g].pages() + " pages taken");
            injected("memory taken");
        } else {
            run.note("memory back on guest" + run.guests[g].cid() + ": " + held[g].pages() + " pages");
            release(g);
        }
    }

    private void release(int g) {
        if (held[g] != null) {
            held[g].close();
            held[g] = null;
        }
    }

    /** Gives back every guest's memory and resumes every paused guest (the run's end). */
    void releaseAll() {
        for (int g = 0; g < run.guests.length; g++) {
            if (!run.removed[g]) {
                release(g);
                run.guests[g].resume();
            }
        }
    }

    /**
     * The VM goes away with its connections open: its process dies with it, the device is released
     * and the host's sockets to it are reset. The schedule forgets its connections and never uses it
     * again; what the host's ends received so far must still be prefixes.
     */
    private void removeGuest(int g) {
        run.removed[g] = true;
        injected("guest removed");
        run.note("guest" + run.guests[g].cid() + " removed with "
                + run.conns.stream().filter(c -> run.involves(c, g)).count() + " connection(s)");
        release(g);
        run.guestProcs[g].close();
        run.guests[g].close();
        for (ChaosConn c : new ArrayList<>(run.conns)) {
            if (run.involves(c, g)) {
                run.conns.remove(c);
                int fd = c.a == run.hostProc ? c.fdA : c.fdB;
                if (fd >= 0) {
                    run.hostProc.close(fd);
                }
            }
        }
    }

    /**
     * A blocking recv or send on one end of a connection, on a thread of its own, and SIGUSR1 (a
     * handler without SA_RESTART) once it sleeps: the call must come back with EINTR, or with the bytes
     * it moved before the signal. Nothing else runs meanwhile, so the outcome is the seed's.
     */
    private String signalBlockedCall() {
        ChaosConn c = run.someConn();
        if (c == null) {
            return null;
        }
        boolean atA = run.rnd.nextBoolean();
        boolean isRecv = run.rnd.nextBoolean();
        UserProcess p = atA ? c.a : c.b;
        int fd = atA ? c.fdA : c.fdB;
        ByteBuffer buf = ByteBuffer.allocate(1 + run.rnd.nextInt(100_000));
        byte[] data = new byte[1 + run.rnd.nextInt(400_000)]; // more than a peer's buffer: may block
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) run.rnd.nextInt(256);
        }
        VsockSock sk = ((SocketFile) UserInternals.files(p).peek(fd)).sock();
        long flags = p.fcntl(fd, Fcntl.F_GETFL, 0);
        p.fcntl(fd, Fcntl.F_SETFL, flags & ~Fcntl.O_NONBLOCK);
        FutureTask<Long> call = new FutureTask<>(() -> isRecv ? p.recv(fd, buf, 0) : p.send(fd, ByteBuffer.wrap(data), MSG_NOSIGNAL));
        Thread t = new Thread(call, "chaos-blocked-call");
        t.setDaemon(true);
        t.start();
        while (!call.isDone() && sk.sleep.waiters() == 0) {
            Thread.onSpinWait(); // until the call sleeps (or returned without sleeping)
        }
        boolean signalled = !call.isDone();
        if (signalled) {
            p.kill(p, Signal.SIGUSR1);
            injected("signal to a blocked call");
        }
        long n;
        try {
            n = call.get(SIGNAL_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return "a blocked " + (isRecv ? "recv" : "send") + " did not end on SIGUSR1";
        } catch (InterruptedException | ExecutionException e) {
            return "blocked call threw " + e;
        } finally {
            p.fcntl(fd, Fcntl.F_SETFL, flags);
        }
        String at = atA ? "a" : "b";
        run.note((signalled ? "SIGUSR1 to a blocked " : "blocking ") + (isRecv ? "recv at " + at : "send from " + at)
                + " -> " + n);
        if (signalled && isRecv && n != -io.vsocksim.uapi.Errno.EINTR) {
            return "a recv that slept and got a signal returned " + n + ", not -EINTR (nothing arrived meanwhile)";
        }
        return isRecv ? run.received(c, !atA, buf, n) : run.sent(c, atA, data, n);
    }

    /**
     * A peer that ignores credit. One end of a connection first sends (legitimately) until its credit is
     * under a packet's worth, all of it is delivered, then it puts one more packet on the wire, longer
     * than the room left in its peer's receive buffer: a guest through its TX ring (the hostile guest
     * vhost must survive), the host through vhost (the hostile host a guest must survive). The packet
     * is handled at once. 6.12.117's {@code virtio_transport_recv_connected} must refuse it
     * ({@code virtio_transport_inc_rx_pkt}: buf_used may not pass buf_alloc) and, rather than lose data
     * silently, reset the connection with ENOBUFS on the receiver. From a guest the packet arrives whole,
     * so none of it is queued; from the host, vhost cuts it to the guest's RX buffers, so the pieces that
     * fit are queued before the one that does not. Its bytes count as sent: what the reader gets must
     * still be a prefix.
     */
    private String overCredit(int g) {
        ChaosConn c = run.someConn();
        if (c == null || c.guest != g || held[g] != null || c.shut || c.overflowed
                || run.resetEpoch[g] != c.resetEpoch || run.resetPending[g]) {
            return null; // only a clean connection has one outcome to check
        }
        boolean guestSends = run.rnd.nextBoolean();
        boolean senderIsA = (c.a == run.guestProcs[g]) == guestSends;
        UserProcess p = senderIsA ? c.a : c.b;
        int fd = senderIsA ? c.fdA : c.fdB;
        VsockSock sender = sock(p, fd);
        VsockSock receiver = sock(senderIsA ? c.b : c.a, senderIsA ? c.fdB : c.fdA);
        if (!(sender.trans instanceof VirtioVsockSock sv) || !(receiver.trans instanceof VirtioVsockSock rv)
                || sender.skState != io.vsocksim.uapi.TcpState.TCP_ESTABLISHED
                || receiver.skState != io.vsocksim.uapi.TcpState.TCP_ESTABLISHED) {
            return null; // a closing or reset socket takes no data at all
        }
        long credit = Integer.toUnsignedLong(sv.peerBufAlloc - (sv.txCnt - sv.peerFwdCnt));
        long fill = credit - run.rnd.nextInt(VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
        if (fill > 0) {
            byte[] data = new byte[(int) fill];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) run.rnd.nextInt(256);
            }
            long n = p.send(fd, ByteBuffer.wrap(data), MSG_DONTWAIT | MSG_NOSIGNAL);
            run.note("send " + (senderIsA ? "a->b" : "b->a") + " " + fill + " (to fill the credit) -> " + n);
            String f = run.sent(c, senderIsA, data, n);
            if (f != null) {
                return f;
            }
        }
        run.runAll();
        long enqueued = Integer.toUnsignedLong(rv.fwdCnt + rv.rxBytes);
        long free = Integer.toUnsignedLong(rv.bufAlloc) - Integer.toUnsignedLong(rv.rxBytes);
        if (enqueued != Integer.toUnsignedLong(sv.txCnt) || free >= VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
                || sender.skState != io.vsocksim.uapi.TcpState.TCP_ESTABLISHED
                || receiver.skState != io.vsocksim.uapi.TcpState.TCP_ESTABLISHED) {
            return null; // still in flight, room for any legal packet, or no longer established
        }
        int len = (int) (free + 1 + run.rnd.nextLong(VsockSkb.VIRTIO_VSOCK_MAX_PKT_BUF_SIZE - free));
        VirtioTransport t = guestSends ? SimInternals.transport(run.guests[g]) : SimInternals.vhost(run.host);
        VsockSkb skb = t.pool().alloc(VsockSkb.VIRTIO_VSOCK_SKB_HEADROOM + len);
        if (skb == null) {
            return null; // the sender is out of memory itself
        }
        // Addressed as virtio_transport_send_pkt_info addresses it: the transport's CID, the socket's port.
        SockaddrVm src = sender.localAddr;
        SockaddrVm dst = sender.remoteAddr;
        skb.hdr().type(VirtioVsockType.VIRTIO_VSOCK_TYPE_STREAM.value()).op(VirtioVsockOp.VIRTIO_VSOCK_OP_RW.value())
                .srcCid(Integer.toUnsignedLong(t.getLocalCid())).dstCid(Integer.toUnsignedLong(dst.cid()))
                .srcPort(src.port()).dstPort(dst.port()).flags(0).len(len).bufAlloc(sv.bufAlloc).fwdCnt(sv.fwdCnt);
        byte[] junk = new byte[len];
        java.util.Arrays.fill(junk, (byte) 0xEE);
        skb.fillFromIter(new MsgHdr().init(ByteBuffer.wrap(junk), 0), len);
        int rc = t.sendPkt(skb);
        (senderIsA ? c.aToB : c.bToA).sent(junk, len);
        run.note((guestSends ? "guest" + run.guests[g].cid() : "host") + " sends " + len + " bytes past its peer's credit ("
                + free + " free) -> " + rc);
        injected("packet past credit");
        run.runAll();
        long after = Integer.toUnsignedLong(rv.fwdCnt + rv.rxBytes);
        if (after - enqueued > (guestSends ? 0 : free)) {
            return (after - enqueued) + " bytes of a packet of " + len + " with " + free + " bytes free were queued";
        }
        if (receiver.skErr != io.vsocksim.uapi.Errno.ENOBUFS) {
            return "a packet past credit left the receiver with sk_err " + receiver.skErr + ", not ENOBUFS";
        }
        c.overflowed = true;
        return null;
    }

    private static VsockSock sock(UserProcess p, int fd) {
        return ((SocketFile) UserInternals.files(p).peek(fd)).sock();
    }
}
