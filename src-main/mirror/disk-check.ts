/**
 * Pure: is a backing disk free to be overwritten by DRBD? One read-only script per host
 * (constant text, the device is its argument), its parser, and the refusal with the exact
 * `--wipe HOST:/dev/X` that confirms an overwrite. Nothing destructive happens here.
 */
import { LockstepError } from '../contract/errors.js';

/**
 * Prints `key=value` lines about the block device "$1": its real path, size, where it is
 * mounted, swap, holders (LVM, md, dm-crypt), partitions, read-only flag and the signature
 * `blkid -p` finds (file system, partition table, DRBD metadata: TYPE=drbd).
 */
export const DISK_CHECK_SCRIPT = [
  'd=$1',
  'if [ ! -b "$d" ]; then echo notblock=1; exit 0; fi',
  'r=$(readlink -f "$d"); k=${r##*/}',
  'echo "real=$r"; echo "kname=$k"',
  'echo "size=$(/usr/bin/env blockdev --getsize64 "$r" 2>/dev/null)"',
  'echo "ro=$(cat /sys/class/block/$k/ro 2>/dev/null)"',
  '/usr/bin/env findmnt -rn -o TARGET -S "$r" 2>/dev/null | sed "s/^/mount=/"',
  'while read -r src _; do [ "$src" = "$r" ] && echo swap=1; done </proc/swaps',
  'for h in /sys/class/block/$k/holders/*; do [ -e "$h" ] && echo "holder=${h##*/}"; done',
  'for p in /sys/class/block/$k/*/partition; do [ -e "$p" ] && { p=${p%/partition}; echo "partition=${p##*/}"; }; done',
  '/usr/bin/env blkid -p -o export "$r" 2>/dev/null | sed -n "s/^\\(TYPE\\|PTTYPE\\|USAGE\\|VERSION\\)=/sig_\\1=/p"',
  'exit 0',
].join('; ');

export function diskCheckArgv(disk: string): string[] {
  return ['sh', '-c', DISK_CHECK_SCRIPT, 'sh', disk];
}

export interface DiskUse {
  /** as named by the user (or chosen) */
  path: string;
  block: boolean;
  real: string | null;
  sizeBytes: number | null;
  readOnly: boolean;
  mounts: string[];
  swap: boolean;
  holders: string[];
  partitions: string[];
  /** what blkid -p found: TYPE (ext4, drbd, LVM2_member, …), PTTYPE (gpt, dos), USAGE */
  signature: { type: string | null; ptType: string | null; usage: string | null; version: string | null } | null;
}

export function parseDiskCheck(path: string, text: string): DiskUse {
  const kv: [string, string][] = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
  const one = (k: string) => kv.find(([x]) => x === k)?.[1] ?? null;
  const all = (k: string) => kv.filter(([x]) => x === k).map(([, v]) => v);
  const sig = { type: one('sig_TYPE'), ptType: one('sig_PTTYPE'), usage: one('sig_USAGE'), version: one('sig_VERSION') };
  const size = Number(one('size'));
  return {
    path,
    block: one('notblock') === null && one('real') !== null,
    real: one('real'),
    sizeBytes: Number.isFinite(size) && size > 0 ? size : null,
    readOnly: one('ro') === '1',
    mounts: all('mount'),
    swap: one('swap') === '1',
    holders: all('holder'),
    partitions: all('partition'),
    signature: sig.type || sig.ptType ? sig : null,
  };
}

export type DiskProblemKind = 'not-block' | 'read-only' | 'mounted' | 'swap' | 'holders' | 'partitions' | 'signature' | 'drbd-metadata';

export interface DiskProblem {
  kind: DiskProblemKind;
  text: string;
  /** `--wipe HOST:/dev/X` may override it (a signature, old metadata); the others need the user to free the disk first */
  wipeable: boolean;
}

/** Pure: everything that says the disk is in use or holds data. `ours`: DRBD metadata this app wrote there. */
export function diskProblems(u: DiskUse, opts: { ours?: boolean; minor?: number } = {}): DiskProblem[] {
  if (!u.block) return [{ kind: 'not-block', text: `${u.path} is not a block device`, wipeable: false }];
  const out: DiskProblem[] = [];
  if (u.readOnly) out.push({ kind: 'read-only', text: `${u.path} is read-only`, wipeable: false });
  if (u.mounts.length) out.push({ kind: 'mounted', text: `${u.path} is mounted on ${u.mounts.join(', ')}`, wipeable: false });
  if (u.swap) out.push({ kind: 'swap', text: `${u.path} is active swap`, wipeable: false });
  // our own resource, attached: DRBD holds its backing disk
  const holders = u.holders.filter((h) => !(opts.ours && h === `drbd${opts.minor ?? 0}`));
  if (holders.length) out.push({ kind: 'holders', text: `${u.path} is held by ${holders.join(', ')} (a device stacked on it)`, wipeable: false });
  if (u.partitions.length) out.push({ kind: 'partitions', text: `${u.path} has partitions (${u.partitions.join(', ')})`, wipeable: true });
  const s = u.signature;
  if (s?.type === 'drbd') {
    if (!opts.ours)
      out.push({ kind: 'drbd-metadata', text: `${u.path} carries DRBD metadata (${s.version ?? 'v08/v09'}) of an earlier mirror`, wipeable: true });
  } else if (s) {
    out.push({
      kind: 'signature',
      text: `${u.path} carries ${s.type ? `a ${s.type} ${s.usage === 'filesystem' ? 'file system' : (s.usage ?? 'signature')}` : `a ${s.ptType} partition table`}`,
      wipeable: true,
    });
  }
  return out;
}

/** `HOST:/dev/X` → its parts; null when malformed. HOST may be a name, an address or address:port. */
export function parseWipe(token: string): { host: string; disk: string } | null {
  const i = token.indexOf(':/dev/');
  return i > 0 ? { host: token.slice(0, i), disk: token.slice(i + 1) } : null;
}

/** Pure: does one of the `--wipe` tokens name exactly this host and this device? */
export function wipeConfirmed(wipe: readonly string[], host: { name: string; address: string; hostId: string }, disk: string): boolean {
  return wipe.some((t) => {
    const w = parseWipe(t);
    return w !== null && w.disk === disk && [host.name, host.address, host.hostId].includes(w.host);
  });
}

function freeIt(p: DiskProblem): string {
  switch (p.kind) {
    case 'mounted':
      return `umount it: ${p.text}`;
    case 'swap':
      return `swapoff it: ${p.text}`;
    case 'holders':
      return `stop what is stacked on it (vgchange -an, mdadm --stop, cryptsetup close or drbdadm down): ${p.text}`;
    case 'read-only':
      return `make it writable: ${p.text}`;
    default:
      return p.text;
  }
}

/** The refusal: what is on the disk, and the exact confirmation (or the freeing) that lets setup go on. */
export function diskRefusal(
  host: { name: string; hostId: string },
  disk: string,
  problems: readonly DiskProblem[],
  rerun: { flag: '--disk-a' | '--disk-b'; otherArgs?: string },
): LockstepError {
  const hard = problems.filter((p) => !p.wipeable);
  const again = `lockstep mirror setup ${rerun.flag} ${disk}${rerun.otherArgs ? ` ${rerun.otherArgs}` : ''}`;
  if (hard.length) {
    return new LockstepError({
      code: 'mirror-disk-in-use',
      message: `${host.name} ${disk} is in use: ${hard.map((p) => p.text).join('; ')}. Nothing was changed.`,
      cause: problems.map((p) => p.text).join('; '),
      fix: `Pick another disk (${rerun.flag} /dev/…), or free this one first (${hard.map(freeIt).join('; ')}), then: ${again} --wipe ${host.name}:${disk}`,
      host: host.hostId,
      step: 'mirror-disks',
    });
  }
  return new LockstepError({
    code: 'mirror-disk-not-blank',
    message: `${host.name} ${disk} is not blank: ${problems.map((p) => p.text).join('; ')}. Nothing was changed.`,
    fix: `If its data may be destroyed: ${again} --wipe ${host.name}:${disk}   (or choose another disk with ${rerun.flag} /dev/…)`,
    host: host.hostId,
    step: 'mirror-disks',
  });
}
