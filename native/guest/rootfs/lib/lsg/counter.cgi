#!/bin/sh
# GET / (busybox httpd runs /cgi-bin/index.cgi for "/"): one increment of the counter,
# answered with {"count":N,"boot":"ID","host":"NAME"} only once counterd has stored N on
# the disk. Any failure gives a JSON error with status 503 and never a count.
R=/run/lsg

answer() { # STATUS BODY
  printf 'Status: %s\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s\n' "$1" "$2"
  exit 0
}
fail() { rm -f "$f"; answer "503 Service Unavailable" "{\"error\":\"$1\"}"; }

[ "$REQUEST_METHOD" = GET ] || answer "405 Method Not Allowed" '{"error":"only GET is served"}'

id=$$.$RANDOM
f=$R/rep/$$
rm -f "$f"
[ -p "$R/req" ] || fail "counter service not running"
mkfifo -m 600 "$f" || fail "no reply channel"
exec 4<>"$f"
echo "$id" 1<>"$R/req"
while read -r -t 5 rid body <&4; do
  [ "$rid" = "$id" ] || continue
  case $body in
    '{'*) rm -f "$f"; answer "200 OK" "$body" ;;
    *) fail "$body" ;;
  esac
done
fail "counter service did not answer"
