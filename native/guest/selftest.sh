#!/usr/bin/env bash
# End-to-end check of the demo guest (root; QEMU, iproute2, Node). Builds into OUTDIR if
# needed, then on a private network:
#   netns lsg-host:   bridge lsgbr0 (192.168.77.1/24) + tap lsgtap0 -> QEMU guest 192.168.77.2
#   netns lsg-client: lsgvc0 192.168.77.10/24, veth peer lsgvh0 on lsgbr0
# and checks: boot (QEMU start -> first good HTTP answer), ready marker, serial shell,
# 500 polls at 10 ms, 4 concurrent pollers, the TCP stream for 10 s, reboot (count continues,
# new boot id), QEMU killed -9 while polled (no answered count lost). Everything it creates
# is deleted at the end. The guest's test disk is a fresh file, not OUTDIR/disk.img.
#
# Usage: selftest.sh OUTDIR [--keep-tmp]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: selftest.sh OUTDIR [--keep-tmp]}
keep=${2:-}
ns_host=lsg-host ns_client=lsg-client
guest=192.168.77.2 url=http://192.168.77.2/

[ "$(id -u)" = 0 ] || { echo "selftest.sh: needs root (network namespaces, tap)" >&2; exit 1; }
for t in ip qemu-system-x86_64 node; do
  command -v "$t" >/dev/null || { echo "selftest.sh: $t missing" >&2; exit 1; }
done
for ns in $ns_host $ns_client; do
  ! ip netns list | grep -qw "$ns" ||
    { echo "selftest.sh: netns $ns exists (a previous run?); remove it: ip netns del $ns" >&2; exit 1; }
done

t_build=$(date +%s%N)
"$here/build.sh" "$out"
t_build=$(( ($(date +%s%N) - t_build) / 1000000 ))

tmp=$(mktemp -d /tmp/lsg-selftest.XXXXXX)
qemu_pid=""
cleanup() {
  set +e
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && sleep 0.5 && kill -9 "$qemu_pid" 2>/dev/null
  ip netns del $ns_client 2>/dev/null
  ip netns del $ns_host 2>/dev/null
  if [ "$keep" = --keep-tmp ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fails=0
check() { # check NAME JSON_FROM_CHECK_MJS (exit status in $rc)
  printf '%-10s %s %s\n' "$1" "$([ "$rc" = 0 ] && echo PASS || echo FAIL)" "$2"
  [ "$rc" = 0 ] || fails=$((fails + 1))
}
client() { rc=0; out_json=$(ip netns exec $ns_client node "$here/test/check.mjs" "$@") || rc=$?; }
field() { node -e 'const v = JSON.parse(process.argv[1]); console.log(process.argv[2].split(".").reduce((o, k) => o?.[k], v) ?? "")' "$1" "$2"; }
rss_mib() { echo $(( $(ps -o rss= -p "$qemu_pid") / 1024 )); }

# ---- network ---------------------------------------------------------------------------------
ip netns add $ns_host
ip netns add $ns_client
ip -n $ns_host link set lo up
ip -n $ns_host link add lsgbr0 type bridge
ip -n $ns_host addr add 192.168.77.1/24 dev lsgbr0
ip -n $ns_host link set lsgbr0 up
ip -n $ns_host tuntap add dev lsgtap0 mode tap
ip -n $ns_host link set lsgtap0 master lsgbr0 up
ip link add lsgvh0 netns $ns_host type veth peer name lsgvc0 netns $ns_client
ip -n $ns_host link set lsgvh0 master lsgbr0 up
ip -n $ns_client link set lo up
ip -n $ns_client addr add 192.168.77.10/24 dev lsgvc0
ip -n $ns_client link set lsgvc0 up

# ---- config: run-local.sh uses the arguments guest.json prescribes ------------------------------
run=(ip netns exec $ns_host "$here/run-local.sh" --out "$out" --disk "$tmp/disk.img"
  --net tap:lsgtap0 --ip 192.168.77.2/24 --gw 192.168.77.1 --hostname lsg-demo
  --serial "unix:$tmp/serial" --qmp "$tmp/qmp")
truncate -s 16M "$tmp/disk.img"
"${run[@]}" --print-args >"$tmp/args"
rc=0; out_json=$(node "$here/test/check.mjs" config "$here/guest.json" "$tmp/args") || rc=$?
check config "$out_json"

start_qemu() {
  rm -f "$tmp/serial.log"
  "${run[@]}" "$@" >>"$tmp/qemu.log" 2>&1 &
  qemu_pid=$!
}
wait_marker() { # wait_marker NTH TIMEOUT_S: the NTH ready line in the serial log
  local i=0
  while [ "$(grep -c 'lockstep-guest ready' "$tmp/serial.log" 2>/dev/null || true)" -lt "$1" ]; do
    i=$((i + 1)); [ $i -le $(($2 * 10)) ] || return 1; sleep 0.1
  done
  grep 'lockstep-guest ready' "$tmp/serial.log" | sed -n "${1}p" | tr -d '\r'
}

# ---- boot (the compressed vmlinuz here; vmlinux after the power loss below) ---------------------
t0=$(date +%s%N)
start_qemu --kernel "$out/vmlinuz"
client wait-http "$url" 120000 "$tmp/serial.log" 1
boot_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check boot "vmlinuz: QEMU start -> first answer ${boot_ms} ms $out_json"
boot1=$(field "$out_json" answer.boot)
rc=0; line=$(wait_marker 1 30) || rc=$?
grep -q '^lockstep-guest ready' <<<"$line" || rc=1
check marker "$line"
rss_boot=$(rss_mib)

# ---- serial shell ------------------------------------------------------------------------------
client serial "$tmp/serial" 'lsg-status' 'lsg-status host=lsg-demo .*services=ok' 20000
check serial "$out_json"
client serial "$tmp/serial" 'cat /etc/lockstep-guest; echo "pr""ompt-check"' '^name=lockstep-guest[\s\S]*prompt-check\nlsg-demo:/root# ' 20000
check prompt "$out_json"

# ---- 500 polls at 10 ms; then 4 pollers at once --------------------------------------------------
client poll "$url" 500 10 1
check poll "$out_json"
poll1=$out_json
client poll "$url" 100 10 4
check poll4 "$out_json"
poll4=$out_json
last=$(field "$out_json" max)

# ---- the stream for 10 s while a slow poller moves the counter --------------------------------------
ip netns exec $ns_client node "$here/test/check.mjs" poll "$url" 40 250 1 >/dev/null &
bg=$!
client stream $guest 7000 10
check stream "$out_json"
wait $bg || true
last=$(field "$(ip netns exec $ns_client node "$here/test/check.mjs" poll "$url" 1 0 1)" max)

# ---- reboot from the serial console: count continues, new boot id ---------------------------------
t0=$(date +%s%N)
client serial "$tmp/serial" 'reboot' 'going down' 10000
rc=0; line=$(wait_marker 2 120) || rc=$?
reboot_marker_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
client wait-http "$url" 60000
reboot_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "           reboot: ready line after ${reboot_marker_ms} ms; $out_json"
count=$(field "$out_json" answer.count)
boot2=$(field "$out_json" answer.boot)
rc=1; [ "$count" = $((last + 1)) ] && [ "$boot2" != "$boot1" ] && rc=0
check reboot "count before=$last after=$count, boot $boot1 -> $boot2, ${reboot_ms} ms"

# ---- power loss: kill -9 QEMU while a poller runs; no answered count may be lost ------------------
ip netns exec $ns_client node "$here/test/check.mjs" poll "$url" 100000 10 1 >"$tmp/poll-kill.json" &
bg=$!
sleep 3
kill -9 "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true
kill -TERM "$bg" 2>/dev/null; wait "$bg" 2>/dev/null || true
answered=$(field "$(cat "$tmp/poll-kill.json")" max)
t0=$(date +%s%N)
start_qemu
client wait-http "$url" 120000 "$tmp/serial.log" 1
boot2_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check boot-pvh "vmlinux: QEMU start -> first answer ${boot2_ms} ms $out_json"
after=$(field "$out_json" answer.count)
rc=1; [ -n "$answered" ] && [ "$after" -gt "$answered" ] && rc=0
check powerloss "last answered before kill -9: $answered; first after restart: $after"
rss_end=$(rss_mib)

printf '\nbuild %s ms | boot %s ms (vmlinuz), %s ms (vmlinux) | reboot %s ms | QEMU RSS %s MiB after boot, %s MiB at the end\n' \
  "$t_build" "$boot_ms" "$boot2_ms" "$reboot_ms" "$rss_boot" "$rss_end"
printf 'poll x1: %s\npoll x4: %s\n' "$poll1" "$poll4"
[ $fails = 0 ] && echo "selftest: all passed" || { echo "selftest: $fails failed (serial log: $tmp/serial.log)"; keep=--keep-tmp; }
exit $fails
