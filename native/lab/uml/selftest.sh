#!/bin/bash
# End-to-end check of the kernel-host lab on this machine: wire + two UML hosts booted in
# parallel, SSH, DRBD 8.4 module, crossover discovery, iperf3, DRBD initial sync, QEMU inside
# a host, clean stop, nothing left behind. Prints the figures. Needs root.
#
# Usage: selftest.sh [--prefix lsu] [--dir /tmp/lsu-selftest] [--net 198.18.77] [--mem 768M]
#                    [--resync-rate 400M] [--data-size 256M] [--keep]
#   --prefix   names: netns PREFIX-wire, PREFIX-cli; bridges PREFIXpub, PREFIXxo; veths
#              PREFIX-r0, PREFIX-c0; taps PREFIXa-pub, PREFIXa-x, PREFIXa-d, PREFIXb-...;
#              hosts PREFIX-a / PREFIX-b (also the DRBD "on" names). <= 6 characters.
#   --net      /24 used on the public bridge: .1 root namespace, .2 client ns, .11 / .12 hosts.
#   --keep     leave hosts and wire running (then stop with stop-host.sh / wire.sh down).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

P=lsu DIR=/tmp/lsu-selftest NET=198.18.77 MEM=768M RATE=400M SIZE=256M KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) P=$2 && shift ;;
    --dir) DIR=$2 && shift ;;
    --net) NET=$2 && shift ;;
    --mem) MEM=$2 && shift ;;
    --resync-rate) RATE=$2 && shift ;;
    --data-size) SIZE=$2 && shift ;;
    --keep) KEEP=1 ;;
    *) echo "unknown option $1" >&2 && exit 2 ;;
  esac
  shift
done
[[ $P =~ ^[a-z][a-z0-9]{0,5}$ ]] || { echo "bad --prefix" >&2 && exit 2; }

NS=$P-wire CNS=$P-cli PUB=${P}pub XO=${P}xo RV=$P-r0 CV=$P-c0
A=$P-a B=$P-b IPA=$NET.11 IPB=$NET.12
declare -A IP=([$A]=$IPA [$B]=$IPB) FIG=()
FAIL=0

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc | sed 's/^\./0./'; }
say() { printf '== %s\n' "$*"; }
ok() { printf '   ok   %s\n' "$*"; }
bad() {
  printf '   FAIL %s\n' "$*"
  FAIL=1
}
S() { # ssh to host name $1, rest = remote command; one master connection per host
  local h=$1
  shift
  ssh -F /dev/null -i "$DIR/keys/client/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$DIR/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=3 \
    -o ControlMaster=auto -o ControlPath="$DIR/cm-%h" -o ControlPersist=300 \
    -o LogLevel=ERROR -l root "${IP[$h]}" "$@"
}

pss_kb() { # PSS (kB) summed over the UML main process and its helpers (same session)
  local pid tot=0 q v
  pid=$(cat "$DIR/$1/uml.pid")
  for q in $(ps -e -o pid=,sid= | awk -v s="$pid" '$2 == s {print $1}'); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$q/smaps_rollup" 2>/dev/null || true)
    tot=$((tot + ${v:-0}))
  done
  echo "$tot"
}

cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ]; then return; fi
  for h in $A $B; do ssh -F /dev/null -o ControlPath="$DIR/cm-%h" -O exit "${IP[$h]}" >/dev/null 2>&1 || true; done
  for h in $A $B; do
    [ -f "$DIR/$h/host.env" ] && "$HERE/stop-host.sh" --state-dir "$DIR/$h" --timeout 15 >/dev/null 2>&1 || true
  done
  "$HERE/wire.sh" down --netns "$NS" --root-veth "$RV" --client-ns "$CNS" >/dev/null 2>&1 || true
  return $rc
}
trap cleanup EXIT

say "preflight"
for c in linux.uml uml_mconsole ip ssh ssh-keygen bc; do command -v $c >/dev/null || { bad "missing $c" && exit 1; }; done
for c in /usr/sbin/sshd /usr/sbin/drbdadm /usr/sbin/modprobe /usr/bin/ping; do
  [ -x $c ] || bad "missing $c on the machine (the hosts use the machine's /)"
done
[ -e "/run/netns/$NS" ] && { bad "netns $NS already exists" && KEEP=1 && exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR/keys/client" "$DIR/keys/$A" "$DIR/keys/$B"
ssh-keygen -q -t ed25519 -N '' -C lab-client -f "$DIR/keys/client/id_ed25519"
: >"$DIR/known_hosts"
for h in $A $B; do
  ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$DIR/keys/$h/ssh_host_ed25519_key"
  cp "$DIR/keys/client/id_ed25519.pub" "$DIR/keys/$h/authorized_keys"
  echo "${IP[$h]} $(cut -d' ' -f1,2 "$DIR/keys/$h/ssh_host_ed25519_key.pub")" >>"$DIR/known_hosts"
done

say "wire"
"$HERE/wire.sh" up --netns "$NS" --pub-br "$PUB" --xo-br "$XO" --root-veth "$RV" --root-ip "$NET.1/24" \
  --client-ns "$CNS" --client-veth "$CV" --client-ip "$NET.2/24"
declare -A XOSLOT
for h in $A $B; do
  t=${h/-/} # lsu-a -> lsua
  "$HERE/wire.sh" add-host --netns "$NS" --pub-br "$PUB" --xo-br "$XO" \
    --pub-tap "$t-pub" --xo-tap "$t-x" --decoy-tap "$t-d"
  XOSLOT[$h]=$((RANDOM % 2 + 1)) # crossover = eth1 or eth2, unknown to the test below
done
ok "netns $NS, bridges $PUB $XO, $RV=$NET.1 (root), $CV=$NET.2 ($CNS)"

say "boot both in parallel (mem=$MEM)"
T0=$(now)
for h in $A $B; do
  t=${h/-/}
  if [ "${XOSLOT[$h]}" = 1 ]; then nics=$t-pub,$t-x,$t-d; else nics=$t-pub,$t-d,$t-x; fi
  "$HERE/boot-host.sh" --name "$h" --state-dir "$DIR/$h" --netns "$NS" --nics "$nics" \
    --ip "${IP[$h]}/24" --keys-dir "$DIR/keys/$h" --mem "$MEM" --data-size "$SIZE" >/dev/null &
done
wait
for h in $A $B; do
  (
    until S "$h" true 2>/dev/null; do
      [ "$(since "$T0" | cut -d. -f1)" -lt 90 ] || exit 1
      sleep 0.2
    done
    echo "$h $(since "$T0")" >"$DIR/ssh-$h"
  ) &
done
wait || true
for h in $A $B; do
  if [ -f "$DIR/ssh-$h" ]; then ok "ssh $h after $(cut -d' ' -f2 "$DIR/ssh-$h") s"; else bad "no ssh to $h" && exit 1; fi
done
FIG[boot]=$(since "$T0")
ok "pair boot to SSH: ${FIG[boot]} s"

for h in $A $B; do FIG[pss_boot_$h]=$(pss_kb "$h"); done
ok "PSS after boot: $A $((FIG[pss_boot_$A] / 1024)) MiB, $B $((FIG[pss_boot_$B] / 1024)) MiB"

say "inside the hosts"
for h in $A $B; do
  out=$(S "$h" 'hostname; modprobe drbd && head -1 /proc/drbd; ls -A /root | wc -l;
    ls /etc/ssh/ssh_host_* 2>/dev/null | wc -l; stat -f -c %T /root /home /tmp | sort -u | tr "\n" " "; echo;
    ip -br link | awk "{print \$1}" | sort | tr "\n" " "; echo; ip -4 -br addr show eth0 | awk "{print \$3}"')
  mapfile -t L <<<"$out"
  [ "${L[0]}" = "$h" ] && ok "$h hostname" || bad "$h hostname '${L[0]}'"
  [[ ${L[1]} == "version: 8.4.11 "* ]] && ok "$h modprobe drbd -> ${L[1]}" || bad "$h /proc/drbd: ${L[1]}"
  [ "${L[2]}" = 0 ] && [ "${L[3]}" = 0 ] && [ "${L[4]}" = "tmpfs " ] &&
    ok "$h /root /home /tmp are tmpfs, /root empty, no machine ssh host keys" || bad "$h secrets: ${L[*]:2:3}"
  [ "${L[5]}" = "eth0 eth1 eth2 lo " ] && [ "${L[6]}" = "${IP[$h]}/24" ] &&
    ok "$h NICs ${L[5]}eth0=${L[6]}" || bad "$h NICs '${L[5]}' '${L[6]}'"
done

say "sftp (internal-sftp)"
head -c 1048576 /dev/urandom >"$DIR/sftp.bin"
printf 'put %s /root/sftp.bin\n' "$DIR/sftp.bin" |
  sftp -q -F /dev/null -o ControlPath="$DIR/cm-%h" -o UserKnownHostsFile="$DIR/known_hosts" \
    -o BatchMode=yes -b - "root@$IPA" >/dev/null
[ "$(S $A 'md5sum </root/sftp.bin')" = "$(md5sum <"$DIR/sftp.bin")" ] && ok "sftp put 1 MiB to $A" ||
  bad "sftp put"

say "crossover discovery (10.99.0.1/30 <-> 10.99.0.2/30)"
XA='' XB=''
for ea in eth1 eth2; do
  for eb in eth1 eth2; do
    S $A "ip addr add 10.99.0.1/30 dev $ea"
    S $B "ip addr add 10.99.0.2/30 dev $eb"
    if S $A "ping -c2 -i0.2 -W1 -q 10.99.0.2 >/dev/null"; then
      r=reaches
      [ -z "$XA" ] && XA=$ea XB=$eb || bad "second pair reaches"
    else r=nothing; fi
    echo "   $A:$ea -> $B:$eb $r"
    S $A "ip addr flush dev $ea scope global"
    S $B "ip addr flush dev $eb scope global"
  done
done
[ "$XA" = "eth${XOSLOT[$A]}" ] && [ "$XB" = "eth${XOSLOT[$B]}" ] &&
  ok "crossover = $A:$XA + $B:$XB (as wired); decoys reach nothing" || bad "crossover '$XA' '$XB'"
S $A "ip addr add 10.99.0.1/30 dev $XA"
S $B "ip addr add 10.99.0.2/30 dev $XB"

if S $A 'command -v iperf3 >/dev/null'; then
  say "iperf3 host to host over the crossover (5 s)"
  S $B 'iperf3 -s -D -1 -B 10.99.0.2' && sleep 0.5
  FIG[tcp]=$(S $A 'iperf3 -c 10.99.0.2 -t 5 -f M' | awk '/receiver/ {print $7}')
  ok "TCP ${FIG[tcp]} MBytes/s"
  S $A 'iperf3 -s -D -1 -B '"$IPA" && sleep 0.5
  FIG[tcp_pub]=$(S $B "iperf3 -c $IPA -t 5 -f M" | awk '/receiver/ {print $7}')
  ok "TCP over the public bridge ${FIG[tcp_pub]} MBytes/s"
fi

say "DRBD r0 initial sync (resync-rate $RATE)"
RES="resource r0 {
  device /dev/drbd0; disk /dev/ubda; meta-disk internal;
  disk { c-plan-ahead 0; resync-rate $RATE; }
  net { protocol C; verify-alg crc32c; ping-int 3; max-buffers 8000; max-epoch-size 8000;
        sndbuf-size 0; rcvbuf-size 0; }
  on $A { address 10.99.0.1:7789; }
  on $B { address 10.99.0.2:7789; }
}"
for h in $A $B; do
  S "$h" 'set -e; cat >/etc/drbd.d/r0.res.new; drbdadm -c /etc/drbd.d/r0.res.new dump r0 >/dev/null
    sync; mv /etc/drbd.d/r0.res.new /etc/drbd.d/r0.res
    drbdadm create-md r0 </dev/null >/dev/null 2>&1; drbdadm up r0' <<<"$RES" &
done
wait
for _ in $(seq 100); do [ "$(S $A drbdadm cstate r0)" = Connected ] && break; sleep 0.2; done
[ "$(S $A drbdadm cstate r0)" = Connected ] && ok "Connected" || bad "not Connected"
T1=$(now)
S $A 'drbdadm primary --force r0'
S $A 'until grep -q "ds:UpToDate/UpToDate" /proc/drbd; do sleep 0.1; done'
FIG[sync_wall]=$(since "$T1")
k=$(S $A 'dmesg' | awk -F'[][]' '/drbd0: Began resync/ {b=$2} /drbd0: Resync done/ {e=$2} END {printf "%.2f", e-b}')
kb=$(S $A 'dmesg' | sed -n 's/.*Began resync as SyncSource (will sync \([0-9]*\) KB.*/\1/p' | tail -1)
FIG[sync_kernel]=$k
FIG[sync_rate]=$(echo "scale=1; $kb / 1024 / $k" | bc)
ok "synced $kb KB: ${FIG[sync_wall]} s wall (incl. ssh), ${k} s in the kernel log = ${FIG[sync_rate]} MiB/s"
S $B 'grep -q "ds:UpToDate/UpToDate" /proc/drbd' && ok "$B UpToDate" || bad "$B not UpToDate"

say "memory per host after the sync (PSS of all processes of the UML session)"
for h in $A $B; do
  FIG[pss_sync_$h]=$(pss_kb "$h")
  ok "$h PSS $((FIG[pss_sync_$h] / 1024)) MiB"
done

say "QEMU inside a host"
q=$(S $A 'qemu-system-x86_64 -version | head -1; s=$(date +%s%N);
  timeout 3 qemu-system-x86_64 -machine none -nodefaults -display none -monitor none -serial none -S; echo "rc=$? $(( ($(date +%s%N) - s) / 1000000 )) ms"' 2>&1)
echo "$q" | sed 's/^/   /'
echo "$q" | grep -q 'rc=124' && ok "qemu -machine none ran until timeout killed it" || bad "qemu inside UML"

say "drbdadm down, stop both"
for h in $A $B; do S "$h" 'drbdadm down r0; grep -c " cs:" /proc/drbd || true' | grep -qx 0 && ok "$h r0 down" || bad "$h r0 still up"; done
for h in $A $B; do ssh -F /dev/null -o ControlPath="$DIR/cm-%h" -O exit "${IP[$h]}" >/dev/null 2>&1 || true; done
T2=$(now)
for h in $A $B; do "$HERE/stop-host.sh" --state-dir "$DIR/$h" | sed 's/^/   /' & done
wait
FIG[stop]=$(since "$T2")
ok "both stopped in ${FIG[stop]} s"
for h in $A $B; do tail -n 3 "$DIR/$h/uml.log" | grep -q 'reboot: Power down' && ok "$h powered off cleanly" || bad "$h: no clean power off in log"; done

if [ "$KEEP" = 1 ]; then say "kept: wire still up"; else
  say "wire down, leftovers"
  "$HERE/wire.sh" down --netns "$NS" --root-veth "$RV" --client-ns "$CNS"
  sleep 0.3
  left=$(ps -e -o pid=,args= | grep -F "$DIR/" | grep -v grep || true)
  [ -z "$left" ] && ok "no processes" || bad "processes left: $left"
  grep -qF "$DIR" /proc/mounts && bad "mounts left" || ok "no mounts"
  ip netns list | grep -qE "^($NS|$CNS)( |$)" && bad "netns left" || ok "no namespaces"
  ip -br link | grep -qE "^($RV)[@ ]" && bad "veth left" || ok "no links in the root namespace"
  ls "$DIR"/*/run/* >/dev/null 2>&1 && bad "umid dirs left" || ok "no mconsole sockets"
fi

say "figures"
for k in "${!FIG[@]}"; do echo "   $k=${FIG[$k]}"; done | sort
[ $FAIL = 0 ] && say "PASS" || say "FAILED"
exit $FAIL
