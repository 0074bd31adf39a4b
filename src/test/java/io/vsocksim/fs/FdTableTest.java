package io.vsocksim.fs;

import static io.vsocksim.uapi.Errno.EBADF;
import static io.vsocksim.uapi.Errno.EINVAL;
import static io.vsocksim.uapi.Errno.EMFILE;
import static io.vsocksim.uapi.Fcntl.FD_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.F_DUPFD;
import static io.vsocksim.uapi.Fcntl.F_DUPFD_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.F_GETFD;
import static io.vsocksim.uapi.Fcntl.F_GETFL;
import static io.vsocksim.uapi.Fcntl.F_SETFD;
import static io.vsocksim.uapi.Fcntl.F_SETFL;
import static io.vsocksim.uapi.Fcntl.O_APPEND;
import static io.vsocksim.uapi.Fcntl.O_CLOEXEC;
import static io.vsocksim.uapi.Fcntl.O_DIRECT;
import static io.vsocksim.uapi.Fcntl.O_NONBLOCK;
import static io.vsocksim.uapi.Fcntl.O_RDWR;
import static org.assertj.core.api.Assertions.assertThat;

import io.vsocksim.uapi.Fcntl;
import org.junit.jupiter.api.Test;

/** fs/file.c and fs/fcntl.c rules for a descriptor table, on files that count their references. */
class FdTableTest {
    /** A file that counts references and remembers its release. */
    static final class CountingFile implements OpenFile {
        int refs = 1;
        int releases;
        int flags = O_RDWR;

        @Override
        public boolean tryGetFile() {
            if (refs == 0) {
                return false;
            }
            refs++;
            return true;
        }

        @Override
        public void putFile() {
            if (--refs == 0) {
                releases++;
            }
        }

        @Override
        public int fileFlags() {
            return flags;
        }

        @Override
        public void setStatusFlags(int f) {
            flags = (flags & ~Fcntl.SETFL_MASK) | f;
        }

        @Override
        public long fileIoctl(int cmd, long arg) {
            return -25;
        }

        @Override
        public int filePoll() {
            return 0;
        }

        @Override
        public io.vsocksim.kernel.WaitQueueHead fileWaitQueue() {
            return null;
        }
    }

    private final FdTable t = new FdTable();

    @Test
    void shouldHandOutTheLowestFreeDescriptorWhenInstallingAndReuseItAfterClose() {
        CountingFile a = new CountingFile();
        CountingFile b = new CountingFile();
        CountingFile c = new CountingFile();
        assertThat(t.install(a, 0)).isZero();
        assertThat(t.install(b, 0)).isEqualTo(1);
        assertThat(t.install(c, 0)).isEqualTo(2);
        assertThat(t.close(1)).isZero();
        assertThat(b.releases).isEqualTo(1);
        assertThat(t.close(1)).isEqualTo(-EBADF);
        CountingFile d = new CountingFile();
        assertThat(t.install(d, 0)).as("lowest free").isEqualTo(1);
        assertThat(t.openDescriptors()).containsExactly(0, 1, 2);
        assertThat(t.close(-1)).isEqualTo(-EBADF);
        assertThat(t.close(999)).isEqualTo(-EBADF);
    }

    @Test
    void shouldReleaseTheFileAtTheLastReferenceWhenDescriptorsAndCallsHoldIt() {
        CountingFile a = new CountingFile();
        int fd = t.install(a, 0);
        int fd2 = t.dup(fd);
        assertThat(fd2).isEqualTo(1);
        assertThat(a.refs).isEqualTo(2);
        OpenFile inCall = t.fget(fd); // a call in progress
        assertThat(t.close(fd)).isZero();
        assertThat(t.close(fd2)).isZero();
        assertThat(a.releases).as("the call still holds it").isZero();
        inCall.putFile();
        assertThat(a.releases).isEqualTo(1);
        assertThat(t.fget(fd)).isNull();
    }

    @Test
    void shouldFollowDup2AndDup3RulesWhenTargetsAreEqualOutOfRangeOrInUse() {
        CountingFile a = new CountingFile();
        CountingFile b = new CountingFile();
        t.install(a, 0);
        t.install(b, 0);
        assertThat(t.dup2(0, 0)).as("same open descriptor").isZero();
        assertThat(t.dup2(5, 5)).as("same closed descriptor").isEqualTo(-EBADF);
        assertThat(t.dup3(0, 0, 0)).isEqualTo(-EINVAL);
        assertThat(t.dup3(0, 3, O_NONBLOCK)).isEqualTo(-EINVAL);
        assertThat(t.dup3(7, 3, 0)).as("closed oldfd").isEqualTo(-EBADF);
        assertThat(t.dup3(0, t.rlimitNofile(), 0)).as("newfd at the limit").isEqualTo(-EBADF);
        assertThat(t.dup3(0, -1, 0)).isEqualTo(-EBADF);

        assertThat(t.dup2(0, 1)).as("replaces b").isEqualTo(1);
        assertThat(b.releases).isEqualTo(1);
        assertThat(a.refs).isEqualTo(2);
        assertThat(t.dup3(0, 40, O_CLOEXEC)).isEqualTo(40);
        assertThat(t.fcntl(40, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(t.fcntl(1, F_GETFD, 0)).as("dup2 never sets close-on-exec").isZero();
        assertThat(t.dup(0)).as("lowest free, below 40").isEqualTo(2);
    }

    @Test
    void shouldFailWithEmfileWhenTheLimitIsReached() {
        assertThat(t.setRlimitNofile(3)).isZero();
        CountingFile a = new CountingFile();
        t.install(a, 0);
        assertThat(t.dup(0)).isEqualTo(1);
        assertThat(t.dup(0)).isEqualTo(2);
        assertThat(t.dup(0)).isEqualTo(-EMFILE);
        CountingFile b = new CountingFile();
        assertThat(t.install(b, 0)).isEqualTo(-EMFILE);
        assertThat(b.refs).as("the caller keeps its reference").isEqualTo(1);
        assertThat(t.fcntl(0, F_DUPFD, 3)).as("F_DUPFD at the limit").isEqualTo(-EINVAL);
        assertThat(t.fcntl(0, F_DUPFD, 0)).isEqualTo(-EMFILE);
        assertThat(t.setRlimitNofile(-1)).isEqualTo(-EINVAL);
    }

    @Test
    void shouldDupAtOrAboveTheArgumentWhenFcntlDupfd() {
        CountingFile a = new CountingFile();
        t.install(a, 0);
        assertThat(t.fcntl(0, F_DUPFD, 10)).isEqualTo(10);
        assertThat(t.fcntl(0, F_DUPFD, 10)).isEqualTo(11);
        assertThat(t.fcntl(0, F_DUPFD_CLOEXEC, 10)).isEqualTo(12);
        assertThat(t.fcntl(12, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(t.fcntl(11, F_GETFD, 0)).isZero();
        assertThat(t.fcntl(0, F_DUPFD, -1)).as("an unsigned int: huge").isEqualTo(-EINVAL);
        assertThat(t.fcntl(0, F_DUPFD, 0)).as("0 is taken: lowest free is 1").isEqualTo(1);
        assertThat(a.refs).isEqualTo(5);
    }

    @Test
    void shouldKeepFlagsWhereFcntlPutsThem() {
        CountingFile a = new CountingFile();
        t.install(a, 0);
        assertThat(t.fcntl(0, F_SETFD, FD_CLOEXEC | 2)).isZero();
        assertThat(t.fcntl(0, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);
        assertThat(t.fcntl(0, F_GETFL, 0)).isEqualTo(O_RDWR);
        assertThat(t.fcntl(0, F_SETFL, O_NONBLOCK | O_APPEND | O_RDWR | O_CLOEXEC)).isZero();
        assertThat(t.fcntl(0, F_GETFL, 0)).as("only SETFL_MASK bits change").isEqualTo(O_RDWR | O_NONBLOCK | O_APPEND);
        assertThat(t.fcntl(0, F_SETFL, O_DIRECT)).as("a socket cannot do O_DIRECT").isEqualTo(-EINVAL);
        assertThat(t.fcntl(0, F_GETFL, 0)).isEqualTo(O_RDWR | O_NONBLOCK | O_APPEND);
        assertThat(t.fcntl(0, 9999, 0)).isEqualTo(-EINVAL);
        assertThat(t.fcntl(5, F_GETFL, 0)).isEqualTo(-EBADF);
        assertThat(t.setCloseOnExec(5, true)).isEqualTo(-EBADF);
    }

    @Test
    void shouldShareFilesWithTheChildWhenForkingAndCloseOnlyCloexecOnesAtExec() {
        CountingFile a = new CountingFile();
        CountingFile b = new CountingFile();
        t.install(a, 0);
        t.install(b, O_CLOEXEC);
        FdTable child = t.fork();
        assertThat(a.refs).isEqualTo(2);
        assertThat(b.refs).isEqualTo(2);
        assertThat(child.fcntl(1, F_GETFD, 0)).isEqualTo(FD_CLOEXEC);

        child.closeOnExec();
        assertThat(child.openDescriptors()).containsExactly(0);
        assertThat(b.refs).isEqualTo(1);
        assertThat(child.install(new CountingFile(), 0)).as("the freed number is reused").isEqualTo(1);

        t.closeAll();
        assertThat(a.releases).as("the child still holds a").isZero();
        assertThat(b.releases).isEqualTo(1);
        child.closeAll();
        assertThat(a.releases).isEqualTo(1);
    }
}
