/**
 * The one script the preflight runs on each host (`sh -s` over SSH, script on stdin). Read-only:
 * it changes nothing on the host. Constant text: no value from outside is ever interpolated.
 *
 * Output contract (parsed by `parseGatherOutput` in ./parse.ts):
 *   - sections, each opened by a line `=== name @TOKEN ===` (name: [a-z0-9-]+; TOKEN: a random
 *     per-run token, the same in every header, so no line of a command's output can pass for a
 *     header);
 *   - the body is the command's stdout (stderr is dropped);
 *   - the last line of a section is `!rc=N` (the command's exit status), or the whole body is
 *     `!missing` when the program is not installed;
 *   - every command is bounded by `timeout` (when present) and reads /dev/null, so one missing or
 *     hung tool never hides the others;
 *   - the first section is `gather` (format version), the last is `end` (output complete).
 * Programs run through `/usr/bin/env` (as every host command of the app does, see hosts/host-command),
 * so a busybox sh does not answer with its own applets; the `programs` section finds each program
 * of the inventory (hosts/inventory) on PATH by walking PATH itself (`command -v` in busybox ash also
 * names applets), and the `probe-*` sections try the capabilities the app needs (`ip -j`, `ping -M do`,
 * `ss` filters, GNU `timeout`, `setsid -f`). `os-release` and `pve` tell the distribution.
 * When the SSH user is not root but passwordless sudo works, `nft`, `iptables` and `blkid` (which
 * need root to see anything) run through `sudo -n`.
 * No guest is started: the `qemu-qmp` section runs `qemu-system-x86_64 -machine none` (no disk, no
 * NIC, ~30 ms) only to ask for its migration capabilities (x-colo), then quits it over QMP.
 * Block drivers come from `-drive format=help` (replication), objects from `-object help` (never
 * `qom-list-properties` on colo-compare: it aborts QEMU 7.2).
 */
import { HOST_PROGRAMS } from '../inventory.js';

export const GATHER_FORMAT_VERSION = 1;

/** The inventory's names, checked here: constants of this app, never from a host. */
const PROGRAM_NAMES = HOST_PROGRAMS.map((p) => {
  if (!/^[a-z0-9._+-]+$/.test(p.name)) throw new Error(`inventory name ${JSON.stringify(p.name)} cannot go into the gather script`);
  return p.name;
}).join(' ');

/** (A template literal: `\\` and `\${` below are a backslash and `${` in the script.) */
export const GATHER_SCRIPT = `# lockstep-gather 1: read-only facts about this host, printed as "=== name @TOKEN ===" sections.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C
export PATH LC_ALL
ENV=
if [ -x /usr/bin/env ]; then ENV=/usr/bin/env; fi
TO=
if command -v timeout >/dev/null 2>&1; then TO='timeout 20'; fi
SUDO=
if [ "$(id -u 2>/dev/null)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true </dev/null >/dev/null 2>&1; then SUDO='sudo -n'; fi

# a per-run token in every header: no output line can pass for a header
TOKEN=$(cat /proc/sys/kernel/random/uuid 2>/dev/null) || TOKEN=
case $TOKEN in *[!0-9a-f-]* | '') TOKEN=$$-$(date +%s 2>/dev/null) ;; esac

# emit NAME RC OUT: one section.
emit() {
  printf '=== %s @%s ===\\n' "$1" "$TOKEN"
  if [ "$2" = 127 ] && [ -z "$3" ]; then printf '!missing\\n'; return 0; fi
  if [ -n "$3" ]; then printf '%s\\n' "$3"; fi
  printf '!rc=%s\\n' "$2"
}
# run NAME PROGRAM ARGS...: an external program (127 = not installed), started through env (after
# timeout: a busybox timeout would pick its own applet for a bare name, never for env's full path).
run() {
  run_name=$1
  shift
  if ! command -v "$1" >/dev/null 2>&1; then emit "$run_name" 127 ''; return 0; fi
  run_out=$($TO $ENV "$@" </dev/null 2>/dev/null)
  run_rc=$?
  emit "$run_name" "$run_rc" "$run_out"
}
# fn NAME FUNCTION: a shell function below (returning 127 = not there).
fn() {
  fn_out=$("$2" </dev/null 2>/dev/null)
  fn_rc=$?
  emit "$1" "$fn_rc" "$fn_out"
}

f_format() { echo 'lockstep-gather 1'; }
f_cpu_flags() { [ -r /proc/cpuinfo ] || return 127; grep -m1 '^flags' /proc/cpuinfo; }
f_kvm() {
  if [ -c /dev/kvm ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo 'present rw'; else echo 'present'; fi
  else
    echo 'absent'
  fi
}
f_qemu_qmp() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 || return 127
  printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-migrate-capabilities"}' '{"execute":"quit"}' |
    $TO qemu-system-x86_64 -machine none -display none -nodefaults -no-user-config -qmp stdio
}
f_qemu_img_formats() {
  command -v qemu-img >/dev/null 2>&1 || return 127
  $TO qemu-img --help | grep '^Supported formats:'
}
f_drbd_proc() { [ -r /proc/drbd ] || return 127; head -n 3 /proc/drbd; }
f_meminfo() { [ -r /proc/meminfo ] || return 127; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo; }
f_net_sysfs() {
  [ -d /sys/class/net ] || return 127
  for f_d in /sys/class/net/*; do
    [ -e "$f_d" ] || continue
    f_speed=$(cat "$f_d/speed" 2>/dev/null) || f_speed=-
    f_carrier=$(cat "$f_d/carrier" 2>/dev/null) || f_carrier=-
    if [ -e "$f_d/device" ]; then f_dev=device; else f_dev=-; fi
    printf '%s\\t%s\\t%s\\t%s\\n' "\${f_speed:--}" "\${f_carrier:--}" "$f_dev" "\${f_d##*/}"
  done
}
f_lsblk() {
  command -v lsblk >/dev/null 2>&1 || return 127
  $TO lsblk -J -b -o NAME,KNAME,PATH,SIZE,TYPE,MOUNTPOINTS,FSTYPE,PTTYPE,RO,PKNAME 2>/dev/null ||
    $TO lsblk -J -b -o NAME,KNAME,PATH,SIZE,TYPE,MOUNTPOINT,FSTYPE,PTTYPE,RO,PKNAME
}
f_holders() {
  [ -d /sys/block ] || return 127
  for f_h in /sys/block/*/holders/* /sys/block/*/*/holders/*; do
    [ -e "$f_h" ] || continue
    f_dev=\${f_h%/holders/*}
    printf '%s\\t%s\\n' "\${f_dev##*/}" "\${f_h##*/}"
  done
}
f_blkid() {
  command -v blkid >/dev/null 2>&1 || return 127
  $SUDO $TO blkid -c /dev/null -o export
}
f_init() {
  if [ -d /run/systemd/system ]; then echo 'systemd-booted'; fi
  ps -p 1 -o comm= 2>/dev/null || cat /proc/1/comm
}
f_user() { id -u && id -un; }
f_sudo() {
  if [ "$(id -u)" = 0 ]; then echo 'root'; return 0; fi
  command -v sudo >/dev/null 2>&1 || return 127
  sudo -n true && echo 'ok'
}
f_nft() {
  command -v nft >/dev/null 2>&1 || return 127
  $SUDO $TO nft list ruleset
}
f_iptables() {
  command -v iptables >/dev/null 2>&1 || return 127
  $SUDO $TO iptables -S
}
f_iperf3() { command -v iperf3; }
f_os_release() {
  if [ -r /etc/os-release ]; then cat /etc/os-release; elif [ -r /usr/lib/os-release ]; then cat /usr/lib/os-release; else return 127; fi
}
f_pve() { if [ -d /etc/pve ] || [ -x /usr/bin/pveversion ]; then echo 'pve'; fi; }
# each program of the inventory: its name, a tab and its path (or -), found by walking PATH as env does
f_programs() {
  for f_p in ${PROGRAM_NAMES}; do
    f_found=-
    f_ifs=$IFS
    IFS=:
    for f_dir in $PATH; do
      if [ -n "$f_dir" ] && [ -f "$f_dir/$f_p" ] && [ -x "$f_dir/$f_p" ]; then f_found=$f_dir/$f_p; break; fi
    done
    IFS=$f_ifs
    printf '%s\t%s\n' "$f_p" "$f_found"
  done
}
f_end() { echo 'end'; }

fn gather f_format
run hostname uname -n
run kernel uname -r
run arch uname -m
fn cpu-flags f_cpu_flags
fn kvm f_kvm
run qemu-version qemu-system-x86_64 --version
run qemu-objects qemu-system-x86_64 -object help
run qemu-formats qemu-system-x86_64 -drive format=help
run qemu-accel qemu-system-x86_64 -accel help
fn qemu-qmp f_qemu_qmp
fn qemu-img-formats f_qemu_img_formats
fn drbd-proc f_drbd_proc
run drbd-modinfo modinfo -F version drbd
run drbdadm-version drbdadm --version
fn meminfo f_meminfo
run ip-addr ip -d -j addr show
run ip-route ip -j route show
run ip-route6 ip -j -6 route show
fn net-sysfs f_net_sysfs
fn lsblk f_lsblk
fn block-holders f_holders
fn blkid f_blkid
fn init f_init
run clock date +%s.%N
fn user f_user
fn sudo f_sudo
fn nft f_nft
fn iptables f_iptables
fn iperf3 f_iperf3
fn os-release f_os_release
fn pve f_pve
fn programs f_programs
run probe-ip-json ip -j link show lo
run probe-ping-df ping -n -M do -s 56 -c 1 -W 2 127.0.0.1
run probe-ss ss -Hltn 'sport = :22'
run probe-timeout timeout 5 true
run probe-setsid setsid -f true
fn end f_end
`;
