package io.vsocksim.vsock.virtio;

import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.ManualWorkQueue;
import io.vsocksim.kernel.VirtualClock;
import io.vsocksim.testing.LeakCheck;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SocketState;
import io.vsocksim.uapi.TcpState;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.vsock.MsgHdr;
import io.vsocksim.vsock.VsockCore;
import io.vsocksim.vsock.VsockSock;
import io.vsocksim.vsock.loopback.VsockLoopback;
import java.nio.ByteBuffer;

/**
 * One deterministic machine with the loopback transport, and the af_vsock steps the transport tests
 * need (connect, listen, accept, send, recv, release), written out as af_vsock.c does them, since the
 * real af_vsock layer lives elsewhere.
 */
public final class VsockTestContext {
    public final KernelContext k;
    public final VsockCore core;
    public final VsockLoopback lo;
    public final ManualWorkQueue wq;
    public final VirtualClock clock;

    public VsockTestContext(LeakCheck leaks) {
        k = KernelContext.deterministic("m", 64L << 20);
        leaks.track(k);
        core = new VsockCore(k, 7);
        lo = VsockLoopback.register(core);
        wq = (ManualWorkQueue) k.systemWq();
        clock = (VirtualClock) k.clock();
        leaks.probe(() -> SkbPool.of(core).inUse() == 0 ? null : "skbs in use: " + SkbPool.of(core).inUse());
        leaks.probe(() -> core.liveSockets() == 0 ? null : "live sockets: " + core.liveSockets());
    }

    public int run() {
        return wq.runUntilIdle();
    }

    /** socket() + bind() + listen(). */
    public VsockSock listen(int type, int port, int backlog) {
        VsockSock s = core.create(type, io.vsocksim.uapi.Capability.ALL);
        s.lockSock();
        try {
            check(core.bindConnectible(s, VmSockets.VMADDR_CID_ANY, port));
            s.skState = TcpState.TCP_LISTEN;
            s.maxAckBacklog = backlog;
        } finally {
            s.releaseSock();
        }
        return s;
    }

    /** socket() + the steps of vsock_connect() up to the REQUEST (no waiting). */
    public VsockSock connect(int type, int cid, int port) {
        VsockSock s = core.create(type, io.vsocksim.uapi.Capability.ALL);
        s.lockSock();
        try {
            s.remoteAddr = new SockaddrVm(cid, port);
            check(core.assignTransport(s, null));
            check(core.bindConnectible(s, VmSockets.VMADDR_CID_ANY, VmSockets.VMADDR_PORT_ANY));
            s.skState = TcpState.TCP_SYN_SENT;
            check(s.transport.connect(s));
            s.sockState = SocketState.SS_CONNECTING;
        } finally {
            s.releaseSock();
        }
        return s;
    }

    /** SO_VM_SOCKETS_BUFFER_SIZE on {@code s}: the transport takes the size and sends a CREDIT_UPDATE. */
    public void setBufferSize(VsockSock s, long size) {
        s.lockSock();
        try {
            s.bufferSize = size;
            s.transport.notifyBufferSize(s, size);
        } finally {
            s.releaseSock();
        }
    }

    /** vsock_accept() without waiting: the first child, or null. */
    public VsockSock accept(VsockSock listener) {
        listener.lockSock();
        try {
            VsockSock c = listener.acceptQueue.pollFirst();
            if (c == null) {
                return null;
            }
            listener.ackBacklog--;
            c.listener = null;
            c.sockState = SocketState.SS_CONNECTED;
            c.sockPut(); // the accept queue's reference moves to the caller's initial one
            return c;
        } finally {
            listener.releaseSock();
        }
    }

    /** One sendmsg round (a transport enqueue call). */
    public long send(VsockSock s, byte[] data, int flags) {
        s.lockSock();
        try {
            MsgHdr msg = new MsgHdr().init(ByteBuffer.wrap(data), flags);
            return s.type == Sock.SOCK_STREAM ? s.transport.streamEnqueue(s, msg, data.length)
                    : s.transport.seqpacketEnqueue(s, msg, data.length);
        } finally {
            s.releaseSock();
        }
    }

    /** One STREAM dequeue into a buffer of {@code n} bytes; returns the bytes read (or -errno as length -1 array). */
    public byte[] recv(VsockSock s, int n, int flags) {
        s.lockSock();
        try {
            ByteBuffer b = ByteBuffer.allocate(n);
            long r = s.transport.streamDequeue(s, new MsgHdr().init(b, 0), n, flags);
            if (r < 0) {
                throw new AssertionError("recv failed: " + r);
            }
            byte[] out = new byte[(int) r];
            b.flip();
            b.get(out);
            return out;
        } finally {
            s.releaseSock();
        }
    }

    /** __vsock_release(): what close() does to the socket. */
    public void release(VsockSock s) {
        s.lockSock();
        try {
            s.sockSetFlag(VsockSock.SOCK_DEAD);
            if (s.transport != null) {
                s.transport.release(s);
            } else {
                core.removeSock(s);
            }
            s.skShutdown = Sock.SHUTDOWN_MASK;
            VsockSock pending;
            while ((pending = s.acceptQueue.pollFirst()) != null) {
                release(pending);
                pending.sockPut();
            }
        } finally {
            s.releaseSock();
        }
        s.sockPut();
    }

    public static VirtioVsockSock vvs(VsockSock s) {
        return VirtioTransport.vvs(s);
    }

    public static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new AssertionError("rc=" + rc);
        }
    }
}
