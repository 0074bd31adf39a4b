package io.vsocksim.bench;

import static io.vsocksim.uapi.Sock.SOCK_STREAM;
import static io.vsocksim.uapi.VmSockets.AF_VSOCK;
import static io.vsocksim.uapi.VmSockets.SO_VM_SOCKETS_ZEROCOPY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_ANY;
import static io.vsocksim.uapi.VmSockets.VMADDR_CID_HOST;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.uapi.Mman;
import io.vsocksim.sim.Guest;
import io.vsocksim.sim.Host;
import io.vsocksim.sim.Machine;
import io.vsocksim.user.UserProcess;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.Poll;
import io.vsocksim.user.VsockSocket;
import io.vsocksim.uapi.ZerocopyPolicy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;

/**
 * A host and one guest (CID 3) on threaded kernels, as {@code vsocksim rx-zerocopy} builds them, and
 * one connected STREAM pair between them. The receiving machine uses the PAGES zerocopy policy when
 * zerocopy receive is asked for (the guest's is fixed at boot), 6.12.117's OFF otherwise.
 */
final class Fixture implements AutoCloseable {
    static final int PAGE = 4096;
    static final int PORT = 1234;

    final Host host;
    final Guest guest;
    final Machine sender;
    final Machine receiver;
    final UserProcess proc;
    final VsockSocket listener;
    VsockSocket tx;
    VsockSocket rx;

    Fixture(boolean guestToHost, boolean zerocopy) throws ErrnoException {
        ZerocopyPolicy policy = zerocopy ? ZerocopyPolicy.PAGES : ZerocopyPolicy.OFF;
        host = SimInternals.newHost(KernelContext.threaded("host", 256L << 20, 2), true);
        guest = SimInternals.startGuest(host, 3, KernelContext.threaded("guest3", 256L << 20, 2), Guest.Options.DEFAULTS, policy);
        if (guestToHost) {
            host.setZerocopyPolicy(policy);
            sender = guest;
            receiver = host;
        } else {
            sender = host;
            receiver = guest;
        }
        proc = UserProcess.spawn(receiver, "bench");
        listener = proc.socket(SOCK_STREAM);
        listener.bind(VMADDR_CID_ANY, PORT);
        listener.listen(128);
    }

    int receiverCid() {
        return receiver == host ? VMADDR_CID_HOST : 3;
    }

    /** Connects sender to receiver; {@link #tx}/{@link #rx} are the two ends. */
    void connect() throws ErrnoException {
        VsockSocket c = VsockSocket.open(sender, SOCK_STREAM);
        CompletableFuture<Void> f = CompletableFuture.runAsync(() -> {
            try {
                c.connect(receiverCid(), PORT);
            } catch (ErrnoException e) {
                throw new IllegalStateException(e);
            }
        });
        rx = listener.accept();
        f.join();
        tx = c;
    }

    /** A thread that drains {@link #rx} until end of stream: recv() into 64 KiB, or through a 64-page mapping. */
    Thread drain(boolean zerocopy) {
        Thread t = new Thread(() -> {
            try {
                if (zerocopy) {
                    drainZerocopy(64);
                } else {
                    ByteBuffer b = ByteBuffer.allocateDirect(64 * 1024);
                    while (rx.recv(b, 0) > 0) {
                        b.clear();
                    }
                }
            } catch (ErrnoException e) {
                throw new IllegalStateException(e);
            }
        }, "bench-drain");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void drainZerocopy(int pages) throws ErrnoException {
        long addr = rx.mmap((long) pages * PAGE, Mman.PROT_READ);
        ByteBuffer opt = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (true) {
            if (rx.poll(Poll.POLLIN, 60_000) == 0) {
                return;
            }
            opt.putLong(0, addr);
            rx.getsockopt(AF_VSOCK, SO_VM_SOCKETS_ZEROCOPY, opt, 8);
            boolean any = proc.readU32(addr) != 0;
            proc.madvise(addr, (long) pages * PAGE, Mman.MADV_DONTNEED);
            if (!any) {
                return;
            }
        }
    }

    /** Sends all of {@code buf} (from position 0) on the transmitting socket; returns the bytes sent. */
    int sendAll(ByteBuffer buf) throws ErrnoException {
        buf.clear();
        int n = 0;
        while (buf.hasRemaining()) {
            n += tx.send(buf, 0);
        }
        return n;
    }

    /** Closes the transmitting socket, waits for the drain thread to see EOF, then closes the machines. */
    void finish(Thread drain) throws InterruptedException {
        tx.close();
        tx = null;
        drain.join(10_000);
        close();
    }

    @Override
    public void close() {
        if (tx != null) {
            tx.close();
        }
        if (rx != null) {
            rx.close();
        }
        listener.close();
        proc.close();
        host.close();
    }
}
