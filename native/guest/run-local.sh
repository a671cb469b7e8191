#!/usr/bin/env bash
# Boot the demo guest built by build.sh with the QEMU options COLO needs later
# (same as guest.json: -m 131080k, vnet_hdr=off, vhost=off, empty romfile).
#
# Usage: run-local.sh [options] [-- extra qemu args]
#   --out DIR           build.sh output (default: native/guest/out)
#   --disk FILE         data disk (default: DIR/disk.img)
#   --kernel FILE       default DIR/vmlinux (uncompressed, PVH boot: faster under TCG) if
#                       build.sh made it, else DIR/vmlinuz
#   --net user          (default) QEMU user networking; host 127.0.0.1:HTTP_PORT -> guest 80,
#                       127.0.0.1:STREAM_PORT -> guest 7000; guest 10.0.2.15/24 gw 10.0.2.2
#   --net tap:NAME      an existing tap device; give --ip (and --gw)
#   --net none
#   --http-port N       host port for --net user (default 8080)
#   --stream-port N     host port for --net user (default 7000)
#   --ip ADDR/PREFIX    guest_ip=     --gw ADDR  guest_gw=
#   --hostname NAME     guest_hostname= (default lockstep-guest)
#   --mac MAC           NIC MAC (default 52:54:00:4c:53:01; must be equal on both COLO sides)
#   --serial stdio      (default) serial console on this terminal; Ctrl-a x quits, Ctrl-a c monitor
#   --serial unix:PATH  serial console on a UNIX socket (server); output also logged to PATH.log
#   --qmp PATH          QMP monitor on a UNIX socket (server)
#   --append ARGS       extra kernel arguments (e.g. "guest_stream_time=0")
#   --print             print the command instead of running it (--print-args: one per line)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

out="$here/out" disk="" kernel="" net=user http_port=8080 stream_port=7000 ip="" gw="" host=lockstep-guest
mac=52:54:00:4c:53:01 serial=stdio qmp="" extra_append="" print=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift ;;
    --disk) disk=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --net) net=$2; shift ;;
    --http-port) http_port=$2; shift ;;
    --stream-port) stream_port=$2; shift ;;
    --ip) ip=$2; shift ;;
    --gw) gw=$2; shift ;;
    --hostname) host=$2; shift ;;
    --mac) mac=$2; shift ;;
    --serial) serial=$2; shift ;;
    --qmp) qmp=$2; shift ;;
    --append) extra_append=$2; shift ;;
    --print) print=1 ;;
    --print-args) print=2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run-local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
disk=${disk:-$out/disk.img}
if [ -z "$kernel" ]; then
  kernel=$out/vmlinuz
  [ -f "$out/vmlinux" ] && kernel=$out/vmlinux
fi
for f in "$kernel" "$out/initrd.img" "$disk"; do
  [ -f "$f" ] || { echo "run-local.sh: $f missing; run: $here/build.sh $out" >&2; exit 1; }
done

case $net in
  user)
    ip=${ip:-10.0.2.15/24} gw=${gw:-10.0.2.2}
    netdev="user,id=net0,hostfwd=tcp:127.0.0.1:$http_port-:80,hostfwd=tcp:127.0.0.1:$stream_port-:7000" ;;
  tap:*)
    [ -n "$ip" ] || { echo "run-local.sh: --net tap:NAME needs --ip ADDR/PREFIX" >&2; exit 2; }
    netdev="tap,id=net0,ifname=${net#tap:},script=no,downscript=no,vhost=off,vnet_hdr=off" ;;
  none) netdev="" ;;
  *) echo "run-local.sh: --net must be user, tap:NAME or none" >&2; exit 2 ;;
esac

append="console=ttyS0 quiet guest_hostname=$host"
[ -n "$ip" ] && append+=" guest_ip=$ip"
[ -n "$gw" ] && append+=" guest_gw=$gw"
[ -n "$extra_append" ] && append+=" $extra_append"

cmd=(qemu-system-x86_64 -name lockstep-guest
  -accel tcg,tb-size=128 -m 131080k -vga none
  -kernel "$kernel" -initrd "$out/initrd.img" -append "$append"
  -drive "if=none,id=d0,file=$disk,format=raw" -device virtio-blk-pci,drive=d0)
if [ -n "$netdev" ]; then
  cmd+=(-netdev "$netdev" -device "virtio-net-pci,netdev=net0,mac=$mac,romfile=")
fi
case $serial in
  stdio) cmd+=(-nographic) ;;
  unix:*)
    path=${serial#unix:}
    cmd+=(-display none -monitor none
      -chardev "socket,id=ser0,path=$path,server=on,wait=off,logfile=$path.log"
      -serial chardev:ser0) ;;
  *) echo "run-local.sh: --serial must be stdio or unix:PATH" >&2; exit 2 ;;
esac
[ -n "$qmp" ] && cmd+=(-qmp "unix:$qmp,server=on,wait=off")
cmd+=("${extra[@]}")

if [ "$print" = 1 ]; then
  for a in "${cmd[@]}"; do
    if [[ $a =~ ^[A-Za-z0-9_,./:=+@%-]+$ ]]; then printf '%s ' "$a"; else printf "'%s' " "${a//\'/\'\\\'\'}"; fi
  done
  echo
elif [ "$print" = 2 ]; then
  printf '%s\n' "${cmd[@]}"
else
  exec "${cmd[@]}"
fi
