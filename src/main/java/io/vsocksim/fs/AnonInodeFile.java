package io.vsocksim.fs;

import io.vsocksim.Linux;
import io.vsocksim.uapi.Fcntl;

/**
 * A file with no inode of its own ({@code anon_inode_getfile}): an epoll instance or an eventfd, always
 * open for reading and writing ({@link PseudoFile} holds its reference count and flags).
 */
@Linux(file = "fs/anon_inodes.c", fn = "anon_inode_getfile")
abstract class AnonInodeFile extends PseudoFile {
    /** A file with one reference (the descriptor's), O_RDWR, and the status flags of {@code flags}. */
    AnonInodeFile(int flags) {
        super(Fcntl.O_RDWR, flags);
    }
}
