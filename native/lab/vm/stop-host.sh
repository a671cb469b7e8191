#!/bin/bash
# Stop one Lockstep Lab QEMU kernel host started by boot-host.sh (same interface as
# ../uml/stop-host.sh).
#
# Usage: stop-host.sh --state-dir DIR [--mode clean|halt|kill] [--timeout SECONDS]
# clean (default): ctrl-alt-del over QMP -> the lab's init takes DRBD down, stops processes,
#                  syncs, powers off; after --timeout (default 20 s) falls through to halt.
# halt:            QMP "quit" (the machine stops at once = pulled plug); after 5 s -> kill.
# kill:            SIGTERM, then SIGKILL after 3 s, to the QEMU process's whole session.
# Prints one line "stopped NAME by clean|halt|kill|none". Exit: 0 stopped, 2 usage, 6 failed.
set -euo pipefail

STATE='' MODE=clean TIMEOUT=20
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "stop-host: $1 needs a value" >&2; exit 2; }
  case "$1" in
    --state-dir) STATE=$2 ;;
    --mode) MODE=$2 ;;
    --timeout) TIMEOUT=$2 ;;
    *) echo "stop-host: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$STATE" ] || { echo "stop-host: --state-dir is required" >&2; exit 2; }
[[ $MODE =~ ^(clean|halt|kill)$ ]] || { echo "stop-host: bad --mode $MODE" >&2; exit 2; }
[[ $TIMEOUT =~ ^[0-9]+$ ]] || { echo "stop-host: bad --timeout $TIMEOUT" >&2; exit 2; }
STATE=${STATE%/}
[ -f "$STATE/host.env" ] || { echo "stop-host: $STATE/host.env missing (not a boot-host.sh state dir)" >&2; exit 2; }
NAME='' UMID='' QMP=''
# shellcheck disable=SC1091
. "$STATE/host.env"

PID=$(cat "$STATE/vm.pid" 2>/dev/null || true)
ours() { [[ $PID =~ ^[0-9]+$ ]] && [ -r "/proc/$PID/cmdline" ] && tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q -- "lab_umid=$UMID "; }
wait_gone() { # seconds
  local n=$(($1 * 10))
  while [ $n -gt 0 ]; do
    ours || return 0
    sleep 0.1
    n=$((n - 1))
  done
  ! ours
}
qmp() { # one QMP command, best effort (the socket is a file: no namespace needed)
  [ -S "$QMP" ] || return 1
  printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$QMP" >/dev/null 2>&1
}
session_pids() {
  [[ $PID =~ ^[0-9]+$ ]] || return 0
  ps -e -o pid=,sid=,stat= | awk -v s="$PID" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

HOW=none
if ours; then
  if [ "$MODE" = clean ]; then
    HOW=clean
    qmp '{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}' || true
    wait_gone "$TIMEOUT" || MODE=halt
  fi
  if [ "$MODE" = halt ]; then
    HOW=halt
    qmp '{"execute":"quit"}' || true
    wait_gone 5 || MODE='kill'
  fi
  if [ "$MODE" = kill ]; then
    HOW='kill'
    kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
    if ! wait_gone 3; then
      kill -KILL -- "-$PID" 2>/dev/null || kill -KILL "$PID" 2>/dev/null || true
      wait_gone 3 || true
    fi
  fi
fi
left=$(session_pids)
# shellcheck disable=SC2086
[ -z "$left" ] || { kill -KILL $left 2>/dev/null || true; sleep 0.3; }
if ours || [ -n "$(session_pids)" ]; then
  echo "stop-host: could not stop $NAME (pid $PID)" >&2
  exit 6
fi
if mountpoint -q "$STATE/root" 2>/dev/null; then umount "$STATE/root" 2>/dev/null || umount -l "$STATE/root"; fi
rm -f "$STATE/vm.pid" "$STATE/qmp.sock"
echo "stopped $NAME by $HOW"
