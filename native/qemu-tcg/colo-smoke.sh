#!/bin/bash
# colo-smoke.sh: one QEMU 7.2 COLO pair under TCG on this machine, end to end (LAB ONLY).
#
#   colo-smoke.sh net-up      create the namespaces, crossover, bridges and taps
#   colo-smoke.sh net-down    remove them again
#   colo-smoke.sh run         net-up, start secondary + primary, COLO, drill, net-down
#
# Topology (every name starts with "lsc"):
#   lsc-a (host A)   lsc-xa 10.99.0.1/30 <== crossover veth ==> lsc-xb 10.99.0.2/30   lsc-b (host B)
#       bridge lsc-bra: lsc-tapa + uplink lsc-ua          bridge lsc-brb: lsc-tapb + uplink lsc-ub
#                       |                                                   |
#   lsc-pub (the public switch): bridge lsc-sw with lsc-pa, lsc-pb, lsc-pc
#   lsc-c (client): lsc-c0 = $CLIENT_IP/24 on the public segment
#
# Parameters (environment; defaults in brackets):
#   GUEST_DIR    dir with vmlinuz, initrd.img, disk.img (native/guest/build.sh OUTDIR)   [required for run]
#   GUEST_JSON   the guest's description (MAC, kernel args) [native/guest/guest.json]
#   GUEST_IP     the guest's address (a /24)                [10.98.0.10]
#   GUEST_APPEND kernel command line                        [built from GUEST_JSON and GUEST_IP]
#   CLIENT_IP    client namespace address, same /24         [GUEST_IP with last octet 100]
#   SHIM         libcolo-tcg-shim.so (built here if absent) [$WORK/libcolo-tcg-shim.so]
#   WORK         scratch dir (sockets, logs, disk copies)   [/work/tmp/colo/run]
#   plus the knobs read by colo-smoke.mjs (RAM, CHECKPOINT_DELAY, COLO_SECONDS, ...).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/work/tmp/colo/run}
NS_A=lsc-a NS_B=lsc-b NS_PUB=lsc-pub NS_C=lsc-c
XA=${XA:-10.99.0.1} XB=${XB:-10.99.0.2}

net_down() {
    for ns in $NS_C $NS_PUB $NS_B $NS_A; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

net_up() {
    local client_ip=$1
    net_down
    for ns in $NS_A $NS_B $NS_PUB $NS_C; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up # the primary's compare sockets use 127.0.0.1
    done
    # crossover: the replication link (migration, NBD, proxy sockets)
    ip link add lsc-xa netns $NS_A type veth peer name lsc-xb netns $NS_B
    ip -n $NS_A addr add "$XA/30" dev lsc-xa
    ip -n $NS_B addr add "$XB/30" dev lsc-xb
    ip -n $NS_A link set lsc-xa up
    ip -n $NS_B link set lsc-xb up
    # public switch
    ip -n $NS_PUB link add lsc-sw type bridge stp_state 0 forward_delay 0
    ip -n $NS_PUB link set lsc-sw up
    # each host: a bridge holding the VM's tap and an uplink to the switch
    local h ns
    for h in a b; do
        ns=lsc-$h
        ip -n "$ns" link add "lsc-br$h" type bridge stp_state 0 forward_delay 0
        ip -n "$ns" tuntap add dev "lsc-tap$h" mode tap # QEMU opens it with vnet_hdr=off
        ip link add "lsc-u$h" netns "$ns" type veth peer name "lsc-p$h" netns $NS_PUB
        ip -n "$ns" link set "lsc-tap$h" master "lsc-br$h"
        ip -n "$ns" link set "lsc-u$h" master "lsc-br$h"
        ip -n $NS_PUB link set "lsc-p$h" master lsc-sw
        ip -n "$ns" link set "lsc-br$h" up
        ip -n "$ns" link set "lsc-tap$h" up
        ip -n "$ns" link set "lsc-u$h" up
        ip -n $NS_PUB link set "lsc-p$h" up
    done
    # client
    ip link add lsc-c0 netns $NS_C type veth peer name lsc-pc netns $NS_PUB
    ip -n $NS_PUB link set lsc-pc master lsc-sw
    ip -n $NS_PUB link set lsc-pc up
    ip -n $NS_C addr add "$client_ip/24" dev lsc-c0
    ip -n $NS_C link set lsc-c0 up
}

cmd=${1:-run}
case $cmd in
net-down) net_down ;;
net-up | run)
    GUEST_IP=${GUEST_IP:-10.98.0.10}
    CLIENT_IP=${CLIENT_IP:-${GUEST_IP%.*}.100}
    net_up "$CLIENT_IP"
    [ "$cmd" = net-up ] && exit 0
    trap net_down EXIT
    : "${GUEST_DIR:?set GUEST_DIR to the output of native/guest/build.sh}"
    mkdir -p "$WORK"
    SHIM=${SHIM:-$WORK/libcolo-tcg-shim.so}
    [ -f "$SHIM" ] || make -s -C "$HERE" OUTDIR="$(dirname "$SHIM")" >/dev/null
    GUEST_JSON=${GUEST_JSON:-$HERE/../guest/guest.json}
    export WORK SHIM GUEST_DIR GUEST_JSON GUEST_IP XA XB
    export NS_A NS_B NS_C
    node "$HERE/colo-smoke.mjs" drive
    ;;
*) echo "usage: $0 [net-up|net-down|run]" >&2; exit 2 ;;
esac
