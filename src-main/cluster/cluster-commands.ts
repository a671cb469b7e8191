/**
 * Pure: the commands the cluster runs on a host. argv arrays, or CONSTANT shell scripts (no
 * value from outside is ever spliced into a script: what varies travels as an argv argument or
 * on stdin). Daemons run under systemd where the host has it, else (lab hosts) are started
 * directly in the foreground under setsid, as docs/field-notes/pacemaker.md describes.
 */

import { HEURISTICS_PATH } from './corosync-conf.js';
import { assertResourceId } from './names.js';

export const COROSYNC_CONF = '/etc/corosync/corosync.conf';
export const AUTHKEY = '/etc/corosync/authkey';
export const CRM_FILE = '/etc/lockstep/cluster.crm';

/** `sh -c SCRIPT sh ARGS…`: the script is constant, its arguments are $1…. */
const sh = (script: string, ...args: string[]): string[] => ['sh', '-c', script, 'sh', ...args];

/** What a node needs (corosync-qdevice too with a witness: $1 = yes); prints the missing ones, exit 0 when complete. */
export const checkPackages = (witness = false): string[] =>
  sh(
    'q=; [ "$1" = yes ] && q=corosync-qdevice; m=""; for p in corosync pacemakerd crm crm_mon cibadmin corosync-cfgtool corosync-quorumtool $q; do command -v "$p" >/dev/null 2>&1 || m="$m $p"; done; ' +
      '[ -x /usr/lib/ocf/resource.d/linbit/drbd ] || m="$m ocf:linbit:drbd"; [ -x /usr/lib/drbd/crm-fence-peer.sh ] || m="$m crm-fence-peer.sh"; ' +
      'echo "$m"; [ -z "$m" ]',
    witness ? 'yes' : 'no',
  );

/** systemd (a real host) or not (lab hosts boot a small init). */
export const detectStarter = (): string[] => sh('if [ -d /run/systemd/system ]; then echo systemd; else echo direct; fi');

/**
 * Directories the daemons need (systemd-tmpfiles makes them on a real host; a lab host's /run is
 * an empty tmpfs): owned hacluster:haclient, convergent.
 */
export const prepareDirs = (): string[] =>
  sh(
    'set -e; mkdir -p /etc/corosync /etc/lockstep /var/log/corosync /var/lib/corosync /run/corosync-qdevice /run/resource-agents /var/log/crmsh; ' +
      'for d in /var/log/pacemaker /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores; do ' +
      'mkdir -p "$d"; chown hacluster:haclient "$d"; done; chmod 770 /var/log/pacemaker; chmod 750 /var/lib/pacemaker/cib /var/lib/pacemaker/pengine',
  );

/** Writes stdin to PATH atomically with MODE: temp file, fsync, rename. */
export const writeFileAtomic = (path: string, mode: string): string[] =>
  sh('set -e; t="$1.lockstep-new"; cat >"$t"; chmod "$2" "$t"; sync "$t"; mv -f "$t" "$1"', path, mode);

/** Keeps the host's own corosync.conf (the package's default, or the admin's) once, before ours replaces it. */
export const keepOriginalConf = (): string[] =>
  sh('c="$1"; [ -e "$c" ] && [ ! -e "$c.lockstep-orig" ] && ! grep -q "^# Lockstep Lab" "$c" && cp -p "$c" "$c.lockstep-orig"; true', COROSYNC_CONF);

/** stdin (base64) → PATH, mode 0400 (the authkey). */
export const writeBase64Atomic = (path: string): string[] =>
  sh('set -e; t="$1.lockstep-new"; base64 -d >"$t"; chmod 0400 "$t"; sync "$t"; mv -f "$t" "$1"', path);

/** base64 of a file (to compare the authkey without printing it into a log). */
export const readBase64 = (path: string): string[] => sh('base64 -w0 "$1"', path);

/** Which daemons run: one word per running daemon. */
export const daemonsRunning = (): string[] =>
  sh('for p in corosync corosync-qdevice pacemakerd pacemaker-controld; do pidof "$p" >/dev/null 2>&1 && echo "$p"; done; true');

/**
 * qdevice's heuristics check, run by corosync-qdevice at every membership change: exit 0 where a
 * DRBD resource is Primary on this host (a resource's own line starts in column 0; its peers'
 * lines are indented). Of two halves that cannot see each other but both reach the witness, the
 * one that passes keeps quorum: the VM stays where it runs.
 */
export const HEURISTICS_SCRIPT = [
  '#!/bin/sh',
  '# Lockstep Lab: corosync-qdevice heuristics. Generated; edits are overwritten.',
  '# Passes (exit 0) on the host where a DRBD resource is Primary.',
  "drbdsetup status 2>/dev/null | grep -q '^[^ ].* role:Primary'",
  '',
].join('\n');
export { HEURISTICS_PATH };

/**
 * Starts corosync, then corosync-qdevice where corosync.conf names a quorum device, then pacemakerd
 * (each only if not running). $1 = systemd | direct.
 */
export const startDaemons = (starter: 'systemd' | 'direct'): string[] =>
  sh(
    'set -e; q=no; grep -q "^ *model: net" "$2" && q=yes; ' +
      'if [ "$1" = systemd ]; then systemctl start corosync; [ $q = no ] || systemctl start corosync-qdevice; systemctl start pacemaker; exit 0; fi; ' +
      'if ! pidof corosync >/dev/null; then setsid corosync -f </dev/null >>/var/log/corosync/foreground.log 2>&1 & ' +
      'for i in $(seq 1 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done; fi; ' +
      'if [ $q = yes ] && ! pidof corosync-qdevice >/dev/null; then setsid corosync-qdevice -f </dev/null >>/var/log/corosync/qdevice.log 2>&1 & fi; ' +
      'if ! pidof pacemakerd >/dev/null; then setsid pacemakerd -f </dev/null >>/var/log/pacemaker/foreground.log 2>&1 & fi; true',
    starter,
    COROSYNC_CONF,
  );

/** The quorum as votequorum counts it (`Total votes`, `Quorate`, the Qdevice flag). */
export const quorumState = (): string[] => ['corosync-quorumtool', '-s'];

/**
 * Stops pacemakerd (it stops the resources it runs on this node first), then the quorum device,
 * then corosync; waits up to 60 s for each, then KILL. $1 = systemd | direct.
 */
export const stopDaemons = (starter: 'systemd' | 'direct'): string[] =>
  sh(
    'if [ "$1" = systemd ]; then systemctl stop pacemaker; systemctl stop corosync-qdevice 2>/dev/null; systemctl stop corosync; exit 0; fi; ' +
      'for p in pacemakerd corosync-qdevice corosync; do pidof "$p" >/dev/null || continue; kill -TERM $(pidof "$p"); ' +
      'for i in $(seq 1 600); do pidof "$p" >/dev/null || break; sleep 0.1; done; ' +
      'pidof "$p" >/dev/null && { echo "$p did not stop in 60 s: SIGKILL" >&2; kill -KILL $(pidof "$p"); }; done; ' +
      'for p in pacemaker-based pacemaker-fenced pacemaker-execd pacemaker-attrd pacemaker-schedulerd pacemaker-controld; do pidof "$p" >/dev/null && kill -KILL $(pidof "$p"); done; true',
    starter,
  );

/** corosync re-reads corosync.conf (token, quorum device) without a restart. */
export const reloadCorosync = (): string[] => ['corosync-cfgtool', '-R'];

export const crmMon = (): string[] => ['crm_mon', '-1', '--output-as=xml'];

/** Loads the crm script (file on the host) into the running CIB, merging (ids it names are replaced). */
export const crmLoad = (): string[] => ['crm', 'configure', 'load', 'update', CRM_FILE];

/** The ids present in the CIB's resources and constraints sections. */
export const cibIds = (): string[] => sh('cibadmin --query --scope resources; cibadmin --query --scope constraints');

/**
 * Files the cluster made, removed by `cluster remove` (the CIB goes with /var/lib/pacemaker/cib):
 * corosync.conf (the host's own is put back), the authkey, the crm script, our OCF agent, the
 * guests' argument files; the guests' run directory (pid, log, sockets) too unless a guest was
 * left running ($4 = keep).
 */
export const removeFiles = (guestRun: 'keep' | 'remove'): string[] =>
  sh(
    'rm -f "$1" "$2" "$3" "$5" /usr/lib/ocf/resource.d/lockstep/guest /var/lib/pacemaker/cib/cib* /etc/lockstep/guests/*.args; ' +
      'rmdir /usr/lib/ocf/resource.d/lockstep /etc/lockstep/guests /usr/lib/lockstep 2>/dev/null; [ "$4" = keep ] || rm -rf /run/lockstep-guest; ' +
      '[ -e "$1.lockstep-orig" ] && mv -f "$1.lockstep-orig" "$1"; true',
    COROSYNC_CONF,
    AUTHKEY,
    CRM_FILE,
    guestRun,
    HEURISTICS_PATH,
  );

/** Pacemaker leaves every resource where it is (cluster remove --keep-guest, and before the app's ids are deleted). */
export const maintenanceOn = (): string[] => sh('crm_attribute --type crm_config --name maintenance-mode --update true');

/**
 * Deletes ids from the CIB without stopping them first (the cluster is in maintenance mode); ids
 * already gone are not an error, a refused change is. One cibadmin call for all of them, matching
 * only top-level resources and constraints (a clone's primitive goes with its clone; the status
 * section is not touched). crmsh, one call per id, overran the 60 s command timeout for five ids
 * on a loaded kernel-lab host (2026-12-07: `cluster remove` failed with remote-timeout).
 * The ids are validated resource ids (names.ts), so they sit in the XPath quoted as they are.
 */
export const crmDeleteOnly = (ids: readonly string[]): string[] =>
  sh(
    'x=; for id in "$@"; do x="${x:+$x or }@id=\'$id\'"; done; [ -n "$x" ] || exit 0; ' +
      // 105: none of them is there (a second run); anything else is Pacemaker refusing the change
      'cibadmin --force --delete-all --xpath "/cib/configuration/*[self::resources or self::constraints]/*[$x]"; rc=$?; [ $rc = 0 ] || [ $rc = 105 ]',
    ...ids.map((id) => assertResourceId(id)),
  );

/** Asks Pacemaker to stop resources (target-role Stopped); deleting them is a separate step once they stopped. */
export const crmStop = (ids: readonly string[]): string[] =>
  sh('for id in "$@"; do crm_resource --resource "$id" --set-parameter target-role --meta --parameter-value Stopped >/dev/null 2>&1; done; true', ...ids);

/** DRBD's role here and at the peer (Primary/Secondary). */
export const drbdRole = (resource: string): string[] => ['drbdadm', 'role', resource];

/** The guest's blank counter disk: `bytes` of zeros at the start of the device, written through (oflag=direct, fsync). */
export const seedDisk = (device: string, bytes: number): string[] => [
  'dd',
  'if=/dev/zero',
  `of=${device}`,
  'bs=1M',
  `count=${Math.ceil(bytes / 2 ** 20)}`,
  'oflag=direct',
  'conv=fsync',
  'status=none',
];
