#!/bin/bash
# Boot one Lockstep Lab "kernel host": a user-mode Linux kernel inside the wire network namespace.
# Starts linux.uml detached (own session), writes its PID, returns. See README.md.
#
# Usage:
#   boot-host.sh --name NAME --state-dir DIR --netns NS --nics TAP0,TAP1[,TAP2...] \
#                --ip A.B.C.D/NN --keys-dir DIR [--mem 768M] [--gw A.B.C.D] \
#                [--data-size 256M] [--umid ID] [--macs M0,M1,...] [--ssh-port 22] \
#                [--wait-ready SECONDS]
# Every option can also come from the environment: LAB_NAME, LAB_STATE_DIR, LAB_NETNS,
# LAB_NICS, LAB_IP, LAB_KEYS_DIR, LAB_MEM, LAB_GW, LAB_DATA_SIZE, LAB_UMID, LAB_MACS,
# LAB_SSH_PORT, LAB_WAIT_READY (options win).
#
# NIC order = guest order: the first tap becomes eth0 (public, gets --ip), the second eth1,
# the third eth2 ... The caller decides which of eth1/eth2 is the crossover.
#
# Exit codes: 0 started (and ready if --wait-ready), 2 usage, 3 precondition missing
# (netns, tap, keys, linux.uml), 4 already running, 5 UML died during start or not ready in time.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NAME=${LAB_NAME:-}
STATE=${LAB_STATE_DIR:-}
NETNS=${LAB_NETNS:-}
NICS=${LAB_NICS:-}
IP=${LAB_IP:-}
KEYS=${LAB_KEYS_DIR:-}
MEM=${LAB_MEM:-768M}
GW=${LAB_GW:-none}
DATA_SIZE=${LAB_DATA_SIZE:-256M}
UMID=${LAB_UMID:-}
MACS=${LAB_MACS:-}
SSH_PORT=${LAB_SSH_PORT:-22}
WAIT_READY=${LAB_WAIT_READY:-0}
UML_BIN=${LAB_UML_BIN:-linux.uml}

die() {
  local code=$1
  shift
  echo "boot-host: $*" >&2
  exit "$code"
}
usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h | --help) usage ;;
    --name | --state-dir | --netns | --nics | --ip | --keys-dir | --mem | --gw | --data-size | \
      --umid | --macs | --ssh-port | --wait-ready)
      [ $# -ge 2 ] || die 2 "$opt needs a value"
      val=$2
      shift 2
      ;;
    *) die 2 "unknown argument: $opt (try --help)" ;;
  esac
  case "$opt" in
    --name) NAME=$val ;;
    --state-dir) STATE=$val ;;
    --netns) NETNS=$val ;;
    --nics) NICS=$val ;;
    --ip) IP=$val ;;
    --keys-dir) KEYS=$val ;;
    --mem) MEM=$val ;;
    --gw) GW=$val ;;
    --data-size) DATA_SIZE=$val ;;
    --umid) UMID=$val ;;
    --macs) MACS=$val ;;
    --ssh-port) SSH_PORT=$val ;;
    --wait-ready) WAIT_READY=$val ;;
  esac
done

# ---- validate ---------------------------------------------------------------------------
[ -n "$NAME" ] || die 2 "--name is required"
[ -n "$STATE" ] || die 2 "--state-dir is required"
[ -n "$NETNS" ] || die 2 "--netns is required"
[ -n "$NICS" ] || die 2 "--nics is required"
[ -n "$IP" ] || die 2 "--ip is required"
[ -n "$KEYS" ] || die 2 "--keys-dir is required"
UMID=${UMID:-$NAME}
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,62}$ ]] || die 2 "bad --name '$NAME' (letters, digits, '-')"
[[ $UMID =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]] || die 2 "bad --umid '$UMID'"
[[ $IP =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || die 2 "bad --ip '$IP' (want A.B.C.D/NN)"
[[ $GW == none || $GW =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die 2 "bad --gw '$GW'"
[[ $MEM =~ ^[0-9]+[KMG]?$ ]] || die 2 "bad --mem '$MEM' (e.g. 768M)"
[[ $DATA_SIZE =~ ^[0-9]+[KMG]?$ ]] || die 2 "bad --data-size '$DATA_SIZE' (e.g. 256M)"
[[ $SSH_PORT =~ ^[0-9]+$ ]] || die 2 "bad --ssh-port '$SSH_PORT'"
[[ $WAIT_READY =~ ^[0-9]+$ ]] || die 2 "bad --wait-ready '$WAIT_READY' (seconds)"
# Paths end up in overlay options and on the UML command line: no separators allowed there.
for p in "$STATE" "$KEYS"; do
  [[ $p == /* ]] || die 2 "path must be absolute: $p"
  [[ $p =~ ^[A-Za-z0-9/._+@-]+$ ]] || die 2 "path has characters UML/overlay cannot take: $p"
done
STATE=${STATE%/}
# mconsole is an AF_UNIX socket under $STATE/run/$UMID/: sun_path holds 107 bytes.
[ $((${#STATE} + ${#UMID} + 14)) -le 107 ] || die 2 "state dir path too long for the mconsole socket"

IFS=, read -r -a TAPS <<<"$NICS"
[ "${#TAPS[@]}" -ge 1 ] || die 2 "--nics: at least one tap"
MAC_LIST=()
if [ -n "$MACS" ]; then
  IFS=, read -r -a MAC_LIST <<<"$MACS"
  [ "${#MAC_LIST[@]}" -eq "${#TAPS[@]}" ] || die 2 "--macs must list one MAC per tap"
fi

command -v "$UML_BIN" >/dev/null || die 3 "$UML_BIN not found (apt-get install user-mode-linux)"
[ -e "/run/netns/$NETNS" ] || die 3 "network namespace '$NETNS' does not exist"
for t in "${TAPS[@]}"; do
  [[ $t =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die 2 "bad tap name '$t'"
  ip -n "$NETNS" link show dev "$t" >/dev/null 2>&1 ||
    die 3 "tap '$t' does not exist in netns '$NETNS'"
done
[ -d "$KEYS" ] || die 3 "keys dir '$KEYS' does not exist"
[ -f "$KEYS/authorized_keys" ] || die 3 "no $KEYS/authorized_keys"
compgen -G "$KEYS/ssh_host_*_key" >/dev/null || die 3 "no host key $KEYS/ssh_host_*_key"

# ---- state dir --------------------------------------------------------------------------
mkdir -p "$STATE"
if [ -f "$STATE/uml.pid" ]; then
  old=$(cat "$STATE/uml.pid" 2>/dev/null || true)
  if [[ $old =~ ^[0-9]+$ ]] && [ -r "/proc/$old/cmdline" ] &&
    tr '\0' ' ' <"/proc/$old/cmdline" | grep -q -- "umid=$UMID "; then
    die 4 "host '$NAME' already running (pid $old)"
  fi
  rm -f "$STATE/uml.pid"
fi
mkdir -p "$STATE/upper/etc/lab" "$STATE/work" "$STATE/root" "$STATE/run"
rm -rf "${STATE:?}/run/$UMID" # stale umid dir of a killed run
install -m 0755 "$HERE/init.sh" "$STATE/upper/etc/lab/init"
if [ ! -e "$STATE/data.img" ]; then
  truncate -s "$DATA_SIZE" "$STATE/data.img"
fi
[ -f "$STATE/uml.log" ] && mv -f "$STATE/uml.log" "$STATE/uml.log.1"

# ---- command line -----------------------------------------------------------------------
mac_for() { # deterministic locally administered unicast MAC from name + index
  local h
  h=$(printf '%s/%s' "$NAME" "$1" | md5sum)
  printf '02:%s:%s:%s:%s:%s' "${h:0:2}" "${h:2:2}" "${h:4:2}" "${h:6:2}" "${h:8:2}"
}
# shellcheck disable=SC2054 # commas belong to UML options
ARGS=(
  "umid=$UMID" "uml_dir=$STATE/run" "mem=$MEM"
  root=/dev/root rootfstype=hostfs "rootflags=$STATE/root" rw init=/etc/lab/init
  con0=null,fd:1 con=null ssl=null
  "ubd0=$STATE/data.img" # guest /dev/ubda
)
i=0
for t in "${TAPS[@]}"; do
  mac=${MAC_LIST[$i]:-$(mac_for "$i")}
  ARGS+=("vec$i:transport=tap,ifname=$t,depth=128,gro=1,mac=$mac")
  i=$((i + 1))
done
ARGS+=("lab_name=$NAME" "lab_ip=$IP" "lab_gw=$GW" "lab_keys=$KEYS" "lab_ssh_port=$SSH_PORT")

{
  printf 'NAME=%q\nUMID=%q\nNETNS=%q\nUML_DIR=%q\nIP=%q\nNICS=%q\n' \
    "$NAME" "$UMID" "$NETNS" "$STATE/run" "$IP" "$NICS"
  printf 'MCONSOLE=%q\n' "$STATE/run/$UMID/mconsole"
} >"$STATE/host.env"

# ---- launch -----------------------------------------------------------------------------
# setsid (no fork: we are not a group leader) -> ip netns exec (private mount namespace,
# exec) -> sh mounts the overlay in THAT namespace (it vanishes with the process, so a killed
# host leaves no mount behind) -> exec linux.uml. The PID stays the same all along.
# TMPDIR=/dev/shm: UML backs guest RAM with an unlinked file in TMPDIR.
# shellcheck disable=SC2016
TMPDIR=/dev/shm setsid ip netns exec "$NETNS" /bin/sh -c '
  s=$1; shift
  mount -t overlay "lab-$1" -o "lowerdir=/,upperdir=$s/upper,workdir=$s/work" "$s/root" || exit 97
  shift
  exec "$@"' lab-boot "$STATE" "$NAME" "$UML_BIN" "${ARGS[@]}" \
  </dev/null >"$STATE/uml.log" 2>&1 &
PID=$!
echo "$PID" >"$STATE/uml.pid"

# Started = the kernel created its mconsole socket. Dead before that = failure.
for _ in $(seq 1 200); do
  [ -S "$STATE/run/$UMID/mconsole" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$STATE/uml.pid"
    tail -n 20 "$STATE/uml.log" >&2 || true
    die 5 "UML for '$NAME' exited during start"
  fi
  sleep 0.05
done
[ -S "$STATE/run/$UMID/mconsole" ] || echo "boot-host: warning: no mconsole socket yet" >&2

if [ "$WAIT_READY" -gt 0 ]; then
  deadline=$((SECONDS + WAIT_READY))
  until grep -q '^lab-init: ready' "$STATE/uml.log" 2>/dev/null; do
    if ! kill -0 "$PID" 2>/dev/null; then
      tail -n 20 "$STATE/uml.log" >&2 || true
      die 5 "UML for '$NAME' died while booting"
    fi
    [ $SECONDS -lt $deadline ] || die 5 "'$NAME' not ready after ${WAIT_READY}s (see $STATE/uml.log)"
    sleep 0.2
  done
fi
echo "$PID"
