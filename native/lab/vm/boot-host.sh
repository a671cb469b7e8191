#!/bin/bash
# Boot one Lockstep Lab "kernel host" as a QEMU virtual machine (TCG where there is no KVM)
# inside the wire network namespace: the flavour for machines where user-mode Linux cannot run.
# Same options, NIC order, identity and state-dir layout as ../uml/boot-host.sh, plus
# --kernel-dir (what build.sh made: vmlinux/vmlinuz, initrd.img, modules/) and --accel.
#
# Usage:
#   boot-host.sh --name NAME --state-dir DIR --netns NS --nics TAP0,TAP1[,TAP2...] \
#                --ip A.B.C.D/NN --keys-dir DIR --kernel-dir DIR [--mem 1024M] \
#                [--gw A.B.C.D] [--data-size 256M] [--umid ID] [--macs M0,M1,...] \
#                [--ssh-port 22] [--accel tcg|kvm] [--wait-ready SECONDS]
#
# The host's root is the machine's / under an overlay (writes land in DIR/upper), shared into
# the VM over 9p; its PID 1 is ../uml/init.sh. Its data disk DIR/data.img is /dev/vda inside.
# Console (kernel + init): DIR/vm.log. QMP: DIR/qmp.sock (stop-host.sh uses it).
# Exit codes: 0 started (and ready if --wait-ready), 2 usage, 3 precondition missing,
# 4 already running, 5 QEMU died during start or not ready in time.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME='' STATE='' NETNS='' NICS='' IP='' KEYS='' KDIR='' MEM=1024M GW=none DATA_SIZE=256M
UMID='' MACS='' SSH_PORT=22 WAIT_READY=0 ACCEL=tcg
QEMU_BIN=${LAB_QEMU_BIN:-qemu-system-x86_64}

die() {
  local code=$1
  shift
  echo "boot-host: $*" >&2
  exit "$code"
}
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die 2 "$1 needs a value"
  case "$1" in
    --name) NAME=$2 ;;
    --state-dir) STATE=$2 ;;
    --netns) NETNS=$2 ;;
    --nics) NICS=$2 ;;
    --ip) IP=$2 ;;
    --keys-dir) KEYS=$2 ;;
    --kernel-dir) KDIR=$2 ;;
    --mem) MEM=$2 ;;
    --gw) GW=$2 ;;
    --data-size) DATA_SIZE=$2 ;;
    --umid) UMID=$2 ;;
    --macs) MACS=$2 ;;
    --ssh-port) SSH_PORT=$2 ;;
    --wait-ready) WAIT_READY=$2 ;;
    --accel) ACCEL=$2 ;;
    *) die 2 "unknown argument: $1" ;;
  esac
  shift 2
done

# ---- validate ---------------------------------------------------------------------------
for v in NAME STATE NETNS NICS IP KEYS KDIR; do [ -n "${!v}" ] || die 2 "--$(echo "$v" | tr 'A-Z' 'a-z') is required"; done
UMID=${UMID:-$NAME}
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,62}$ ]] || die 2 "bad --name '$NAME' (letters, digits, '-')"
[[ $UMID =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]] || die 2 "bad --umid '$UMID'"
[[ $IP =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || die 2 "bad --ip '$IP' (want A.B.C.D/NN)"
[[ $GW == none || $GW =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die 2 "bad --gw '$GW'"
[[ $MEM =~ ^[0-9]+[MG]$ ]] || die 2 "bad --mem '$MEM' (e.g. 1024M)"
[[ $DATA_SIZE =~ ^[0-9]+[KMG]?$ ]] || die 2 "bad --data-size '$DATA_SIZE' (e.g. 256M)"
[[ $SSH_PORT =~ ^[0-9]+$ ]] || die 2 "bad --ssh-port '$SSH_PORT'"
[[ $WAIT_READY =~ ^[0-9]+$ ]] || die 2 "bad --wait-ready '$WAIT_READY' (seconds)"
[[ $ACCEL =~ ^(tcg|kvm)$ ]] || die 2 "bad --accel '$ACCEL' (tcg or kvm)"
# paths go into QEMU's comma-separated options and the overlay's: no separators in them
for p in "$STATE" "$KEYS" "$KDIR"; do
  [[ $p == /* ]] || die 2 "path must be absolute: $p"
  [[ $p =~ ^[A-Za-z0-9/._+@-]+$ ]] || die 2 "path has characters QEMU/overlay cannot take: $p"
done
STATE=${STATE%/}
[ $((${#STATE} + 10)) -le 107 ] || die 2 "state dir path too long for the QMP socket"
IFS=, read -r -a TAPS <<<"$NICS"
[ "${#TAPS[@]}" -ge 1 ] && [ "${#TAPS[@]}" -le 8 ] || die 2 "--nics: one to eight taps"
MAC_LIST=()
if [ -n "$MACS" ]; then
  IFS=, read -r -a MAC_LIST <<<"$MACS"
  [ "${#MAC_LIST[@]}" -eq "${#TAPS[@]}" ] || die 2 "--macs must list one MAC per tap"
fi

command -v "$QEMU_BIN" >/dev/null || die 3 "$QEMU_BIN not found (apt-get install -y qemu-system-x86)"
[ -e "/run/netns/$NETNS" ] || die 3 "network namespace '$NETNS' does not exist"
for t in "${TAPS[@]}"; do
  [[ $t =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die 2 "bad tap name '$t'"
  ip -n "$NETNS" link show dev "$t" >/dev/null 2>&1 || die 3 "tap '$t' does not exist in netns '$NETNS'"
done
[ -f "$KEYS/authorized_keys" ] || die 3 "no $KEYS/authorized_keys"
compgen -G "$KEYS/ssh_host_*_key" >/dev/null || die 3 "no host key $KEYS/ssh_host_*_key"
KERNEL=$KDIR/vmlinux
[ -f "$KERNEL" ] || KERNEL=$KDIR/vmlinuz
[ -f "$KERNEL" ] && [ -f "$KDIR/initrd.img" ] && [ -d "$KDIR/modules" ] ||
  die 3 "no kernel host image in $KDIR (build it: npm run build:native)"

# ---- state dir --------------------------------------------------------------------------
mkdir -p "$STATE"
ours() { [[ ${1:-} =~ ^[0-9]+$ ]] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "lab_umid=$UMID "; }
if [ -f "$STATE/vm.pid" ]; then
  old=$(cat "$STATE/vm.pid" 2>/dev/null || true)
  ours "$old" && die 4 "host '$NAME' already running (pid $old)"
  rm -f "$STATE/vm.pid"
fi
mkdir -p "$STATE/upper/etc/lab" "$STATE/work" "$STATE/root"
install -m 0755 "$HERE/../uml/init.sh" "$STATE/upper/etc/lab/init"
[ -e "$STATE/data.img" ] || truncate -s "$DATA_SIZE" "$STATE/data.img"
[ -f "$STATE/vm.log" ] && mv -f "$STATE/vm.log" "$STATE/vm.log.1"
rm -f "$STATE/qmp.sock"

mac_for() { # deterministic locally administered unicast MAC from name + index (as UML's)
  local h
  h=$(printf '%s/%s' "$NAME" "$1" | md5sum)
  printf '02:%s:%s:%s:%s:%s' "${h:0:2}" "${h:2:2}" "${h:4:2}" "${h:6:2}" "${h:8:2}"
}
APPEND="console=ttyS0 panic=-1 net.ifnames=0 quiet rdinit=/init lab_name=$NAME lab_ip=$IP lab_gw=$GW"
APPEND+=" lab_keys=9p:keys lab_modules=9p:modules lab_ssh_port=$SSH_PORT lab_umid=$UMID "
ARGS=(
  -name "lab-$UMID" -machine pc -m "$MEM" -smp 1 -nodefaults -no-user-config
  -display none -vga none -no-reboot -serial "file:$STATE/vm.log"
  -qmp "unix:$STATE/qmp.sock,server=on,wait=off"
  -kernel "$KERNEL" -initrd "$KDIR/initrd.img" -append "$APPEND"
  -fsdev "local,id=root,path=$STATE/root,security_model=passthrough,multidevs=remap"
  -device virtio-9p-pci,fsdev=root,mount_tag=root,addr=0x10
  -fsdev "local,id=modules,path=$KDIR/modules,security_model=none,readonly=on"
  -device virtio-9p-pci,fsdev=modules,mount_tag=modules,addr=0x11
  -fsdev "local,id=keys,path=$KEYS,security_model=none,readonly=on"
  -device virtio-9p-pci,fsdev=keys,mount_tag=keys,addr=0x12
  -drive "file=$STATE/data.img,if=none,id=data,format=raw,cache=none,aio=threads"
  -device virtio-blk-pci,drive=data,serial=lab-data,addr=0x8
)
if [ "$ACCEL" = tcg ]; then ARGS+=(-accel tcg,tb-size=128); else ARGS+=(-accel kvm -cpu host); fi
i=0
for t in "${TAPS[@]}"; do
  mac=${MAC_LIST[$i]:-$(mac_for "$i")}
  # NICs in PCI slot order = eth0, eth1, ... inside (no udev renames them)
  ARGS+=(-netdev "tap,id=n$i,ifname=$t,script=no,downscript=no,vhost=off"
    -device "virtio-net-pci,netdev=n$i,mac=$mac,romfile=,addr=0x$((3 + i))")
  i=$((i + 1))
done
printf 'NAME=%q\nUMID=%q\nNETNS=%q\nIP=%q\nNICS=%q\nQMP=%q\n' "$NAME" "$UMID" "$NETNS" "$IP" "$NICS" "$STATE/qmp.sock" >"$STATE/host.env"

# ---- launch -----------------------------------------------------------------------------
# setsid -> ip netns exec (private mount namespace) -> sh mounts the overlay there (gone with
# the process) -> exec QEMU: the PID stays the same along the chain and leads its session.
# shellcheck disable=SC2016
setsid ip netns exec "$NETNS" /bin/sh -c '
  s=$1; shift
  mount -t overlay "lab-$1" -o "lowerdir=/,upperdir=$s/upper,workdir=$s/work" "$s/root" || exit 97
  shift
  exec "$@"' lab-boot "$STATE" "$NAME" "$QEMU_BIN" "${ARGS[@]}" \
  </dev/null >"$STATE/qemu.err" 2>&1 &
PID=$!
echo "$PID" >"$STATE/vm.pid"

for _ in $(seq 1 200); do
  [ -S "$STATE/qmp.sock" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$STATE/vm.pid"
    tail -n 20 "$STATE/qemu.err" >&2 || true
    die 5 "QEMU for '$NAME' exited during start"
  fi
  sleep 0.05
done
if [ "$WAIT_READY" -gt 0 ]; then
  deadline=$((SECONDS + WAIT_READY))
  until grep -q '^lab-init: ready' "$STATE/vm.log" 2>/dev/null; do
    if ! kill -0 "$PID" 2>/dev/null; then
      tail -n 20 "$STATE/vm.log" "$STATE/qemu.err" >&2 || true
      die 5 "'$NAME' died while booting"
    fi
    [ $SECONDS -lt $deadline ] || die 5 "'$NAME' not ready after ${WAIT_READY}s (see $STATE/vm.log)"
    sleep 0.2
  done
fi
echo "$PID"
