#!/bin/bash
# Can user-mode Linux run on this machine? Boots linux.uml with a two-line init that prints a
# marker and powers off. Some machines cannot run Debian 12's UML at all (CPUs with AMX state:
# "ptrace set fp regs failed" and a panic at PID 1), which a CPU-flag guess would only guess.
# Prints "ok" (exit 0), or "no: REASON" (exit 1). Takes about a second (longer on a loaded machine).
set -uo pipefail
UML_BIN=${LAB_UML_BIN:-linux.uml}
command -v "$UML_BIN" >/dev/null || { echo "no: $UML_BIN is not installed (apt-get install -y user-mode-linux)"; exit 1; }
# not under /dev: the kernel mounts devtmpfs there and would hide the init
d=$(mktemp -d /tmp/lockstep-uml-probe.XXXXXX) || { echo "no: cannot create a probe dir in /tmp"; exit 1; }
trap 'rm -rf "$d"' EXIT
cat >"$d/init" <<'INIT'
#!/bin/sh
echo lockstep-uml-probe-ok
mount -t proc proc /proc 2>/dev/null
echo o >/proc/sysrq-trigger
INIT
chmod 0755 "$d/init"
# the kernel's power off ends in SIGABRT, which bash would report on stderr
exec 2>/dev/null
(TMPDIR=/dev/shm timeout -s KILL 45 "$UML_BIN" "umid=probe$$" "uml_dir=$d" mem=48M root=/dev/root rootfstype=hostfs \
  rootflags=/ ro "init=$d/init" con0=null,fd:1 con=null ssl=null </dev/null >"$d/log" 2>&1) &
pid=$!
# a machine where UML cannot run fails at once (panic at PID 1: the loop ends when the process does);
# a loaded machine only boots slowly: wait for it (up to 40 s) rather than call it unable
for _ in $(seq 1 800); do
  grep -q lockstep-uml-probe-ok "$d/log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
ok=0
grep -q lockstep-uml-probe-ok "$d/log" && ok=1
pkill -KILL -f "umid=probe$$ " 2>/dev/null
{ wait "$pid"; } 2>/dev/null || true
if [ $ok = 1 ]; then
  echo ok
  exit 0
fi
why=$(grep -m1 -E 'ptrace|panic|failed' "$d/log" | grep -v mmapper | tr -s ' ' | cut -c1-200)
echo "no: user-mode Linux does not boot here (${why:-no output from its first process})"
exit 1
