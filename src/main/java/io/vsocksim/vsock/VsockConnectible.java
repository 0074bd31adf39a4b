package io.vsocksim.vsock;

import static io.vsocksim.uapi.Errno.EAGAIN;
import static io.vsocksim.uapi.Errno.EDESTADDRREQ;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EISCONN;
import static io.vsocksim.uapi.Errno.ENOMEM;
import static io.vsocksim.uapi.Errno.ENOTCONN;
import static io.vsocksim.uapi.Errno.EOPNOTSUPP;
import static io.vsocksim.uapi.Errno.EPIPE;
import static io.vsocksim.uapi.Sock.MSG_DONTWAIT;
import static io.vsocksim.uapi.Sock.MSG_ERRQUEUE;
import static io.vsocksim.uapi.Sock.MSG_NOSIGNAL;
import static io.vsocksim.uapi.Sock.MSG_OOB;
import static io.vsocksim.uapi.Sock.MSG_PEEK;
import static io.vsocksim.uapi.Sock.MSG_TRUNC;
import static io.vsocksim.uapi.Sock.MSG_WAITALL;
import static io.vsocksim.uapi.Sock.MSG_ZEROCOPY;
import static io.vsocksim.uapi.Sock.RCV_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SEND_SHUTDOWN;
import static io.vsocksim.uapi.Sock.SOCK_SEQPACKET;
import static io.vsocksim.uapi.Sock.SOCK_STREAM;

import io.vsocksim.Linux;
import io.vsocksim.uapi.SockExtendedErr;
import io.vsocksim.uapi.TcpState;
import java.util.function.BooleanSupplier;

/**
 * The data half of af_vsock's connectible proto_ops: sendmsg, recvmsg (STREAM and SEQPACKET) and the
 * data wait. Entry points take the socket lock themselves and return the kernel's result.
 */
public final class VsockConnectible {
    private VsockConnectible() {
    }

    /** True if the socket's error queue holds MSG_ZEROCOPY completions. */
    static boolean errqueueNotEmpty(VsockSock sk) {
        synchronized (sk.errorQueue) {
            return !sk.errorQueue.isEmpty();
        }
    }

    /**
     * Mirrors sock_recv_errqueue(sk, msg, len, SOL_VSOCK, VSOCK_RECVERR): dequeues one completion
     * ({@code msg.errqueueOut}), writes its cmsg into {@code msg.control} as put_cmsg() does
     * (MSG_CTRUNC when there is no room for all of it) and sets MSG_ERRQUEUE. Returns 0 (a completion
     * carries no payload) or {@code -EAGAIN} when the queue is empty. Never blocks.
     */
    @Linux(file = "net/core/sock.c", fn = "sock_recv_errqueue")
    static long sockRecvErrqueue(VsockSock sk, MsgHdr msg, int level, int type) {
        SockExtendedErr serr = UbufInfoMsgzc.dequeueErrSkb(sk);
        if (serr == null) {
            return -EAGAIN;
        }
        msg.errqueueOut = serr;
        putCmsg(msg, level, type, serr);
        msg.msgFlags |= MSG_ERRQUEUE;
        return 0;
    }

    /** Mirrors put_cmsg() for a native (not compat) caller with a 16-byte payload. */
    @Linux(file = "net/core/scm.c", fn = "put_cmsg")
    private static void putCmsg(MsgHdr msg, int level, int type, SockExtendedErr serr) {
        java.nio.ByteBuffer c = msg.control;
        if (c == null || c.remaining() < SockExtendedErr.CMSGHDR_SIZE) {
            msg.msgFlags |= io.vsocksim.uapi.Sock.MSG_CTRUNC;
            return;
        }
        int cmlen = SockExtendedErr.CMSG_LEN;
        if (c.remaining() < cmlen) {
            msg.msgFlags |= io.vsocksim.uapi.Sock.MSG_CTRUNC;
            cmlen = c.remaining();
        }
        java.nio.ByteBuffer tmp = java.nio.ByteBuffer.allocate(SockExtendedErr.CMSG_LEN).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        tmp.putLong(cmlen).putInt(level).putInt(type);
        serr.write(tmp);
        int start = c.position();
        c.put(tmp.array(), 0, cmlen);
        // CMSG_SPACE(16) == CMSG_LEN(16) on x86-64: the cursor moves by min(space, controllen).
        c.position(start + Math.min(SockExtendedErr.CMSG_LEN, cmlen));
    }

    /**
     * Mirrors vsock_connectible_sendmsg(): sends {@code len} bytes of {@code msg}, waiting for credit
     * (SO_SNDTIMEO; not at all with MSG_DONTWAIT). STREAM returns a partial count if anything was
     * queued; SEQPACKET only the whole length. For STREAM the result passes through sk_stream_error.
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_sendmsg")
    public static long sendmsg(VsockSock sk, MsgHdr msg, long len) {
        if ((msg.msgFlags & MSG_OOB) != 0) {
            return -EOPNOTSUPP;
        }
        long err;
        long totalWritten = 0;
        sk.lockSock();
        try {
            VsockTransport transport = sk.transport;
            out:
            {
                if (msg.hasName) {
                    err = sk.skState == TcpState.TCP_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
                    break out;
                }
                if ((sk.skShutdown & SEND_SHUTDOWN) != 0 || (sk.peerShutdown & RCV_SHUTDOWN) != 0) {
                    err = -EPIPE;
                    break out;
                }
                if (transport == null || sk.skState != TcpState.TCP_ESTABLISHED || !sk.localAddr.isBound()) {
                    err = -ENOTCONN;
                    break out;
                }
                if (!sk.remoteAddr.isBound()) {
                    err = -EDESTADDRREQ;
                    break out;
                }
                if ((msg.msgFlags & MSG_ZEROCOPY) != 0 && !transport.msgzerocopyAllow()) {
                    err = -EOPNOTSUPP;
                    break out;
                }
                long timeout = (msg.msgFlags & MSG_DONTWAIT) != 0 ? 0 : sk.sndtimeo;
                err = 0;
                while (totalWritten < len) {
                    while (transport.streamHasSpace(sk) == 0 && sk.skErr == 0
                            && (sk.skShutdown & SEND_SHUTDOWN) == 0 && (sk.peerShutdown & RCV_SHUTDOWN) == 0) {
                        if (timeout == 0) {
                            err = -EAGAIN;
                            break;
                        }
                        long remaining = sk.sleep.waitEventInterruptibleTimeout(sk.lock,
                                WaitConds.of(sk, transport).hasSpace, AfVsock.toNanos(timeout));
                        if (remaining < 0) {
                            err = AfVsock.sockIntrErrno(timeout);
                            break;
                        } else if (remaining == 0) {
                            err = -EAGAIN;
                            break;
                        }
                        timeout = timeout == io.vsocksim.kernel.WaitQueueHead.MAX_SCHEDULE_TIMEOUT ? timeout
                                : Math.max(1, io.vsocksim.kernel.Clock.nanosToJiffies(remaining));
                    }
                    if (err != 0) {
                        break;
                    }
                    if (sk.skErr != 0) {
                        err = -sk.skErr;
                        break;
                    } else if ((sk.skShutdown & SEND_SHUTDOWN) != 0 || (sk.peerShutdown & RCV_SHUTDOWN) != 0) {
                        err = -EPIPE;
                        break;
                    }
                    long written = sk.type == SOCK_SEQPACKET
                            ? transport.seqpacketEnqueue(sk, msg, len - totalWritten)
                            : transport.streamEnqueue(sk, msg, len - totalWritten);
                    if (written < 0) {
                        err = written;
                        break;
                    }
                    totalWritten += written;
                }
                if (totalWritten > 0 && (sk.type == SOCK_STREAM || totalWritten == len)) {
                    err = totalWritten;
                }
            }
            if (sk.type == SOCK_STREAM) {
                err = skStreamError(sk, msg.msgFlags, err);
            }
            return err;
        } finally {
            sk.releaseSock();
        }
    }

    /**
     * Mirrors sk_stream_error(): EPIPE is replaced by a pending socket error (consuming it); a
     * remaining EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
     */
    @Linux(file = "net/core/stream.c", fn = "sk_stream_error")
    private static long skStreamError(VsockSock sk, int flags, long err) {
        if (err == -EPIPE) {
            int pending = AfVsock.sockError(sk);
            err = pending != 0 ? pending : -EPIPE;
        }
        if (err == -EPIPE && (flags & MSG_NOSIGNAL) == 0) {
            sk.sigpipes.incrementAndGet();
        }
        return err;
    }

    /**
     * Mirrors vsock_connectible_recvmsg() / __vsock_connectible_recvmsg(). {@code msg.msgFlags} receives
     * the out flags (MSG_TRUNC, MSG_EOR).
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_connectible_recvmsg")
    public static long recvmsg(VsockSock sk, MsgHdr msg, long len, int flags) {
        msg.msgFlags = 0;
        if ((flags & MSG_ERRQUEUE) != 0) {
            return sockRecvErrqueue(sk, msg, io.vsocksim.uapi.VmSockets.SOL_VSOCK, io.vsocksim.uapi.VmSockets.VSOCK_RECVERR);
        }
        sk.lockSock();
        try {
            VsockTransport transport = sk.transport;
            if (transport == null || sk.skState != TcpState.TCP_ESTABLISHED) {
                return sk.sockFlag(VsockSock.SOCK_DONE) ? 0 : -ENOTCONN;
            }
            if ((flags & MSG_OOB) != 0) {
                return -EOPNOTSUPP;
            }
            if ((sk.skShutdown & RCV_SHUTDOWN) != 0) {
                return 0;
            }
            if (len == 0) {
                return 0;
            }
            return sk.type == SOCK_STREAM ? streamRecvmsg(sk, transport, msg, len, flags)
                    : seqpacketRecvmsg(sk, transport, msg, len, flags);
        } finally {
            sk.releaseSock();
        }
    }

    /**
     * Mirrors vsock_connectible_wait_data(): waits until data is queued (bytes for STREAM, whole
     * messages for SEQPACKET). Returns the amount, 0 when the wait ends on error or shutdown, or
     * {@code -EAGAIN} / {@code -EINTR} / {@code -ERESTARTSYS}.
     *
     * @param msg the call's header; in/out: {@code msg.timeo} jiffies left
     */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_wait_data")
    private static long waitData(VsockSock sk, VsockTransport transport, MsgHdr msg) {
        for (;;) {
            long data = connectibleHasData(sk, transport);
            if (data != 0) {
                return data < 0 ? -ENOMEM : data;
            }
            if (sk.skErr != 0 || (sk.skShutdown & RCV_SHUTDOWN) != 0 || (sk.peerShutdown & io.vsocksim.uapi.Sock.SEND_SHUTDOWN) != 0) {
                return 0;
            }
            if (msg.timeo == 0) {
                return -EAGAIN;
            }
            long t = msg.timeo;
            long remaining = sk.sleep.waitEventInterruptibleTimeout(sk.lock, WaitConds.of(sk, transport).hasData,
                    AfVsock.toNanos(t));
            if (remaining < 0) {
                return AfVsock.sockIntrErrno(t);
            } else if (remaining == 0) {
                msg.timeo = 0;
                return -EAGAIN;
            }
            if (t != io.vsocksim.kernel.WaitQueueHead.MAX_SCHEDULE_TIMEOUT) {
                msg.timeo = Math.max(1, io.vsocksim.kernel.Clock.nanosToJiffies(remaining));
            }
        }
    }

    /** Mirrors vsock_connectible_has_data(). */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "vsock_connectible_has_data")
    static long connectibleHasData(VsockSock sk, VsockTransport transport) {
        return sk.type == SOCK_SEQPACKET ? transport.seqpacketHasData(sk) : transport.streamHasData(sk);
    }

    /** Mirrors __vsock_stream_recvmsg(); socket lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_stream_recvmsg")
    private static long streamRecvmsg(VsockSock sk, VsockTransport transport, MsgHdr msg, long len, int flags) {
        long target = (flags & MSG_WAITALL) != 0 ? len : Math.min(sk.rcvlowat, len);
        target = Math.max(target, 1);
        if (target >= transport.streamRcvhiwat(sk)) {
            return -ENOMEM;
        }
        msg.timeo = (flags & MSG_DONTWAIT) != 0 ? 0 : sk.rcvtimeo;
        long copied = 0;
        long err;
        for (;;) {
            err = waitData(sk, transport, msg);
            if (err <= 0) {
                break;
            }
            long read = transport.streamDequeue(sk, msg, len - copied, flags);
            if (read < 0) {
                err = read;
                break;
            }
            copied += read;
            if (read >= target || (flags & MSG_PEEK) != 0) {
                break;
            }
            target -= read;
        }
        if (sk.skErr != 0) {
            err = -sk.skErr;
        } else if ((sk.skShutdown & RCV_SHUTDOWN) != 0) {
            err = 0;
        }
        if (copied > 0) {
            err = copied;
        }
        return err;
    }

    /** Mirrors __vsock_seqpacket_recvmsg(); socket lock held. */
    @Linux(file = "net/vmw_vsock/af_vsock.c", fn = "__vsock_seqpacket_recvmsg")
    private static long seqpacketRecvmsg(VsockSock sk, VsockTransport transport, MsgHdr msg, long len, int flags) {
        msg.timeo = (flags & MSG_DONTWAIT) != 0 ? 0 : sk.rcvtimeo;
        long err = waitData(sk, transport, msg);
        if (err <= 0) {
            return err;
        }
        int start = msg.position();
        long msgLen = transport.seqpacketDequeue(sk, msg, flags);
        if (msgLen < 0) {
            return msgLen;
        }
        if (sk.skErr != 0) {
            return -sk.skErr;
        } else if ((sk.skShutdown & RCV_SHUTDOWN) != 0) {
            return 0;
        }
        long ret = (flags & MSG_TRUNC) != 0 ? msgLen : msg.position() - start;
        if (msgLen > len) {
            msg.msgFlags |= MSG_TRUNC;
        }
        return ret;
    }

    /**
     * SIM (performance): the two sleep conditions of a socket, built once per (socket, transport)
     * instead of a capturing lambda per sleep. Cached in {@link VsockSock#waitConds}, which is read and
     * written with the socket lock held; immutable, so a sleeper that released the lock keeps a valid
     * instance even if a later caller replaces the cache for another transport.
     */
    static final class WaitConds {
        final VsockTransport transport;
        /** The wait_data condition of vsock_connectible_wait_data(). */
        final BooleanSupplier hasData;
        /** The send-space condition of vsock_connectible_sendmsg(). */
        final BooleanSupplier hasSpace;

        private WaitConds(VsockSock sk, VsockTransport transport) {
            this.transport = transport;
            this.hasData = () -> connectibleHasData(sk, transport) != 0
                    || sk.skErr != 0 || (sk.skShutdown & RCV_SHUTDOWN) != 0
                    || (sk.peerShutdown & io.vsocksim.uapi.Sock.SEND_SHUTDOWN) != 0;
            this.hasSpace = () -> transport.streamHasSpace(sk) != 0 || sk.skErr != 0
                    || (sk.skShutdown & SEND_SHUTDOWN) != 0 || (sk.peerShutdown & RCV_SHUTDOWN) != 0;
        }

        /** The socket's conditions for {@code transport}; socket lock held. */
        static WaitConds of(VsockSock sk, VsockTransport transport) {
            WaitConds c = sk.waitConds;
            if (c == null || c.transport != transport) {
                c = new WaitConds(sk, transport);
                sk.waitConds = c;
            }
            return c;
        }
    }
}
