#!/bin/bash
# The "wire" of the virtual lab: one network namespace holding the public bridge, the crossover
# bridge and every host's taps. Reference implementation of what boot-host.sh expects to exist
# (the lead may do the same from TS; see README.md "What must exist before boot-host.sh").
#
# Usage:
#   wire.sh up   --netns NS --pub-br BR --xo-br BR \
#                [--root-veth IF --root-ip A.B.C.D/NN] \
#                [--client-ns NS --client-veth IF --client-ip A.B.C.D/NN]
#   wire.sh add-host --netns NS --pub-br BR --xo-br BR --pub-tap T --xo-tap T --decoy-tap T
#   wire.sh del-host --netns NS --pub-tap T --xo-tap T --decoy-tap T
#   wire.sh down --netns NS [--root-veth IF] [--client-ns NS]
#
# up:       creates NS (lo up, IPv6 off), bridges BR (STP off, no multicast snooping, up);
#           --root-veth: veth pair IF (root namespace, gets --root-ip) <-> IF"p" (in NS, on pub-br);
#           --client-ns: namespace NS2 with veth IF (gets --client-ip) <-> IF"p" (in NS, on pub-br).
# add-host: persistent taps (owner root) in NS, up: pub-tap on pub-br, xo-tap on xo-br,
#           decoy-tap on nothing. Names <= 15 chars; "p" is appended to veth names: <= 14.
# down:     deletes the namespaces (taps, bridges, veths in them go too) and IF in the root ns.
set -euo pipefail

die() {
  echo "wire: $*" >&2
  exit 2
}
[ $# -ge 1 ] || die "usage: wire.sh up|add-host|del-host|down ... (see header)"
CMD=$1
shift
NETNS='' PUB_BR='' XO_BR='' ROOT_VETH='' ROOT_IP='' CLIENT_NS='' CLIENT_VETH='' CLIENT_IP=''
PUB_TAP='' XO_TAP='' DECOY_TAP=''
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --netns) NETNS=$2 ;;
    --pub-br) PUB_BR=$2 ;;
    --xo-br) XO_BR=$2 ;;
    --root-veth) ROOT_VETH=$2 ;;
    --root-ip) ROOT_IP=$2 ;;
    --client-ns) CLIENT_NS=$2 ;;
    --client-veth) CLIENT_VETH=$2 ;;
    --client-ip) CLIENT_IP=$2 ;;
    --pub-tap) PUB_TAP=$2 ;;
    --xo-tap) XO_TAP=$2 ;;
    --decoy-tap) DECOY_TAP=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[ -n "$NETNS" ] || die "--netns is required"
W() { ip -n "$NETNS" "$@"; }

case "$CMD" in
  up)
    [ -n "$PUB_BR" ] && [ -n "$XO_BR" ] || die "--pub-br and --xo-br are required"
    [ -e "/run/netns/$NETNS" ] || ip netns add "$NETNS"
    W link set lo up
    ip netns exec "$NETNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
      net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
    for br in "$PUB_BR" "$XO_BR"; do
      W link show dev "$br" >/dev/null 2>&1 ||
        W link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
      W link set "$br" up
    done
    if [ -n "$ROOT_VETH" ]; then
      if ! ip link show dev "$ROOT_VETH" >/dev/null 2>&1; then
        ip link add "$ROOT_VETH" type veth peer name "${ROOT_VETH}p" netns "$NETNS"
      fi
      W link set "${ROOT_VETH}p" master "$PUB_BR" up
      ip link set "$ROOT_VETH" up
      if [ -n "$ROOT_IP" ] && ! ip -br addr show dev "$ROOT_VETH" | grep -qF " ${ROOT_IP}"; then
        ip addr add "$ROOT_IP" dev "$ROOT_VETH"
      fi
    fi
    if [ -n "$CLIENT_NS" ]; then
      [ -n "$CLIENT_VETH" ] || die "--client-veth is required with --client-ns"
      [ -e "/run/netns/$CLIENT_NS" ] || ip netns add "$CLIENT_NS"
      ip -n "$CLIENT_NS" link set lo up
      if ! ip -n "$CLIENT_NS" link show dev "$CLIENT_VETH" >/dev/null 2>&1; then
        ip -n "$CLIENT_NS" link add "$CLIENT_VETH" type veth peer name "${CLIENT_VETH}p" netns "$NETNS"
      fi
      W link set "${CLIENT_VETH}p" master "$PUB_BR" up
      ip -n "$CLIENT_NS" link set "$CLIENT_VETH" up
      if [ -n "$CLIENT_IP" ] &&
        ! ip -n "$CLIENT_NS" -br addr show dev "$CLIENT_VETH" | grep -qF " ${CLIENT_IP}"; then
        ip -n "$CLIENT_NS" addr add "$CLIENT_IP" dev "$CLIENT_VETH"
      fi
    fi
    ;;
  add-host)
    [ -n "$PUB_BR" ] && [ -n "$XO_BR" ] && [ -n "$PUB_TAP" ] && [ -n "$XO_TAP" ] &&
      [ -n "$DECOY_TAP" ] || die "add-host needs --pub-br --xo-br --pub-tap --xo-tap --decoy-tap"
    for t in "$PUB_TAP" "$XO_TAP" "$DECOY_TAP"; do
      W link show dev "$t" >/dev/null 2>&1 || W tuntap add dev "$t" mode tap
    done
    W link set "$PUB_TAP" master "$PUB_BR" up
    W link set "$XO_TAP" master "$XO_BR" up
    W link set "$DECOY_TAP" up
    ;;
  del-host)
    for t in "$PUB_TAP" "$XO_TAP" "$DECOY_TAP"; do
      [ -n "$t" ] && W link del dev "$t" 2>/dev/null || true
    done
    ;;
  down)
    if [ -n "$ROOT_VETH" ]; then ip link del dev "$ROOT_VETH" 2>/dev/null || true; fi
    if [ -n "$CLIENT_NS" ] && [ -e "/run/netns/$CLIENT_NS" ]; then ip netns del "$CLIENT_NS"; fi
    if [ -e "/run/netns/$NETNS" ]; then ip netns del "$NETNS"; fi
    ;;
  *) die "unknown command $CMD" ;;
esac
