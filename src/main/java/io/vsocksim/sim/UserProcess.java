package io.vsocksim.sim;

import io.vsocksim.NotUpstream;
import io.vsocksim.mm.MmStruct;
import io.vsocksim.uapi.ErrnoException;
import io.vsocksim.vsock.VsockSocket;

/**
 * A simulated user process on a {@link Machine}: an address space ({@link MmStruct}) and the sockets it
 * opened. It exists for zerocopy receive (RFC, not upstream): {@link VsockSocket#mmap} maps into this
 * address space, {@code getsockopt(SO_VM_SOCKETS_ZEROCOPY)} and {@link #madvise} take its addresses, and
 * {@link #read}/{@link #readByte} are what the process sees (a {@link io.vsocksim.mm.SegmentationFault}
 * where nothing is mapped).
 *
 * <p>{@link #close()} is process exit: its mappings go (pages mapped from sockets return to their
 * allocators); sockets are closed by their owner as usual.
 */
@NotUpstream("virtio/vsock zerocopy RX RFC: user mappings of RX pages")
public final class UserProcess implements AutoCloseable {
    private final Machine machine;
    private final MmStruct mm;

    UserProcess(Machine machine, String name) {
        this.machine = machine;
        this.mm = new MmStruct(machine.kernel().name() + " " + name);
    }

    /** socket(2) in this process. */
    public VsockSocket socket(int type) throws ErrnoException {
        VsockSocket s = machine.socket(type);
        s.attachProcess(mm);
        return s;
    }

    /**
     * madvise(2): {@link io.vsocksim.mm.Mman#MADV_DONTNEED} releases the pages of
     * {@code [addr, addr + len)}; MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL and MADV_WILLNEED are
     * accepted and change nothing on a socket's mapping (see {@link MmStruct#madvise}).
     *
     * @throws ErrnoException EINVAL (unaligned address, unknown advice), ENOMEM (part of the range not
     *                        mapped; the mapped parts are still released)
     */
    public void madvise(long addr, long len, int advice) throws ErrnoException {
        ErrnoException.check(mm.madvise(addr, len, advice), "madvise");
    }

    /** munmap(2). @throws ErrnoException EINVAL */
    public void munmap(long addr, long len) throws ErrnoException {
        ErrnoException.check(mm.munmap(addr, len), "munmap");
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
    public MmStruct mm() {
        return mm;
    }

    /** The machine the process runs on. */
    public Machine machine() {
        return machine;
    }

    /** Process exit: every mapping is removed and its pages released. */
    @Override
    public void close() {
        mm.exitMmap();
    }
}
