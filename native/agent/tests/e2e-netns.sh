#!/usr/bin/env bash
# End-to-end test of lockstep-agent in network namespaces (root; needs ip, bridge, jq).
#
#   lsa-a (primary)  xa 10.99.70.1/30 ===== crossover veth ===== xb 10.99.70.2/30  lsa-b (secondary)
#                    pa 10.77.0.11/24 --+                   +-- pb 10.77.0.12/24
#                                       |  lsa-w: bridge    |
#                                      wpa   lsabr 10.77.0.1 wpb     witness: --witness-serve
#
# Scenarios (each on a fresh setup): primary host cut off entirely (x RUNS, detection time),
# crossover only cut (degraded, then re-armed), secondary isolated from everything, a
# partition (both inter-host paths cut, both still reach the witness), short blackouts of
# both paths (hysteresis), forged/garbage datagrams, and agent restarts.
# Usage: e2e-netns.sh AGENT [RUNS]       results: $E2E_OUT (default: build/e2e-results.txt)
# E2E_KEEP=1 keeps the scratch directory (configs, agent logs) of the last setup.
set -euo pipefail
AGENT=$(readlink -f "${1:?usage: e2e-netns.sh /path/to/lockstep-agent [RUNS]}")
RUNS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
ACTION=$HERE/e2e-action.sh
OUT=${E2E_OUT:-$HERE/../build/e2e-results.txt}
for t in ip bridge jq; do command -v $t >/dev/null || { echo "e2e: '$t' missing (apt-get install -y iproute2 jq)" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "e2e: needs root (network namespaces)" >&2; exit 1; }
T=$(mktemp -d /tmp/lsa-e2e.XXXXXX)
NS=(lsa-a lsa-b lsa-w)
PIDS=()
FAILS=0

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
fail() { say "FAIL: $*"; FAILS=$((FAILS + 1)); }
now_ns() { date +%s%N; }

stop_agents() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
teardown() {
  stop_agents
  local n
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
cleanup() { teardown; if [ -n "${E2E_KEEP:-}" ]; then echo "e2e: kept $T" >&2; else rm -rf "$T"; fi; }
trap cleanup EXIT

setup() {
  teardown
  rm -f "$T"/*.out "$T"/*.log "$T"/*.sock
  local n
  for n in "${NS[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip -n lsa-a link add xa type veth peer name xb netns lsa-b
  ip -n lsa-w link add lsabr type bridge
  ip -n lsa-a link add pa type veth peer name wpa netns lsa-w
  ip -n lsa-b link add pb type veth peer name wpb netns lsa-w
  ip -n lsa-w link set wpa master lsabr
  ip -n lsa-w link set wpb master lsabr
  ip -n lsa-a addr add 10.99.70.1/30 dev xa
  ip -n lsa-b addr add 10.99.70.2/30 dev xb
  ip -n lsa-a addr add 10.77.0.11/24 dev pa
  ip -n lsa-b addr add 10.77.0.12/24 dev pb
  ip -n lsa-w addr add 10.77.0.1/24 dev lsabr
  for l in xa pa; do ip -n lsa-a link set "$l" up; done
  for l in xb pb; do ip -n lsa-b link set "$l" up; done
  for l in lsabr wpa wpb; do ip -n lsa-w link set "$l" up; done
  # (re)start: witness, then both agents
  ip netns exec lsa-w "$AGENT" --witness-serve 10.77.0.1:7790 --cluster-id lsa-e2e \
    --secret-file "$T/secret" --status-socket "$T/w.sock" --log-file "$T/w.log" &
  PIDS+=($!)
  ip netns exec lsa-a "$AGENT" --config "$T/a.conf" &
  PIDS+=($!)
  ip netns exec lsa-b "$AGENT" --config "$T/b.conf" &
  PIDS+=($!)
}

status() { "$AGENT" --once-status --status-socket "$1" 2>/dev/null || true; }
state() { status "$1" | jq -r '.state // "none"'; }
# wait_state SOCK STATE TIMEOUT_MS -> prints ms waited, returns 1 on timeout
wait_state() {
  local t0 s
  t0=$(now_ns)
  while :; do
    s=$(state "$1")
    [ "$s" = "$2" ] && { echo $((($(now_ns) - t0) / 1000000)); return 0; }
    [ $((($(now_ns) - t0) / 1000000)) -ge "$3" ] && { echo "timeout (state $s)"; return 1; }
    sleep 0.02
  done
}
wait_file() { # FILE TIMEOUT_MS
  local t0
  t0=$(now_ns)
  until [ -s "$1" ]; do
    [ $((($(now_ns) - t0) / 1000000)) -ge "$2" ] && return 1
    sleep 0.005
  done
}
both_protected() {
  wait_state "$T/a.sock" protected 5000 >/dev/null || { fail "primary never protected: $(status "$T/a.sock")"; return 1; }
  wait_state "$T/b.sock" protected 5000 >/dev/null || { fail "secondary never protected: $(status "$T/b.sock")"; return 1; }
}

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
for side in a b; do
  if [ $side = a ]; then role=primary me=1 peer=2 pub_me=11 pub_peer=12; else role=secondary me=2 peer=1 pub_me=12 pub_peer=11; fi
  cat >"$T/$side.conf" <<EOF
role = $role
cluster_id = lsa-e2e
secret_file = $T/secret
crossover_local = 10.99.70.$me:7788
crossover_peer = 10.99.70.$peer:7788
public_local = 10.77.0.$pub_me:7788
public_peer = 10.77.0.$pub_peer:7788
witness = 10.77.0.1:7790
interval_ms = 20
timeout_ms = 300
rearm_ms = 1000
failover_cmd = $ACTION $T/$side-action.out
continue_cmd = $ACTION $T/$side-action.out
status_socket = $T/$side.sock
log_file = $T/$side.log
EOF
done

mkdir -p "$(dirname "$OUT")"
: >"$OUT"
say "lockstep-agent e2e $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r), $(nproc) cores; interval 20 ms, timeout 300 ms, rearm 1000 ms"

# ---------------------------------------------------------------- 1. primary host cut off
say ""
say "== 1. primary's links cut entirely (crossover + public), $RUNS runs"
dets=()
silents=()
for run in $(seq 1 "$RUNS"); do
  setup
  both_protected || continue
  sleep 0.$((RANDOM % 10)) # random phase against the 20 ms heartbeat
  t0=$(now_ns)
  printf 'link set xa down\nlink set pa down\n' | ip -n lsa-a -batch -
  if ! wait_file "$T/b-action.out" 5000; then
    fail "run $run: secondary did not take over: $(status "$T/b.sock" | jq -c '{state,reason}')"
    continue
  fi
  read -r t1 act role silent <"$T/b-action.out"
  det=$(((t1 - t0) / 1000000))
  dets+=("$det")
  silents+=("$silent")
  [ "$act" = failover ] && [ "$role" = secondary ] || fail "run $run: unexpected action '$act' by '$role'"
  wait_state "$T/b.sock" took-over 2000 >/dev/null || fail "run $run: secondary not took-over"
  wait_state "$T/a.sock" isolated 2000 >/dev/null || fail "run $run: primary not isolated: $(state "$T/a.sock")"
  sleep 0.5
  [ -e "$T/a-action.out" ] && fail "run $run: the cut-off primary acted: $(cat "$T/a-action.out")"
  say "  run $run: cut -> failover command running after $det ms (agent: peer silent $silent ms at the decision)"
done
if [ ${#dets[@]} -gt 0 ]; then
  sorted=$(printf '%s\n' "${dets[@]}" | sort -n)
  n=${#dets[@]}
  say "  detection (cut -> failover command running): min $(echo "$sorted" | head -1) ms, median $(echo "$sorted" | sed -n "$(((n + 1) / 2))p") ms, max $(echo "$sorted" | tail -1) ms over $n runs"
  ss=$(printf '%s\n' "${silents[@]}" | sort -n)
  say "  peer silence at the decision: min $(echo "$ss" | head -1) ms, max $(echo "$ss" | tail -1) ms"
  grep -h 'decision .* -> acting' "$T/b.log" | tail -1 | sed 's/^/  log: /' | tee -a "$OUT" >/dev/null
fi

# ---------------------------------------------------------------- 2. crossover only
say ""
say "== 2. crossover cut only (peer alive on public)"
setup
if both_protected; then
  t0=$(now_ns)
  ip -n lsa-a link set xa down
  wait_state "$T/b.sock" degraded 3000 >/dev/null || fail "secondary not degraded"
  tb=$((($(now_ns) - t0) / 1000000))
  wait_state "$T/a.sock" degraded 3000 >/dev/null || fail "primary not degraded"
  ta=$((($(now_ns) - t0) / 1000000))
  say "  cut -> degraded seen (20 ms status polls): secondary $tb ms, primary $ta ms"
  sleep 3
  sb=$(state "$T/b.sock"); sa=$(state "$T/a.sock")
  [ "$sb" = degraded ] && [ "$sa" = degraded ] || fail "after 3 s: secondary $sb, primary $sa"
  [ -e "$T/b-action.out" ] && fail "secondary took over on a crossover cut"
  [ -e "$T/a-action.out" ] && fail "primary acted on a crossover cut"
  say "  after 3 s: secondary $sb, primary $sa, actions: none$( [ -e "$T/b-action.out" ] || [ -e "$T/a-action.out" ] && echo ' (WRONG)')"
  status "$T/b.sock" | jq -c '{state, armed, reason, crossover: .paths.crossover.last_heard_ms, public: .paths.public.last_heard_ms, witness: .witness.reachable}' | sed 's/^/  status: /' | tee -a "$OUT" >/dev/null
  t0=$(now_ns)
  ip -n lsa-a link set xa up
  wait_state "$T/b.sock" protected 5000 >/dev/null || fail "secondary not re-armed"
  tb=$((($(now_ns) - t0) / 1000000))
  wait_state "$T/a.sock" protected 5000 >/dev/null || fail "primary not re-armed"
  ta=$((($(now_ns) - t0) / 1000000))
  say "  crossover back -> protected again (rearm_ms 1000): secondary $tb ms, primary $ta ms"
fi

# ---------------------------------------------------------------- 3. secondary isolated
say ""
say "== 3. secondary isolated from everything (peer and witness)"
setup
if both_protected; then
  printf 'link set xb down\nlink set pb down\n' | ip -n lsa-b -batch -
  w=$(wait_state "$T/b.sock" isolated 3000) && say "  secondary: isolated after $w ms (poll)" || fail "secondary not isolated: $w"
  sleep 3
  sb=$(state "$T/b.sock")
  [ "$sb" = isolated ] || fail "secondary after 3 s: $sb"
  if [ -e "$T/b-action.out" ]; then fail "isolated secondary took over"; else say "  after 3 s: secondary $sb, no takeover"; fi
  if wait_file "$T/a-action.out" 2000; then
    say "  primary: $(state "$T/a.sock") (ran: $(cut -d' ' -f2 "$T/a-action.out")) - the secondary is gone, the witness answers"
  else
    fail "primary did not continue alone"
  fi
  printf 'link set xb up\nlink set pb up\n' | ip -n lsa-b -batch -
  sleep 3
  sb=$(state "$T/b.sock")
  [ "$sb" = waiting ] || fail "secondary after links back: $sb (want waiting: the primary runs alone)"
  say "  links back: secondary $sb ($(status "$T/b.sock" | jq -r .reason)); never re-arms against a primary that runs alone"
fi

# ---------------------------------------------------------------- 4. partition
say ""
say "== 4. partition: crossover cut and the public switch isolates the two hosts; both reach the witness"
setup
if both_protected; then
  bridge -n lsa-w link set dev wpa isolated on
  bridge -n lsa-w link set dev wpb isolated on
  ip -n lsa-a link set xa down
  w=$(wait_state "$T/b.sock" partitioned 3000) && say "  secondary: partitioned after $w ms (poll), no takeover" || fail "secondary not partitioned: $w"
  wait_file "$T/a-action.out" 2000 && say "  primary: $(state "$T/a.sock") (continue-alone: it keeps the guest)" || fail "primary did not continue alone"
  sleep 2
  [ -e "$T/b-action.out" ] && fail "secondary took over in a partition"
  say "  after 2 s: secondary $(state "$T/b.sock"), primary $(state "$T/a.sock")"
fi

# ---------------------------------------------------------------- 5. short blackouts
# (this kernel has no netem or tc classifiers: lost heartbeats are made by taking both of the
# primary's links down for a while; every blackout is shorter than timeout_ms)
say ""
say "== 5. short blackouts of both inter-host paths (and the primary's witness path)"
setup
if both_protected; then
  n0=$(status "$T/b.sock" | jq '.decisions | length')
  for ms in 20 40 100 150 200 250; do
    for rep in 1 2 3; do
      printf 'link set xa down\nlink set pa down\n' | ip -n lsa-a -batch -
      sleep "$(printf '0.%03d' "$ms")"
      printf 'link set xa up\nlink set pa up\n' | ip -n lsa-a -batch -
      sleep 1.2
    done
  done
  n1=$(status "$T/b.sock" | jq '.decisions | length')
  sb=$(state "$T/b.sock")
  if [ -e "$T/b-action.out" ] || [ -e "$T/a-action.out" ]; then fail "a blackout < timeout triggered an action"; fi
  [ "$sb" = protected ] || fail "after blackouts: secondary $sb"
  say "  18 blackouts of 20-250 ms (1-12 heartbeats lost): secondary $sb, primary $(state "$T/a.sock"), new decisions $((n1 - n0)), actions none"
  grep -h 'decision' "$T/b.log" | tail -n +2 | sed 's/^/  log: /' | tee -a "$OUT" >/dev/null || true
fi

# ---------------------------------------------------------------- 6. forged and garbage datagrams
say ""
say "== 6. garbage, wrong-source and forged datagrams at the secondary"
setup
if both_protected; then
  before=$(status "$T/b.sock" | jq -c .rejected)
  # from the primary's public address: garbage, a bad MAC, a wrong cluster, two old (replayed)
  # seqs, a heartbeat claiming the crossover path, one claiming our own role; from the
  # witness host: a valid heartbeat (wrong source)
  ip netns exec lsa-a python3 - "$T/secret" <<'PY'
import hashlib, hmac, socket, struct, sys, time
key = open(sys.argv[1], "rb").read().strip()
def msg(seq, cluster=b"lsa-e2e", path=2, role=1, mac=None):
    body = b"LSAG" + bytes([1, 1, role, path]) + cluster.ljust(16, b"\0") + struct.pack(">QQBBHIQ", seq, 0, 5, 0, 0, 0, int(time.time() * 1000))
    return body + (mac or hmac.new(key, body, hashlib.sha256).digest())
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.11", 0))
for p in [b"hello", msg(10**15, mac=bytes(32)), msg(10**15, cluster=b"other"), msg(1), msg(2), msg(2**60, path=1), msg(2**60, role=2)]:
    s.sendto(p, ("10.77.0.12", 7788))
PY
  ip netns exec lsa-w python3 - "$T/secret" <<'PY'
import hashlib, hmac, socket, struct, sys
key = open(sys.argv[1], "rb").read().strip()
body = b"LSAG\x01\x01\x01\x02" + b"lsa-e2e".ljust(16, b"\0") + struct.pack(">QQBBHIQ", 2**60, 0, 5, 0, 0, 0, 0)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(body + hmac.new(key, body, hashlib.sha256).digest(), ("10.77.0.12", 7788))
PY
  sleep 0.3
  after=$(status "$T/b.sock" | jq -c .rejected)
  # (the counters before are not zero: heartbeats queued behind ARP while the lab links come
  # up arrive in a burst, sent before either side heard the other, and count as unproven)
  rej=$(jq -cn --argjson a "$after" --argjson b "$before" '$a | with_entries(.value -= $b[.key])')
  say "  rejected by kind (delta): $rej; state $(state "$T/b.sock")"
  want='{"length":1,"magic":0,"version":0,"field":0,"cluster":1,"mac":1,"replay":0,"unexpected":2,"wrong_source":1,"clock_skew":0,"unproven":2}'
  [ "$rej" = "$want" ] || fail "rejected counters: got $rej, want $want"
  [ "$(state "$T/b.sock")" = protected ] || fail "garbage changed the state"
fi

# ---------------------------------------------------------------- 7. agent restart
say ""
say "== 7. the primary's agent restarted (new random seq run; the host stays up)"
setup
if both_protected; then
  for rep in 1 2 3; do
    kill -9 "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
    t0=$(now_ns)
    ip netns exec lsa-a "$AGENT" --config "$T/a.conf" &
    PIDS[1]=$!
    wait_state "$T/a.sock" protected 5000 >/dev/null || fail "restarted primary never re-armed"
    say "  restart $rep: primary protected again after $((($(now_ns) - t0) / 1000000)) ms; secondary $(state "$T/b.sock")"
  done
  [ -e "$T/b-action.out" ] && fail "the secondary took over on an agent restart"
  [ "$(state "$T/b.sock")" = protected ] || fail "secondary not protected after restarts"
  say "  secondary: $(grep -c 'run is confirmed' "$T/b.log") new runs confirmed by echo, unproven datagrams $(status "$T/b.sock" | jq .rejected.unproven), actions none"
fi

stop_agents
say ""
if [ $FAILS = 0 ]; then say "e2e: all scenarios passed"; else say "e2e: $FAILS failure(s)"; fi
[ $FAILS = 0 ]
