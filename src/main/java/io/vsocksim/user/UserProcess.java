package io.vsocksim.user;

import io.vsocksim.Linux;
import io.vsocksim.fs.EventFd;
import io.vsocksim.fs.EventPoll;
import io.vsocksim.fs.FdTable;
import io.vsocksim.fs.OpenFile;
import io.vsocksim.fs.Pipe;
import io.vsocksim.fs.Select;
import io.vsocksim.fs.VfsIoctl;
import io.vsocksim.kernel.Clock;
import io.vsocksim.kernel.Cred;
import io.vsocksim.kernel.KernelContext;
import io.vsocksim.kernel.TimeDomain;
import io.vsocksim.mm.AnonMemory;
import io.vsocksim.uapi.Mman;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.net.Iovec;
import io.vsocksim.net.SockAddrs;
import io.vsocksim.net.SockIoctl;
import io.vsocksim.net.SocketFile;
import io.vsocksim.sim.Machine;
import io.vsocksim.sim.internal.SimInternals;
import io.vsocksim.uapi.Capability;
import io.vsocksim.uapi.Epoll;
import io.vsocksim.uapi.Errno;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.uapi.PollFd;
import io.vsocksim.uapi.Signal;
import io.vsocksim.uapi.Sock;
import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.UserMsghdr;
import io.vsocksim.uapi.VmSockets;
import io.vsocksim.user.internal.UserInternals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.BitSet;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * A simulated user process on a {@link Machine}: its descriptor table ({@link FdTable}), its address
 * space ({@link MmStruct}), credentials, signal handlers, and the system calls a C program makes by
 * descriptor.
 *
 * <p>One implementation, two faces. The descriptor face ({@link #socket(int, int, int)},
 * {@link #send(int, ByteBuffer, int)}, {@link #dup}, {@link #fcntl}, ...) returns what the C call
 * returns: a descriptor or a count {@code >= 0}, or {@code -errno}; it is the shape for ports of C
 * programs. The object face ({@link #socket(int)}, {@link #fdopen(int)} and {@link VsockSocket}) sits on
 * top of it: a {@link VsockSocket} is a descriptor of this process whose methods make these calls and
 * throw {@link ErrnoException} on a negative result. Below both, a descriptor refers to a
 * {@link SocketFile} (the kernel's socket file); every socket call passes {@link #syscall}: the
 * descriptor is looked up with a reference for the call, this process's credentials are current, and
 * signals are delivered and restart codes applied on the way out.
 *
 * <p>Zerocopy receive (RFC, not upstream): {@code mmap} of a socket descriptor maps into this address
 * space, {@code getsockopt(SO_VM_SOCKETS_ZEROCOPY)} and {@link #madvise} take its addresses, and
 * {@link #read}/{@link #readByte} are what the process sees (a {@link io.vsocksim.uapi.SegmentationFault}
 * where nothing is mapped).
 *
 * <p>{@link #close()} is process exit: every descriptor is closed (object-face sockets included) and
 * every mapping goes (pages mapped from sockets return to their allocators).
 */
public final class UserProcess implements AutoCloseable {
    static {
        // The module's own code reaches a process's tables through UserInternals (JDK SharedSecrets style).
        UserInternals.install(new ProcessAccess());
    }

    private final Machine machine;
    /** The machine's kernel, read on every call (vCPU gate, clock). */
    private final KernelContext kernel;
    private final String name;
    private final MmStruct mm;
    private final FdTable files;
    /** {@code current->cred}: replaced whole by setuid, read by the checks of this process's calls. */
    private volatile Cred cred;
    private final ProcessSignals signals;
    /**
     * Each thread's send/recv call object ({@link #dataCall}), shared by all processes: it refers to a
     * process only during a call, so a thread that outlives a process does not keep it alive.
     */
    private static final ThreadLocal<DataCall> DATA_CALLS = ThreadLocal.withInitial(DataCall::new);
    /** The signal whose default action ended the process, or 0 while it lives. */
    private volatile int exitSignal;
    /** This process's pid, taken from the machine's table on first use. */
    private int pid;
    /** Set by {@link #close()}: the process has ended. */
    private volatile boolean ended;

    /** sigaction(2) handler meaning "ignore the signal". */
    public static final IntConsumer SIG_IGN = sig -> { };
    /** sigaction(2) handler meaning "the default action". */
    public static final IntConsumer SIG_DFL = sig -> { };

    UserProcess(Machine machine, String name) {
        this(machine, name, Cred.ROOT);
    }

    /**
     * A new process named {@code name} on {@code machine}: root (uid 0, every capability), default
     * signal handlers, no descriptors, an empty address space. {@link #close()} is its exit.
     */
    public static UserProcess spawn(Machine machine, String name) {
        return new UserProcess(Objects.requireNonNull(machine, "machine"), Objects.requireNonNull(name, "name"));
    }

    /**
     * The machine's embedder process: the process behind {@link VsockSocket#open(Machine, int)}, a root
     * process named {@code embedder}, made on first use and living as long as the machine. It stands
     * for the JVM that embeds the simulator and is set up as HotSpot sets up a JVM on Linux: SIGPIPE is
     * ignored (a write to a broken connection fails with EPIPE and ends nothing), and the soft
     * RLIMIT_NOFILE is raised to the hard limit ({@code MaxFDLimit}).
     */
    public static UserProcess embedder(Machine machine) {
        return embedder(machine, Capability.ALL);
    }

    /**
     * The embedder process ({@link #embedder(Machine)}) for sockets made with {@code capEffective} (a
     * {@link Capability} bitmask): root for every capability, else a process
     * {@code embedder-caps-<hex>} of uid/gid 65534 holding exactly {@code capEffective}, as a service
     * given capabilities by its unit file would. One per machine and capability set.
     */
    public static UserProcess embedder(Machine machine, long capEffective) {
        Embedders e = SimInternals.core(Objects.requireNonNull(machine, "machine"))
                .attachment(Embedders.class, Embedders::new);
        return e.byCaps.computeIfAbsent(capEffective, caps -> {
            boolean root = caps == Capability.ALL;
            int id = root ? 0 : NOBODY;
            Cred c = new Cred(id, id, id, id, id, id, caps, caps);
            UserProcess p = new UserProcess(machine, root ? "embedder" : "embedder-caps-" + Long.toHexString(caps), c);
            p.sigaction(Signal.SIGPIPE, SIG_IGN, 0);
            p.files.setRlimitNofile(EMBEDDER_NOFILE);
            return p;
        });
    }

    /** A machine's embedder processes by effective capability set: user-space state kept with the machine. */
    private static final class Embedders {
        final Map<Long, UserProcess> byCaps = new ConcurrentHashMap<>();
    }

    /** uid and gid of {@code nobody}: the unprivileged embedder processes run as it. */
    private static final int NOBODY = 65534;
    /** The hard RLIMIT_NOFILE that systemd gives a service (524288), which a JVM raises its soft limit to. */
    static final int EMBEDDER_NOFILE = 524_288;

    UserProcess(Machine machine, String name, Cred cred) {
        this(machine, name, new FdTable(), cred, new ProcessSignals());
    }

    private UserProcess(Machine machine, String name, FdTable files, Cred cred, ProcessSignals signals) {
        this.machine = machine;
        this.kernel = SimInternals.kernel(machine);
        this.name = name;
        this.mm = new MmStruct(kernel.name() + " " + name);
        this.files = files;
        this.cred = cred;
        this.signals = signals;
    }

    // ---- signals ------------------------------------------------------------------------------------

    /**
     * sigaction(2): {@code handler} is {@link #SIG_DFL}, {@link #SIG_IGN} or a callback that runs on
     * the thread whose call the signal interrupts, before that call returns or restarts. With
     * {@code SA_RESTART} in {@code flags}, a call that the kernel lets restart (a blocking socket call
     * with no timeout: ERESTARTSYS) restarts instead of failing with EINTR. 0, or {@code -EINVAL} for
     * a bad number or SIGKILL/SIGSTOP.
     */
    @Linux(file = "kernel/signal.c", fn = "sys_rt_sigaction")
    public int sigaction(int sig, IntConsumer handler, int flags) {
        ProcessSignals.Action a = handler == SIG_IGN ? ProcessSignals.Action.IGN
                : handler == SIG_DFL || handler == null ? ProcessSignals.Action.DFL
                : new ProcessSignals.Action(handler, false, flags);
        return signals.sigaction(sig, a);
    }

    /**
     * kill(2) to {@code target}: 0, {@code -EINVAL} for a bad number, {@code -ESRCH} if the target has
     * ended, {@code -EPERM} without CAP_KILL unless the sender's real or effective uid is the
     * target's real or saved uid. Signal 0 only checks.
     */
    @Linux(file = "kernel/signal.c", fn = "kill_pid_info")
    @Linux(file = "kernel/signal.c", fn = "kill_ok_by_cred")
    public int kill(UserProcess target, int sig) {
        if (sig < 0 || sig > Signal.NSIG) {
            return -Errno.EINVAL;
        }
        if (target.exitSignal != 0) {
            return -Errno.ESRCH;
        }
        Cred s = cred;
        Cred t = target.cred;
        if (!Capability.has(s.capEffective, Capability.CAP_KILL)
                && s.euid != t.suid && s.euid != t.uid && s.uid != t.suid && s.uid != t.uid) {
            return -Errno.EPERM;
        }
        if (sig != 0) {
            target.signals.send(sig);
        }
        return 0;
    }

    /** The signal whose default action ended this process (e.g. SIGPIPE), or 0 while it lives. */
    public int exitSignal() {
        return exitSignal;
    }

    /** One blocking call as the process makes it: signals delivered around it, restarts as x86's signal code does. */
    @FunctionalInterface
    private interface Body {
        long run();
    }

    /**
     * Runs {@code body} as a system call of this process: pending signals are handled first (the return
     * to user mode before the call), the call is woken by a signal sent meanwhile, and a call that
     * came back with a restart code restarts or fails with EINTR by {@code handle_signal}'s rules:
     * ERESTARTNOINTR always restarts, ERESTARTSYS unless a handler without SA_RESTART ran,
     * ERESTARTNOHAND only if no handler ran. The thread counts as using the machine meanwhile
     * ({@link TimeDomain}).
     */
    @Linux(file = "arch/x86/kernel/signal.c", fn = "handle_signal")
    private long syscall(Body body) {
        kernel.cpus().enter();
        Clock clock = kernel.clock();
        TimeDomain.enterCall(clock); // the thread uses the machine until the call returns (time jumps)
        try {
            return restartable(body);
        } finally {
            TimeDomain.exitCall(clock);
        }
    }

    private long restartable(Body body) {
        if (signals.hasPending()) {
            handled(signals.deliver());
        }
        for (;;) {
            if (exitSignal != 0) {
                return -Errno.EINTR; // the process is gone; its thread makes no more calls
            }
            signals.entering();
            long r;
            try {
                r = body.run();
            } finally {
                signals.leaving();
            }
            int code = (int) -r;
            if (code == Errno.ERESTARTSYS || code == Errno.ERESTARTNOHAND || code == Errno.ERESTARTNOINTR) {
                ProcessSignals.Delivery d = signals.deliver();
                handled(d);
                if (!d.anySignal() || d.fatal() != 0) {
                    return -Errno.EINTR; // a plain Java interrupt stays pending for the caller
                }
                boolean restart = code == Errno.ERESTARTNOINTR
                        || code == Errno.ERESTARTSYS && (!d.handlerRan() || d.allRestart())
                        || code == Errno.ERESTARTNOHAND && !d.handlerRan();
                if (restart) {
                    continue;
                }
                return -Errno.EINTR;
            }
            if (signals.hasPending()) {
                handled(signals.deliver());
            }
            return r;
        }
    }

    /** A fatal default action ends the process: its descriptors and mappings go ({@code do_exit}). */
    private void handled(ProcessSignals.Delivery d) {
        if (d.fatal() != 0 && exitSignal == 0) {
            exitSignal = d.fatal();
            files.closeAll();
            mm.exitMmap();
        }
    }

    /** The process's credentials (a new process is root: uid 0, every capability). */
    Cred cred() {
        return cred;
    }

    /** getuid(2). */
    public int getuid() {
        return cred.uid;
    }

    /** geteuid(2). */
    public int geteuid() {
        return cred.euid;
    }

    /**
     * setuid(2): 0 or {@code -EPERM}. Root becomes {@code uid} in every id and, leaving uid 0, loses its
     * capabilities; from then on CAP_NET_BIND_SERVICE and the other checks of this process's calls fail.
     */
    @Linux(file = "kernel/sys.c", fn = "sys_setuid")
    public int setuid(int uid) {
        Cred n = cred.setuid(uid);
        if (n == null) {
            return -Errno.EPERM;
        }
        cred = n;
        return 0;
    }

    /**
     * fork(2): a child process whose descriptors refer to the same open files (one more reference
     * each, close-on-exec flags copied). SIM: the child's address space starts empty (no mapping is
     * copied).
     */
    @Linux(file = "kernel/fork.c", fn = "copy_files")
    public UserProcess fork() {
        return new UserProcess(machine, name + "+", files.fork(), cred, signals.fork());
    }

    /** execve(2)'s effect on descriptors: every close-on-exec descriptor is closed ({@link FdTable#closeOnExec}). */
    public void exec() {
        files.closeOnExec();
    }

    /** The descriptor table. */
    FdTable files() {
        return files;
    }

    // ---- the descriptor face: C-style system calls --------------------------------------------------

    /** One socket call on an open descriptor, returning the C result. */
    @FunctionalInterface
    interface SocketCall {
        long run(SocketFile s);
    }

    /** fdget, the call, fdput, as a system call of this process ({@link #syscall}). */
    long onSocket(int fd, SocketCall call) {
        return syscall(() -> onSocketOnce(fd, call));
    }

    /**
     * One try of a socket call with this process's credentials current: {@code -EBADF} for a closed
     * descriptor, {@code -ENOTSOCK} for another file, the kernel's code (a restart code included) for
     * a failure.
     */
    private long onSocketOnce(int fd, SocketCall call) {
        // onFileOnce written out: going through it would take a capturing lambda per send and recv
        OpenFile f = files.fget(fd);
        if (f == null) {
            return -Errno.EBADF;
        }
        Cred prev = Cred.enter(cred);
        try {
            return f instanceof SocketFile s ? call.run(s) : -Errno.ENOTSOCK;
        } finally {
            Cred.exit(prev);
            f.putFile();
        }
    }

    /** One call on an open file of any kind. */
    @FunctionalInterface
    private interface FileCall {
        long run(OpenFile f);
    }

    /** fdget, the call with this process's credentials current, fdput: {@code -EBADF} for a closed descriptor. */
    private long onFileOnce(int fd, FileCall call) {
        OpenFile f = files.fget(fd);
        if (f == null) {
            return -Errno.EBADF;
        }
        Cred prev = Cred.enter(cred);
        try {
            return call.run(f);
        } finally {
            Cred.exit(prev);
            f.putFile();
        }
    }

    /**
     * socket(2): a descriptor (the lowest free one) or {@code -errno}: EINVAL for type flags other than
     * SOCK_NONBLOCK/SOCK_CLOEXEC, EAFNOSUPPORT for a family other than AF_VSOCK, then the protocol's
     * checks; EMFILE when the table is full.
     */
    @Linux(file = "net/socket.c", fn = "__sys_socket")
    public int socket(int domain, int type, int protocol) {
        return socket(domain, type, protocol, null);
    }

    /** {@link #socket(int, int, int)}, also giving the new file in {@code created[0]} (when not null). */
    private int socket(int domain, int type, int protocol, SocketFile[] created) {
        if (!SocketFile.typeFlagsValid(type)) {
            return -Errno.EINVAL;
        }
        if (domain != VmSockets.AF_VSOCK) {
            return -Errno.EAFNOSUPPORT;
        }
        SocketFile[] out = new SocketFile[1];
        int rc = SimInternals.sockCreate(machine, type, protocol, cred.capEffective, out);
        if (rc < 0) {
            return rc;
        }
        int fd = files.install(out[0], type & Sock.SOCK_CLOEXEC);
        if (fd < 0) {
            out[0].putFile(); // sock_map_fd failed: the socket is released
        } else if (created != null) {
            created[0] = out[0];
        }
        return fd;
    }

    /**
     * socketpair(2): AF_VSOCK has none ({@code sock_no_socketpair}), so after the checks every family
     * makes (EINVAL for unknown type flags, EMFILE without two free descriptors, EFAULT for a NULL
     * {@code sv}, the family's and protocol's own errors) it is EOPNOTSUPP; no descriptor is used up.
     */
    @Linux(file = "net/socket.c", fn = "__sys_socketpair")
    public int socketpair(int domain, int type, int protocol, int[] sv) {
        if (!SocketFile.typeFlagsValid(type)) {
            return -Errno.EINVAL;
        }
        if (!files.canAllocate(2)) {
            return -Errno.EMFILE;
        }
        if (sv == null || sv.length < 2) {
            return -Errno.EFAULT;
        }
        if (domain != VmSockets.AF_VSOCK) {
            return -Errno.EAFNOSUPPORT;
        }
        SocketFile[] a = new SocketFile[1];
        SocketFile[] b = new SocketFile[1];
        int rc = SimInternals.sockCreate(machine, type, protocol, cred.capEffective, a);
        if (rc == 0) {
            rc = SimInternals.sockCreate(machine, type, protocol, cred.capEffective, b);
        }
        for (SocketFile f : new SocketFile[] {a[0], b[0]}) {
            if (f != null) {
                f.putFile();
            }
        }
        return rc < 0 ? rc : -Errno.EOPNOTSUPP;
    }

    /** close(2): 0 or {@code -EBADF}; the socket is released when no descriptor or call holds it. */
    public int close(int fd) {
        kernel.cpus().enter();
        Clock clock = kernel.clock();
        TimeDomain.enterCall(clock); // a lingering close (SO_LINGER) sleeps in the call, like any other
        try {
            return files.close(fd);
        } finally {
            TimeDomain.exitCall(clock);
        }
    }

    /** dup(2). */
    public int dup(int fd) {
        return files.dup(fd);
    }

    /** dup2(2). */
    public int dup2(int oldfd, int newfd) {
        return files.dup2(oldfd, newfd);
    }

    /** dup3(2). */
    public int dup3(int oldfd, int newfd, int flags) {
        return files.dup3(oldfd, newfd, flags);
    }

    /** fcntl(2): F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL. */
    public long fcntl(int fd, int cmd, long arg) {
        return files.fcntl(fd, cmd, arg);
    }

    /**
     * ioctl(2) with an {@code int *} argument ({@code argp} null is a NULL pointer). The VFS answers
     * FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC and FIOQSIZE (ENOTTY on a socket) itself; every other
     * command goes to the socket ({@code sock_ioctl}, then {@code vsock_ioctl}: only SIOCOUTQ in 6.12.117), whose
     * result is returned and, for those, also stored in {@code argp}.
     */
    public long ioctl(int fd, int cmd, IntBuffer argp) {
        return VfsIoctl.ioctl(files, fd, cmd, argp, this::sockIoctl);
    }

    /** bind(2) to {@code (cid, port)}. */
    public int bind(int fd, int cid, int port) {
        return bind(fd, new SockaddrVm(cid, port));
    }

    /** bind(2) with a {@code struct sockaddr_vm}; null is a NULL address of full length (EFAULT). */
    public int bind(int fd, SockaddrVm addr) {
        return (int) onSocket(fd, s -> s.bind(addr));
    }

    /**
     * listen(2): a {@code backlog} above the machine's {@code net.core.somaxconn} (unsigned, so a
     * negative one too) is lowered to it.
     */
    public int listen(int fd, int backlog) {
        return (int) onSocket(fd, s -> s.listen(backlog));
    }

    /**
     * accept4(2): the accepted connection as a new descriptor (SOCK_CLOEXEC: close-on-exec,
     * SOCK_NONBLOCK: non-blocking file), or {@code -errno}: EBADF, then EINVAL for other flag bits, then
     * ENOTSOCK; EMFILE when the table is full (SIM: the connection is then released; 6.12.117 reserves
     * the descriptor before it takes the connection off the queue).
     */
    @Linux(file = "net/socket.c", fn = "__sys_accept4_file")
    public int accept4(int fd, int flags) {
        return accept4(fd, flags, null);
    }

    /** {@link #accept4(int, int)}, also giving the new file in {@code accepted[0]} (when not null). */
    int accept4(int fd, int flags, SocketFile[] accepted) {
        return (int) syscall(() -> onFileOnce(fd, f -> {
            if ((flags & ~(Sock.SOCK_CLOEXEC | Sock.SOCK_NONBLOCK)) != 0) {
                return -Errno.EINVAL;
            }
            if (!(f instanceof SocketFile s)) {
                return -Errno.ENOTSOCK;
            }
            SocketFile[] out = new SocketFile[1];
            int rc = s.accept(flags, out);
            if (rc < 0) {
                return rc;
            }
            int nfd = files.install(out[0], flags & Sock.SOCK_CLOEXEC);
            if (nfd < 0) {
                out[0].putFile();
            } else if (accepted != null) {
                accepted[0] = out[0];
            }
            return nfd;
        }));
    }

    /** connect(2) to {@code (cid, port)}. */
    public int connect(int fd, int cid, int port) {
        return connect(fd, new SockaddrVm(cid, port));
    }

    /**
     * connect(2) with a {@code struct sockaddr_vm}, blocking unless the file is O_NONBLOCK (then
     * EINPROGRESS, EALREADY); null is a NULL address of full length (EFAULT).
     */
    public int connect(int fd, SockaddrVm addr) {
        return (int) onSocket(fd, s -> s.connect(addr));
    }

    /**
     * send(2), which is sendto(2) without an address: bytes sent (the buffer's position moves by them)
     * or {@code -errno}. EPIPE on a stream socket without MSG_NOSIGNAL also sends SIGPIPE to this
     * process, whose default action ends it.
     */
    public long send(int fd, ByteBuffer buf, int flags) {
        return dataCall(true, fd, buf, flags);
    }

    /** recv(2): bytes received (0 at end of stream) or {@code -errno}. */
    public long recv(int fd, ByteBuffer buf, int flags) {
        return dataCall(false, fd, buf, flags);
    }

    /**
     * send(2) or recv(2) through the calling thread's reusable call object, so that the data path
     * allocates nothing per call (a lambda per call would). A call made while the thread's object is
     * in use (from a signal handler run inside another call) gets one of its own.
     */
    private long dataCall(boolean send, int fd, ByteBuffer buf, int flags) {
        DataCall c = DATA_CALLS.get();
        if (c.busy) {
            c = new DataCall();
        }
        c.busy = true;
        c.proc = this;
        c.send = send;
        c.fd = fd;
        c.buf = buf;
        c.flags = flags;
        try {
            return syscall(c);
        } finally {
            c.proc = null;
            c.buf = null;
            c.busy = false;
        }
    }

    /** One send(2) or recv(2): the system call ({@link Body}) and what it does on the socket ({@link SocketCall}). */
    private static final class DataCall implements Body, SocketCall {
        UserProcess proc;
        boolean busy;
        boolean send;
        int fd;
        ByteBuffer buf;
        int flags;

        @Override
        public long run() {
            return proc.onSocketOnce(fd, this);
        }

        @Override
        public long run(SocketFile s) {
            return send ? proc.sendNamed(s, buf, flags & ~Sock.MSG_INTERNAL_SENDMSG_FLAGS, false)
                    : s.recv(buf, null, flags, null);
        }
    }

    /**
     * send(2) from this process's memory: {@code len} bytes at {@code addr} (anonymous memory from
     * {@link #mmap}; MSG_ZEROCOPY can pin its pages). Bytes that are not mapped readable fault: a short
     * count, or the transport's ENOMEM when nothing could be sent, as in Linux.
     */
    public long send(int fd, long addr, long len, int flags) {
        AnonMemory.Span span = AnonMemory.span(mm, addr, len, false);
        return send(fd, span.block(), span.offset(), sizeT(len), flags, span.accessible());
    }

    /**
     * send(2) of {@code len} bytes at {@code off} of user memory {@code ub} of which
     * {@code accessibleBytes} are mapped (see {@link VsockSocket#send(UserBuffer, int, int, int, int)});
     * EPIPE without MSG_NOSIGNAL raises SIGPIPE.
     */
    long send(int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return onSocket(fd, s -> sigpipeAfter(s, s.sigpipes(),
                s.send(ub, off, len, flags & ~Sock.MSG_INTERNAL_SENDMSG_FLAGS, accessibleBytes)));
    }

    /** recv(2) into user memory, as {@link #send(int, UserBuffer, int, int, int, int)} sends from it. */
    long recv(int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return onSocket(fd, s -> s.recv(ub, off, len, flags, accessibleBytes));
    }

    /**
     * recv(2) into this process's memory: {@code len} bytes at {@code addr}; EFAULT when data would
     * land on bytes that are not mapped writable (NULL included).
     */
    public long recv(int fd, long addr, long len, int flags) {
        AnonMemory.Span span = AnonMemory.span(mm, addr, len, true);
        return recv(fd, span.block(), span.offset(), sizeT(len), flags, span.accessible());
    }

    /** A {@code size_t} length as the int the socket calls take: anything above INT_MAX is "huge" (-1). */
    private static int sizeT(long len) {
        return len < 0 || len > Integer.MAX_VALUE ? -1 : (int) len;
    }

    /** shutdown(2). */
    public int shutdown(int fd, int how) {
        return (int) onSocket(fd, s -> s.shutdown(how));
    }

    /** setsockopt(2) with an {@code int} value. */
    public int setsockoptInt(int fd, int level, int optname, int value) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
        return setsockopt(fd, level, optname, b, 4);
    }

    /**
     * setsockopt(2) with a raw value: {@code optlen} bytes read little-endian from {@code optval}'s
     * index 0 (a {@code struct linger}, a u64 buffer size). A null {@code optval}, or one smaller than
     * what the option reads, is EFAULT after the option's length check. 0 or {@code -errno}.
     */
    public int setsockopt(int fd, int level, int optname, ByteBuffer optval, int optlen) {
        return (int) onSocket(fd, s -> s.setsockopt(level, optname, optval, optlen));
    }

    /**
     * getsockopt(2): fills {@code optval} from index 0, returns the resulting optlen or {@code -errno}.
     * A null {@code optval}, or one smaller than the bytes to copy, is EFAULT.
     * {@code SO_VM_SOCKETS_ZEROCOPY} (RFC) takes addresses of this process's mappings.
     */
    public int getsockopt(int fd, int level, int optname, ByteBuffer optval, int optlen) {
        return (int) onSocket(fd, s -> s.getsockopt(level, optname, optval, optlen, mm));
    }

    /**
     * poll(2) over any descriptors of this process: the number with a non-zero {@code revents}, 0 on
     * timeout, or {@code -errno} (EINVAL: more than RLIMIT_NOFILE; EINTR: interrupted). A closed
     * descriptor reports POLLNVAL; a negative one is skipped. The timeout runs on this machine's clock;
     * its end is fixed when the call starts, so a poll restarted after a signal (no handler ran) waits
     * only for what is left ({@code do_restart_poll}). With a handler, SA_RESTART or not, it is EINTR.
     */
    @Linux(file = "fs/select.c", fn = "do_restart_poll")
    public int poll(PollFd[] fds, int nfds, long timeoutMs) {
        Clock clock = kernel.clock();
        long endTime = Select.pollEndTime(clock, timeoutMs);
        return (int) syscall(() -> Select.poll(files, fds, nfds, endTime, clock));
    }

    /**
     * select(2): each non-null set is replaced by its ready descriptors below {@code nfds}; returns the
     * number of bits set, 0 on timeout, or {@code -errno} (EINVAL, EBADF for a set naming a closed
     * descriptor, EINTR). {@code tv} = {sec, usec}, null to wait forever, updated to the time left.
     */
    public int select(int nfds, BitSet readfds, BitSet writefds, BitSet exceptfds, long[] tv) {
        Clock clock = kernel.clock();
        return (int) syscall(() -> Select.select(files, nfds, readfds, writefds, exceptfds, tv, clock));
    }

    /** epoll_create1(2) ({@link EventPoll#create}). */
    public int epollCreate1(int flags) {
        return EventPoll.create(files, flags, kernel.clock());
    }

    /** epoll_ctl(2) ({@link EventPoll#ctl(FdTable, int, int, int, Epoll.Event)}). */
    public int epollCtl(int epfd, int op, int fd, Epoll.Event event) {
        return EventPoll.ctl(files, epfd, op, fd, event);
    }

    /**
     * epoll_wait(2): how many of {@code events} were filled, 0 on timeout, or {@code -errno} (EBADF,
     * EINVAL for no epoll descriptor or a bad {@code maxevents}, EINTR when interrupted: never restarted).
     */
    public int epollWait(int epfd, Epoll.Event[] events, int maxevents, long timeoutMs) {
        return (int) syscall(() -> EventPoll.wait(files, epfd, events, maxevents, timeoutMs));
    }

    /**
     * poll(2) on one socket descriptor: the revents for {@code events}, waiting up to
     * {@code timeoutMs} (negative: forever, 0 not at all); 0 on timeout, or {@code -errno}.
     */
    public int poll(int fd, int events, long timeoutMs) {
        return (int) onSocket(fd, s -> s.poll(events, timeoutMs));
    }

    // ---- net/socket.c: addresses, messages and the socket ioctls by descriptor ----------------------

    /** getpid(2). SIM: the process is also its own process group leader. */
    public synchronized int getpid() {
        if (pid == 0) {
            pid = SimInternals.pids(machine).alloc(() -> !ended && exitSignal == 0);
        }
        return pid;
    }

    /** The socket ioctls past the VFS: {@code sock_ioctl}, then {@code vsock_ioctl}. */
    private long sockIoctl(OpenFile f, int cmd, IntBuffer argp) {
        if (!(f instanceof SocketFile s)) {
            return -Errno.ENOTTY;
        }
        return SockIoctl.ioctl(s, cmd, argp, SimInternals.pids(machine), cred);
    }

    /**
     * getsockname(2): writes the local {@code struct sockaddr_vm} (16 bytes) at {@code addr}'s position,
     * cut to {@code addrlen[0]} bytes, and sets {@code addrlen[0]} to 16 whatever it was. 0 or
     * {@code -errno}: EFAULT for a NULL {@code addrlen} or a buffer that cannot take the bytes, EINVAL
     * for a negative length.
     */
    @Linux(file = "net/socket.c", fn = "__sys_getsockname")
    public int getsockname(int fd, ByteBuffer addr, int[] addrlen) {
        return (int) onSocket(fd, s -> getname(s, false, addr, addrlen));
    }

    /** getpeername(2): as {@link #getsockname(int, ByteBuffer, int[])}, ENOTCONN unless connected. */
    @Linux(file = "net/socket.c", fn = "__sys_getpeername")
    public int getpeername(int fd, ByteBuffer addr, int[] addrlen) {
        return (int) onSocket(fd, s -> getname(s, true, addr, addrlen));
    }

    /** The protocol's getname, then {@code move_addr_to_user}. */
    private static int getname(SocketFile s, boolean peer, ByteBuffer addr, int[] addrlen) {
        SockaddrVm[] out = new SockaddrVm[1];
        int rc = s.getname(peer, out);
        return rc < 0 ? rc : SockAddrs.moveAddrToUser(out[0], SockaddrVm.SIZE, addr, addrlen);
    }

    /**
     * bind(2) with a raw address of {@code addrlen} bytes at {@code addr}'s position: EINVAL for a
     * length below 0 or above 128, EFAULT for unreadable bytes, then vsock's checks of the address.
     */
    @Linux(file = "net/socket.c", fn = "sys_bind")
    public int bind(int fd, ByteBuffer addr, int addrlen) {
        return (int) onSocket(fd, s -> s.bind(addr, addrlen));
    }

    /** connect(2) with a raw address, checked as {@link #bind(int, ByteBuffer, int)}'s. */
    @Linux(file = "net/socket.c", fn = "sys_connect")
    public int connect(int fd, ByteBuffer addr, int addrlen) {
        return (int) onSocket(fd, s -> s.connect(addr, addrlen));
    }

    /**
     * sendto(2): {@code buf}'s remaining bytes (its position moves by what was sent). A non-NULL
     * {@code addr} is copied in first (EINVAL/EFAULT as for bind); with a non-zero length vsock then
     * refuses it (EISCONN when connected, else EOPNOTSUPP). The kernel-internal send flags are
     * cleared and MSG_DONTWAIT is added for an O_NONBLOCK file. EPIPE on a stream socket without
     * MSG_NOSIGNAL also sends SIGPIPE.
     */
    @Linux(file = "net/socket.c", fn = "__sys_sendto")
    public long sendto(int fd, ByteBuffer buf, int flags, ByteBuffer addr, int addrlen) {
        return onSocket(fd, s -> {
            boolean named = false;
            if (addr != null) {
                int err = SockAddrs.moveAddrToKernel(addr, addrlen);
                if (err < 0) {
                    return err;
                }
                named = addrlen != 0;
            }
            return sendNamed(s, buf, flags & ~Sock.MSG_INTERNAL_SENDMSG_FLAGS, named);
        });
    }

    /** One send through vsock, {@code named} if the msghdr carries a destination ({@code msg_namelen != 0}). */
    private long sendNamed(SocketFile s, ByteBuffer buf, int flags, boolean named) {
        return sigpipeAfter(s, s.sigpipes(), s.send(buf, flags, named));
    }

    /** Raises SIGPIPE if the send that returned {@code ret} decided on one; returns {@code ret}. */
    private long sigpipeAfter(SocketFile s, long sigpipesBefore, long ret) {
        if (s.sigpipes() != sigpipesBefore) {
            // sk_stream_error decided (a stream socket, EPIPE, no MSG_NOSIGNAL): send_sig(SIGPIPE, current)
            signals.send(Signal.SIGPIPE);
        }
        return ret;
    }

    /**
     * recvfrom(2): bytes received into {@code buf} (position advanced) or {@code -errno}. With a
     * non-NULL {@code addr}, the sender's address is copied out after the data: vsock gives none, so
     * {@code addrlen[0]} becomes 0 and no byte of {@code addr} is written; a NULL or negative
     * {@code addrlen} then fails the call (EFAULT, EINVAL) although the data was consumed.
     */
    @Linux(file = "net/socket.c", fn = "__sys_recvfrom")
    public long recvfrom(int fd, ByteBuffer buf, int flags, ByteBuffer addr, int[] addrlen) {
        return onSocket(fd, s -> {
            long n = s.recv(buf, null, flags, null);
            if (n < 0) {
                return n;
            }
            if (addr != null) {
                int err = SockAddrs.moveAddrToUser(null, 0, addr, addrlen);
                if (err < 0) {
                    return err;
                }
            }
            return n;
        });
    }

    /**
     * sendmsg(2) over {@code msg}'s iovec, in order (each segment's position moves by what was taken
     * from it). EINVAL for MSG_CMSG_COMPAT (before the descriptor is looked at); EFAULT for a NULL
     * {@code msg} or iovec array; EINVAL for a negative {@code msg_namelen} with a name, which is then
     * cut to 128 bytes and copied in; EMSGSIZE for more than UIO_MAXIOV segments; ENOBUFS for a
     * {@code msg_controllen} above INT_MAX and EFAULT for an unreadable control buffer; {@code msg_flags}
     * is ignored. Then as {@link #sendto}.
     */
    @Linux(file = "net/socket.c", fn = "____sys_sendmsg")
    public long sendmsg(int fd, UserMsghdr msg, int flags) {
        return onMsg(fd, flags, s -> {
            long total = SockAddrs.copyMsghdrFromUser(msg, true);
            if (total < 0) {
                return total;
            }
            if (msg.controllen < 0) {
                return -Errno.ENOBUFS;
            }
            if (msg.controllen > 0
                    && (msg.control == null || msg.control.capacity() - msg.control.position() < msg.controllen)) {
                return -Errno.EFAULT;
            }
            ByteBuffer data = Iovec.gather(msg.iov, msg.iovlen, (int) total);
            long n = sendNamed(s, data, flags & ~Sock.MSG_INTERNAL_SENDMSG_FLAGS, msg.name != null && msg.namelen != 0);
            Iovec.advance(msg.iov, msg.iovlen, (int) n);
            return n;
        });
    }

    /**
     * recvmsg(2) into {@code msg}'s iovec, filled in order. Checks as {@link #sendmsg}'s (EINVAL for
     * MSG_CMSG_COMPAT, EFAULT, EINVAL for a negative {@code msg_namelen} with a name, EMSGSIZE). On
     * success {@code msg.flags} receives vsock's out flags (MSG_TRUNC, MSG_EOR, MSG_ERRQUEUE,
     * MSG_CTRUNC) plus MSG_CMSG_CLOEXEC if the call passed it; {@code msg.namelen} becomes 0 when
     * {@code msg.name} is set (vsock fills in no address); {@code msg.controllen} becomes the bytes of
     * control data written at {@code msg.control}'s position (its position does not move).
     */
    @Linux(file = "net/socket.c", fn = "____sys_recvmsg")
    public long recvmsg(int fd, UserMsghdr msg, int flags) {
        return onMsg(fd, flags, s -> {
            long total = SockAddrs.copyMsghdrFromUser(msg, false);
            if (total < 0) {
                return total;
            }
            // one segment: straight into it, as the copy to a lone iovec is (and nothing to allocate)
            boolean direct = msg.iovlen == 1 && msg.iov[0] != null && msg.iov[0].remaining() == total;
            ByteBuffer data = direct ? msg.iov[0] : ByteBuffer.allocate((int) total);
            ByteBuffer control = null;
            if (msg.control != null) {
                control = msg.control.duplicate();
                control.limit((int) Math.min(control.limit(), control.position() + Integer.toUnsignedLong(msg.controllen)));
            }
            int[] out = new int[1];
            long n = s.recv(data, control, flags, out);
            if (n < 0) {
                return n;
            }
            if (!direct) {
                Iovec.scatter(data.flip(), msg.iov, msg.iovlen);
            }
            if (msg.name != null) {
                int[] len = {msg.namelen};
                SockAddrs.moveAddrToUser(null, 0, msg.name, len); // cannot fail: the length was checked
                msg.namelen = len[0];
            }
            msg.flags = out[0] | (flags & Sock.MSG_CMSG_CLOEXEC);
            msg.controllen = control == null ? 0 : control.position() - msg.control.position();
            return n;
        });
    }

    /** sendmsg/recvmsg on {@code fd}: EINVAL for MSG_CMSG_COMPAT, which only the compat entry points take. */
    @Linux(file = "net/socket.c", fn = "__sys_sendmsg")
    private long onMsg(int fd, int flags, SocketCall call) {
        if ((flags & Sock.MSG_CMSG_COMPAT) != 0) {
            return -Errno.EINVAL;
        }
        return onSocket(fd, call);
    }

    // ---- memory -------------------------------------------------------------------------------------

    /**
     * mmap(2): the address of the new mapping, or {@code -errno}. With MAP_ANONYMOUS, zeroed memory of
     * this process's machine ({@link AnonMemory}; {@code fd} is ignored, as Linux ignores it); otherwise
     * {@code fd} must be a socket, whose mapping is the zerocopy receive area (RFC). The address hint
     * is not used (no MAP_FIXED). EINVAL: length 0, not exactly one of MAP_SHARED/MAP_PRIVATE, an
     * unaligned offset; EBADF: no such descriptor; ENODEV: a file that cannot be mapped.
     */
    @Linux(file = "mm/mmap.c", fn = "ksys_mmap_pgoff")
    public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        int type = flags & Mman.MAP_TYPE;
        if (length == 0 || (type != Mman.MAP_SHARED && type != Mman.MAP_PRIVATE)
                || (offset & (io.vsocksim.mm.GuestMemory.PAGE_SIZE - 1)) != 0) {
            return -Errno.EINVAL;
        }
        if ((flags & Mman.MAP_ANONYMOUS) != 0) {
            return AnonMemory.mmap(mm, kernel.pages(), length, prot);
        }
        return syscall(() -> onFileOnce(fd, f -> f instanceof SocketFile s ? s.mmap(mm, length, prot) : -Errno.ENODEV));
    }

    /** A store of {@code len} bytes of {@code src} at {@code addr} (a SegmentationFault where not writable). */
    public void write(long addr, byte[] src, int off, int len) {
        mm.write(addr, src, off, len);
    }

    // ---- read(2), write(2), eventfd(2), setsockopt(2) with a buffer --------------------------------

    /** eventfd2(2) ({@link EventFd#create}): a descriptor, or {@code -errno} (EINVAL, EMFILE). */
    public int eventfd(int initval, int flags) {
        return EventFd.create(files, initval, flags, kernel.clock());
    }

    /**
     * pipe2(2) ({@link Pipe#create}): 0 with the read end's descriptor in {@code fds[0]} and the write
     * end's in {@code fds[1]}, or {@code -errno} (EINVAL, EMFILE, EFAULT). A write to a pipe whose read
     * end is closed fails with EPIPE and raises SIGPIPE in this process.
     */
    public int pipe2(int[] fds, int flags) {
        return Pipe.create(files, fds, flags, kernel.clock());
    }

    /**
     * read(2): bytes read into {@code buf} (position advanced), 0 at end of stream, or {@code -errno}. A
     * socket's read is recv(2) without flags ({@code sock_read_iter}: MSG_DONTWAIT when the file is
     * O_NONBLOCK, and 0 at once for an empty buffer); other files read through {@link OpenFile#fileRead}.
     */
    @Linux(file = "net/socket.c", fn = "sock_read_iter")
    public long read(int fd, ByteBuffer buf) {
        return syscall(() -> onFileOnce(fd, f -> !(f instanceof SocketFile s) ? f.fileRead(buf)
                : buf.hasRemaining() ? s.recv(buf, null, 0, null) : 0));
    }

    /**
     * write(2): bytes written from {@code buf} (position advanced) or {@code -errno}. On a socket it is
     * send(2) without MSG_NOSIGNAL ({@code sock_write_iter}, which adds MSG_EOR on SOCK_SEQPACKET), so
     * EPIPE raises SIGPIPE; other files write through {@link OpenFile#fileWrite(ByteBuffer, IntConsumer)}
     * (a pipe without a reader raises SIGPIPE too).
     */
    @Linux(file = "net/socket.c", fn = "sock_write_iter")
    public long write(int fd, ByteBuffer buf) {
        return syscall(() -> onFileOnce(fd, f -> f instanceof SocketFile s
                ? sendNamed(s, buf, s.sock().type == Sock.SOCK_SEQPACKET ? Sock.MSG_EOR : 0, false)
                : f.fileWrite(buf, signals::send)));
    }

    // ---- the object face ----------------------------------------------------------------------------

    /**
     * socket(AF_VSOCK, type, 0) in this process, as an object ({@link VsockSocket}): a descriptor of
     * this process (the lowest free one) behind a handle whose methods are this process's calls.
     */
    public VsockSocket socket(int type) throws ErrnoException {
        return socket(type, 0);
    }

    /** socket(AF_VSOCK, type, protocol) in this process, as an object ({@link #socket(int)}). */
    public VsockSocket socket(int type, int protocol) throws ErrnoException {
        SocketFile[] created = new SocketFile[1];
        int fd = ErrnoException.check(socket(VmSockets.AF_VSOCK, type, protocol, created), "socket");
        return new VsockSocket(this, fd, created[0]);
    }

    /**
     * The socket open at descriptor {@code fd} as an object, as fdopen(3) makes a stream of a
     * descriptor: closing the object closes the descriptor.
     *
     * @throws ErrnoException EBADF if {@code fd} is not open, ENOTSOCK if it is not a socket
     */
    public VsockSocket fdopen(int fd) throws ErrnoException {
        OpenFile f = files.peek(fd);
        if (f == null) {
            throw new ErrnoException(Errno.EBADF, "fdopen");
        }
        if (!(f instanceof SocketFile s)) {
            throw new ErrnoException(Errno.ENOTSOCK, "fdopen");
        }
        return new VsockSocket(this, fd, s);
    }

    /**
     * madvise(2): 0 or {@code -errno}. {@link io.vsocksim.uapi.Mman#MADV_DONTNEED} releases the pages of
     * a socket's mapping in {@code [addr, addr + len)} and zero-fills anonymous memory;
     * MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL and MADV_WILLNEED are accepted and change nothing (see
     * {@link MmStruct#madvise}). EINVAL: unaligned address, unknown advice; ENOMEM: part of the range
     * not mapped (the mapped parts are still advised).
     */
    public int madvise(long addr, long len, int advice) {
        return mm.madvise(addr, len, advice);
    }

    /** munmap(2): 0 or {@code -EINVAL}. Unmapping nothing is not an error. */
    public int munmap(long addr, long len) {
        return mm.munmap(addr, len);
    }

    /** One byte as the process reads it at {@code addr}. */
    public int readByte(long addr) {
        return mm.readByte(addr);
    }

    /** {@code len} bytes from {@code addr} on, as the process reads them. */
    public void read(long addr, byte[] dst, int off, int len) {
        mm.read(addr, dst, off, len);
    }

    /** A little-endian u32 at {@code addr}. */
    public int readU32(long addr) {
        return mm.readU32(addr);
    }

    /** The address space. */
    MmStruct mm() {
        return mm;
    }

    /** The machine the process runs on. */
    public Machine machine() {
        return machine;
    }

    @Override
    public String toString() {
        return "process " + name + " on " + kernel.name();
    }

    /** Process exit: every descriptor is closed, every mapping removed and its pages released. */
    @Override
    public void close() {
        ended = true;
        files.closeAll();
        mm.exitMmap();
    }
}
