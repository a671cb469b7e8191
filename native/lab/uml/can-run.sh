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
# One boot of the probe kernel; 0 when the marker was printed. A machine where UML cannot run fails
# at once (panic at PID 1: the wait ends when the process does); a loaded machine only boots slowly:
# wait for it (up to 40 s) rather than call it unable.
boot() {
  local log=$1 umid=$2
  (TMPDIR=/dev/shm timeout -s KILL 45 "$UML_BIN" "umid=$umid" "uml_dir=$d" mem=48M root=/dev/root rootfstype=hostfs \
    rootflags=/ ro "init=$d/init" con0=null,fd:1 con=null ssl=null </dev/null >"$log" 2>&1) &
  local pid=$!
  for _ in $(seq 1 800); do
    grep -q lockstep-uml-probe-ok "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  local ok=1
  grep -q lockstep-uml-probe-ok "$log" && ok=0
  pkill -KILL -f "umid=$umid " 2>/dev/null
  { wait "$pid"; } 2>/dev/null || true
  return $ok
}
# up to three boots: one that ends early with no sign of the AMX failure (seen once right after
# other UML kernels stopped, its last words "Checking that ptrace can change system call numbers...OK")
# is tried again; the AMX failure ("ptrace set fp regs failed", a panic) is final at once
for n in 1 2 3; do
  if boot "$d/log" "probe$$-$n"; then
    echo ok
    exit 0
  fi
  grep -qE 'ptrace set fp regs failed|Kernel panic' "$d/log" && break
  sleep 1
done
why=$(grep -E 'ptrace|panic|failed' "$d/log" | grep -v -e mmapper -e 'OK$' | head -n1 | tr -s ' ' | cut -c1-200)
echo "no: user-mode Linux does not boot here (${why:-no output from its first process})"
exit 1
