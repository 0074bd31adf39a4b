#!/usr/bin/env bash
# Unpacks, for reading only (never for copying into the project), the Linux 6.12.117 files around
# af_vsock that the simulator's process and system-call layer cites: net/socket.c, net/core/sock.c,
# the descriptor, fcntl, poll/select, epoll and pipe code, and signal delivery. Same Debian package
# as ../shared/tools/kernel-source.sh (linux-source-6.12, version 6.12.117-1~deb12u1), which unpacks
# the vsock, vhost and virtio files; both may share one DEST.
# Usage: scripts/kernel-source-extra.sh [DEST]   (default DEST: /tmp/linux-6.12)
set -euo pipefail
dest=${1:-/tmp/linux-6.12}
version=6.12.117-1~deb12u1
files=(
  net/socket.c net/core/sock.c
  fs/file.c fs/fcntl.c fs/ioctl.c fs/select.c fs/eventpoll.c fs/pipe.c fs/anon_inodes.c fs/eventfd.c
  include/linux/pipe_fs_i.h include/linux/poll.h include/linux/fdtable.h include/linux/file.h
  include/uapi/linux/eventpoll.h include/uapi/linux/poll.h include/uapi/asm-generic/poll.h
  include/uapi/asm-generic/fcntl.h include/uapi/asm-generic/errno.h include/uapi/asm-generic/errno-base.h
  include/linux/errno.h include/linux/restart_block.h
  kernel/signal.c kernel/fork.c kernel/exit.c kernel/time/hrtimer.c kernel/time/time.c
  arch/x86/kernel/signal.c include/linux/signal.h include/uapi/asm-generic/signal-defs.h
  Makefile
)
missing=0
for f in "${files[@]}"; do [ -f "$dest/$f" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$dest"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
(cd "$work" && apt-get download "linux-source-6.12=$version" >/dev/null 2>&1) || {
  apt-get update >/dev/null 2>&1
  (cd "$work" && apt-get download "linux-source-6.12=$version" >/dev/null)
}
dpkg-deb --fsys-tarfile "$work"/linux-source-6.12_*.deb | tar -x -C "$work" --wildcards './usr/src/linux-source-6.12.tar.xz'
mkdir -p "$dest"
tar -xJf "$work/usr/src/linux-source-6.12.tar.xz" -C "$dest" --strip-components=1 \
  "${files[@]/#/linux-source-6.12/}"
echo "$dest (Linux 6.12.$(sed -n 's/^SUBLEVEL = //p' "$dest/Makefile"))"
