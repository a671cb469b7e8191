#!/bin/bash
# Stop one Lockstep Lab "kernel host" started by boot-host.sh.
#
# Usage: stop-host.sh --state-dir DIR [--mode clean|halt|kill] [--timeout SECONDS]
#   (or LAB_STATE_DIR / LAB_STOP_MODE / LAB_STOP_TIMEOUT in the environment)
#
# clean (default): mconsole "cad" -> the init takes DRBD down, stops processes, syncs, powers off;
#                  after --timeout (default 20 s) falls through to halt.
# halt:            mconsole "halt" (kernel stops at once, no userspace shutdown = pulled plug);
#                  after 5 s falls through to kill.
# kill:            SIGTERM, then SIGKILL after 3 s, to the whole session of the UML process.
# mconsole runs inside the host's wire netns (it hangs from any other namespace).
# Afterwards: overlay unmounted (if mounted in this namespace), stale umid dir and pid file
# removed. Prints one line "stopped NAME by clean|halt|kill|none (was not running)".
# Exit codes: 0 stopped, 2 usage, 6 could not stop.
set -euo pipefail

STATE=${LAB_STATE_DIR:-}
MODE=${LAB_STOP_MODE:-clean}
TIMEOUT=${LAB_STOP_TIMEOUT:-20}
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || {
    echo "stop-host: $1 needs a value" >&2
    exit 2
  }
  case "$1" in
    --state-dir) STATE=$2 ;;
    --mode) MODE=$2 ;;
    --timeout) TIMEOUT=$2 ;;
    *)
      echo "stop-host: unknown option $1" >&2
      exit 2
      ;;
  esac
  shift 2
done
[ -n "$STATE" ] || {
  echo "stop-host: --state-dir is required" >&2
  exit 2
}
[[ $MODE =~ ^(clean|halt|kill)$ ]] || {
  echo "stop-host: bad --mode $MODE" >&2
  exit 2
}
[[ $TIMEOUT =~ ^[0-9]+$ ]] || {
  echo "stop-host: bad --timeout $TIMEOUT" >&2
  exit 2
}
STATE=${STATE%/}
[ -f "$STATE/host.env" ] || {
  echo "stop-host: $STATE/host.env missing (not a boot-host.sh state dir)" >&2
  exit 2
}
NAME="" UMID="" NETNS="" MCONSOLE=""
# shellcheck disable=SC1091
. "$STATE/host.env"

PID=$(cat "$STATE/uml.pid" 2>/dev/null || true)
ours() { # is $PID still our linux.uml (guards against PID reuse)?
  [[ $PID =~ ^[0-9]+$ ]] && [ -r "/proc/$PID/cmdline" ] &&
    tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q -- "umid=$UMID "
}
wait_gone() { # seconds
  local n=$(($1 * 10))
  while [ $n -gt 0 ]; do
    ours || return 0
    sleep 0.1
    n=$((n - 1))
  done
  ! ours
}
mconsole() {
  [ -S "$MCONSOLE" ] && [ -e "/run/netns/$NETNS" ] || return 1
  timeout 5 ip netns exec "$NETNS" uml_mconsole "$MCONSOLE" "$1" >/dev/null 2>&1
}
session_pids() { # live processes in the session the UML leads (its helper processes too)
  [[ $PID =~ ^[0-9]+$ ]] || return 0
  ps -e -o pid=,sid=,stat= | awk -v s="$PID" '$2 == s && $3 !~ /^Z/ { print $1 }'
}
wait_session_gone() { # seconds
  local n=$(($1 * 10))
  while [ $n -gt 0 ]; do
    [ -z "$(session_pids)" ] && return 0
    sleep 0.1
    n=$((n - 1))
  done
  [ -z "$(session_pids)" ]
}

HOW=none
if ours; then
  if [ "$MODE" = clean ]; then
    HOW=clean
    mconsole cad || true
    wait_gone "$TIMEOUT" || MODE=halt
  fi
  if [ "$MODE" = halt ]; then
    HOW=halt
    mconsole halt || true
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
# Helpers of the UML that outlive it (same session id as the UML's PID) normally exit with it.
if ! wait_session_gone 3; then
  # shellcheck disable=SC2046
  kill -KILL $(session_pids) 2>/dev/null || true
  wait_session_gone 2 || true
fi
if ours || [ -n "$(session_pids)" ]; then
  echo "stop-host: could not stop $NAME (pid $PID)" >&2
  exit 6
fi

# The overlay lives in the UML's private mount namespace and is gone with it; unmount anyway
# in case something mounted it here.
if mountpoint -q "$STATE/root" 2>/dev/null; then
  umount "$STATE/root" 2>/dev/null || umount -l "$STATE/root"
fi
rm -rf "${STATE:?}/run/${UMID:?}"
rm -f "$STATE/uml.pid"
echo "stopped $NAME by $HOW"
