package io.vsocksim.user;

import io.vsocksim.fs.FdTable;
import io.vsocksim.kernel.Cred;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.mm.UserBuffer;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.user.internal.UserInternals;
import io.vsocksim.vsock.VsockSock;
import java.nio.ByteBuffer;

/** The user package's side of {@link UserInternals}: each method is the package-private member it names. */
final class ProcessAccess implements UserInternals.Access {
    @Override
    public Cred cred(UserProcess p) {
        return p.cred();
    }

    @Override
    public FdTable files(UserProcess p) {
        return p.files();
    }

    @Override
    public MmStruct mm(UserProcess p) {
        return p.mm();
    }

    @Override
    public VsockSock sock(VsockSocket s) {
        return s.sock();
    }

    @Override
    public int sendFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        return s.sendFaulting(buf, flags, accessibleBytes);
    }

    @Override
    public int recvFaulting(VsockSocket s, ByteBuffer buf, int flags, int accessibleBytes) throws ErrnoException {
        return s.recvFaulting(buf, flags, accessibleBytes);
    }

    @Override
    public int send(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException {
        return s.send(ub, off, len, flags, accessibleBytes);
    }

    @Override
    public int recv(VsockSocket s, UserBuffer ub, int off, int len, int flags, int accessibleBytes) throws ErrnoException {
        return s.recv(ub, off, len, flags, accessibleBytes);
    }

    @Override
    public long send(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return p.send(fd, ub, off, len, flags, accessibleBytes);
    }

    @Override
    public long recv(UserProcess p, int fd, UserBuffer ub, int off, int len, int flags, int accessibleBytes) {
        return p.recv(fd, ub, off, len, flags, accessibleBytes);
    }
}
