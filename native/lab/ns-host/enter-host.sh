#!/bin/bash
# PID 1-ish of a namespace lab host (run as: ip netns exec NS unshare --uts --mount
# --propagation private enter-host.sh NAME STATE_DIR PROGRAM ARGS...).
# Gives the host its own hostname and its own /var/lib/lockstep, /etc/lockstep,
# and /run/lockstep, so two lab hosts on one machine do not see each other's
# files; then execs PROGRAM (sshd -D), keeping this PID.
set -euo pipefail
name=$1 state=$2
shift 2
hostname "$name"
for d in var-lib-lockstep etc-lockstep run-lockstep; do mkdir -p "$state/fs/$d"; done
mkdir -p /var/lib/lockstep /etc/lockstep /run/lockstep
mount --bind "$state/fs/var-lib-lockstep" /var/lib/lockstep
mount --bind "$state/fs/etc-lockstep" /etc/lockstep
mount -t tmpfs -o mode=0755 tmpfs /run/lockstep
# a KVM host's root has a plain shell: bash sources ~/.bashrc for every SSH command, and this
# machine's (pyenv init, rehash under a lock) made each command slow, and a storm under load
touch "$state/fs/empty-bashrc"
if [ -f /root/.bashrc ]; then mount --bind "$state/fs/empty-bashrc" /root/.bashrc; fi
exec "$@"
