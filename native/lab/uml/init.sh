#!/bin/bash
# PID 1 of a Lockstep Lab "kernel host" (user-mode Linux, or a QEMU VM: ../vm/boot-host.sh).
#
# The root file system is the machine's / seen through an overlay (writes land in the host's
# state dir), so this script must not depend on anything beyond what the machine has installed.
# boot-host.sh copies it to /etc/lab/init inside the overlay and passes init=/etc/lab/init.
#
# Kernel command line parameters read here (from /proc/cmdline):
#   lab_name=NAME        hostname (= DRBD "on" name)                     required
#   lab_ip=A.B.C.D/NN    address of eth0 (the public NIC)                  required
#   lab_gw=A.B.C.D       default gateway on eth0 ("none" or absent: no default route)
#   lab_keys=/host/dir   directory ON THE MACHINE holding ssh_host_*_key (+ .pub) and
#                        authorized_keys; read once through hostfs        required
#                        (QEMU hosts: lab_keys=9p:TAG, the same dir shared over 9p)
#   lab_modules=9p:TAG   QEMU hosts: the kernel's module tree, shared over 9p
#                        (UML hosts: /usr/lib/uml/modules through hostfs)
#   lab_ssh_port=N       sshd port (default 22)
#
# Shutdown: mconsole "cad" -> kernel sends SIGINT to PID 1 (ctrl-alt-del=0 is set below),
# a SIGTERM to PID 1 does the same. mconsole "halt" stops the kernel without involving init
# (like pulling the plug).
# Console lines start with "lab-init:"; "lab-init: ready" means sshd is listening.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C
umask 022

log() { echo "lab-init: $*"; }

# ---- early mounts -----------------------------------------------------------------------
mountpoint -q /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
mountpoint -q /sys || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mountpoint -q /dev || mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000,nosuid,noexec devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
# devtmpfs lacks the symlinks udev would make; bash process substitution needs /dev/fd
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
# tmpfs over the machine's private places: nothing of /root, /home, /tmp, /run leaks in,
# and nothing written there lands in the overlay.
mount -t tmpfs -o nosuid,nodev,mode=0755,size=64m tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=0700,size=64m tmpfs /root
mount -t tmpfs -o nosuid,nodev,mode=0755,size=16m tmpfs /home
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp

read -r CMDLINE </proc/cmdline
LAB_NAME='' LAB_IP='' LAB_GW='' LAB_KEYS='' LAB_MODULES='' LAB_SSH_PORT=22
for w in $CMDLINE; do
  case "$w" in
    lab_name=*) LAB_NAME=${w#*=} ;;
    lab_ip=*) LAB_IP=${w#*=} ;;
    lab_gw=*) LAB_GW=${w#*=} ;;
    lab_keys=*) LAB_KEYS=${w#*=} ;;
    lab_modules=*) LAB_MODULES=${w#*=} ;;
    lab_ssh_port=*) LAB_SSH_PORT=${w#*=} ;;
  esac
done
log "booting name=${LAB_NAME:-?} ip=${LAB_IP:-?} kernel=$(uname -r)"

# ---- identity, sysctls, directories -----------------------------------------------------
if [ -n "$LAB_NAME" ]; then
  echo "$LAB_NAME" >/proc/sys/kernel/hostname
  echo "$LAB_NAME" >/etc/hostname
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$LAB_NAME" >/etc/hosts
fi
echo 0 >/proc/sys/kernel/ctrl-alt-del # cad -> SIGINT to PID 1 instead of an instant reboot
mkdir -p /run/lock /run/sshd /run/lab /var/lib/drbd /var/log
chmod 0755 /run/sshd
[ -e /var/lock ] || mkdir -p /var/lock # Debian: /var/lock -> /run/lock
# Modules of the UML kernel live in /usr/lib/uml/modules/<ver> on the machine; a QEMU host
# gets its kernel's module tree over 9p.
mkdir -p /lib/modules
mount_share() { # SPEC DIR: SPEC is a machine path (hostfs) or 9p:TAG
  case "$1" in
    9p:*) mount -r -t 9p -o "trans=virtio,version=9p2000.L" "${1#9p:}" "$2" ;;
    *) mount -r -t hostfs -o "$1" hostfs "$2" ;;
  esac
}
mount_share "${LAB_MODULES:-/usr/lib/uml/modules}" /lib/modules || log "WARNING: cannot mount the kernel's modules"
# /dev/net/tun appears only once tun is loaded (no udev here to make the static node): a KVM host
# has it, and QEMU's tap NICs for guests need it
modprobe tun 2>/dev/null || log "WARNING: no tun module: guests on this host get no tap NIC"
# The machine's own sshd host keys must not be visible to lab hosts (whiteouts in the overlay).
rm -f /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub

# ---- network ----------------------------------------------------------------------------
ip link set lo up
# UML vector NICs are called vecN; rename them to ethN in the same order (vec0 -> eth0 ...).
# (QEMU's virtio NICs are eth0... already, in PCI slot order.)
for d in /sys/class/net/vec*; do
  [ -e "$d" ] || continue
  n=${d##*/vec}
  ip link set "vec$n" name "eth$n" || log "WARNING: cannot rename vec$n"
done
for d in /sys/class/net/eth*; do
  [ -e "$d" ] || continue
  ip link set "${d##*/}" up
done
# As on a KVM host: the public NIC sits in bridge br0, which carries the host's address (a
# guest's tap joins br0 and is on the public switch). br0 keeps eth0's MAC.
PUB=eth0
if ip link add br0 type bridge stp_state 0 forward_delay 0 2>/dev/null; then
  ip link set br0 address "$(cat /sys/class/net/eth0/address)" &&
    ip link set eth0 master br0 && ip link set br0 up && PUB=br0 ||
    log "WARNING: cannot put eth0 in br0; the address stays on eth0"
else
  log "WARNING: no bridge support in this kernel; the address stays on eth0"
fi
if [ -n "$LAB_IP" ]; then
  ip addr add "$LAB_IP" dev "$PUB" || log "ERROR: cannot set $LAB_IP on $PUB"
fi
if [ -n "$LAB_GW" ] && [ "$LAB_GW" != none ]; then
  ip route add default via "$LAB_GW" dev "$PUB" || log "WARNING: cannot add default via $LAB_GW"
fi

# ---- sshd -------------------------------------------------------------------------------
SSHD_DIR=/run/lab/ssh
mkdir -p /run/lab && mkdir -m 0700 "$SSHD_DIR"
if [ -n "$LAB_KEYS" ]; then
  mkdir -p /run/lab/keysrc
  if mount_share "$LAB_KEYS" /run/lab/keysrc; then
    for k in /run/lab/keysrc/ssh_host_*_key /run/lab/keysrc/authorized_keys; do
      [ -f "$k" ] && cp "$k" "$SSHD_DIR/"
    done
    umount /run/lab/keysrc
  else
    log "ERROR: cannot mount keys dir $LAB_KEYS"
  fi
  rmdir /run/lab/keysrc 2>/dev/null
else
  log "ERROR: no lab_keys= given"
fi
chmod 0600 "$SSHD_DIR"/* 2>/dev/null
HOSTKEYS=''
for k in "$SSHD_DIR"/ssh_host_*_key; do
  [ -f "$k" ] && HOSTKEYS+="HostKey $k"$'\n'
done
if [ -z "$HOSTKEYS" ]; then
  log "WARNING: no host key in lab_keys dir, generating an ephemeral ed25519 key"
  ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/ssh_host_ed25519_key"
  HOSTKEYS="HostKey $SSHD_DIR/ssh_host_ed25519_key"$'\n'
fi
[ -f "$SSHD_DIR/authorized_keys" ] || log "ERROR: no authorized_keys: nobody can log in"
cat >/run/lab/sshd_config <<EOF
Port $LAB_SSH_PORT
ListenAddress 0.0.0.0
${HOSTKEYS}AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 15
ClientAliveCountMax 4
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
PidFile /run/sshd.pid
EOF
# sshd daemonises BEFORE it binds: "ready" only once the port is in LISTEN (0A) state.
port_listening() {
  local hexport line
  hexport=$(printf ':%04X ' "$1")
  while read -r line; do
    set -- $line
    [[ "$2 " == *"$hexport" && $4 == 0A ]] && return 0
  done </proc/net/tcp
  return 1
}
if /usr/sbin/sshd -f /run/lab/sshd_config -E /var/log/lab-sshd.log; then
  for _ in $(seq 1 200); do
    port_listening "$LAB_SSH_PORT" && break
    sleep 0.05
  done
  if port_listening "$LAB_SSH_PORT"; then
    log "ready sshd port $LAB_SSH_PORT"
  else
    log "ERROR: sshd not listening on $LAB_SSH_PORT after 10 s (see /var/log/lab-sshd.log)"
  fi
else
  log "ERROR: sshd failed to start (see /var/log/lab-sshd.log in the overlay)"
fi

# ---- wait for shutdown ------------------------------------------------------------------
shutdown_host() {
  trap '' INT TERM
  log "shutdown requested"
  kill -TERM -1 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    # anything left besides PID 1 and kernel threads (empty cmdline)?
    left=0
    for p in /proc/[0-9]*; do
      p=${p#/proc/}
      [ "$p" = 1 ] && continue
      c=''
      { IFS= read -r -d '' c <"/proc/$p/cmdline"; } 2>/dev/null
      [ -n "$c" ] && left=1 && break
    done
    [ $left = 0 ] && break
    sleep 0.3
  done
  kill -KILL -1 2>/dev/null
  # file systems on lab disks (DRBD devices, ubd/vd, loop), innermost first
  mapfile -t mnts < <(awk '$1 ~ "^/dev/(drbd|ubd|vd|loop)" { print $2 }' /proc/mounts)
  for ((i = ${#mnts[@]} - 1; i >= 0; i--)); do
    umount "${mnts[$i]}" || umount -l "${mnts[$i]}" || log "WARNING: cannot unmount ${mnts[$i]}"
  done
  if [ -e /proc/drbd ]; then
    timeout 15 drbdadm down all 2>&1 | sed 's/^/lab-init: drbdadm: /'
    for r in $(timeout 5 drbdsetup show 2>/dev/null | sed -n 's/^resource \([^ ]*\) {.*/\1/p'); do
      timeout 10 drbdsetup down "$r" >/dev/null 2>&1
    done
    grep -q ' cs:' /proc/drbd && log "WARNING: DRBD still configured at power off"
    rmmod drbd 2>/dev/null
  fi
  umount /lib/modules 2>/dev/null
  sync
  log "power off"
  echo o >/proc/sysrq-trigger
  sleep 10
  log "sysrq poweroff did not happen; trying systemctl poweroff -ff"
  systemctl poweroff -ff
}
trap shutdown_host INT TERM
trap '' HUP PIPE USR1 USR2

while :; do
  sleep 86400 &
  wait $!
done
