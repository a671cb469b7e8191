# Sourced by the service scripts: settings from /init and small helpers.
. /run/lsg/env

# listening PORT_HEX: a TCP socket listens on the port (IPv4 or dual-stack IPv6).
listening() { grep -q ":$1 [0-9A-F]*:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
