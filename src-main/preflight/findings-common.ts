/**
 * Pure: what the preflight's rule families share: the shape of a finding, the check options and
 * their defaults, and the helpers that write texts and fix commands. No I/O. Values from the host
 * reach a command only through q (quoteArg), so a hostile NIC or host name stays data.
 */
import { quoteArg } from '../hosts/shell-quote.js';
import { installCommand, UNKNOWN_OS, type OsInfo } from '../hosts/distro.js';
import type { Version } from '../hosts/facts/facts.js';

export type FindingLevel = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable rule id, e.g. `qemu`, `drbd-module`, `firewall`, `hostnames-differ`. */
  id: string;
  level: FindingLevel;
  /** One line: what is so. */
  what: string;
  /** Why it matters (and what was seen). */
  why: string;
  /** The exact command (as root, on `host`) or action that fixes it; '' when nothing is to be done. */
  fix: string;
  /** Which host (its label); absent for findings about the pair. */
  host?: string;
  /** For `fail`: 'lockstep' = only COLO is impossible, 'mirror' = only the DRBD mirror is impossible, 'all' = no protection. */
  blocks?: 'lockstep' | 'mirror' | 'all';
}

export type Tier = 'lockstep' | 'mirror' | 'none';

export interface Verdict {
  tier: Tier;
  why: string;
}

export interface PortUse {
  port: number;
  what: string;
}

/** TCP ports the peer reaches over the crossover (the lab's defaults; pass the real ones). */
export const DEFAULT_PORTS: readonly PortUse[] = [
  { port: 7789, what: 'DRBD' },
  { port: 9998, what: 'migration' },
  { port: 9999, what: 'NBD' },
  { port: 9003, what: 'COLO mirror' },
  { port: 9004, what: 'COLO compare' },
];

/** Per-QEMU memory beyond guest RAM (TCG's translation cache included: RSS measured 370–580 MiB for a 128 MiB guest). */
export const DEFAULT_OVERHEAD_BYTES = 512 * 1024 * 1024;

export interface HostCheckOptions {
  /** Guest RAM: with it, the memory check runs (COLO's secondary needs about twice this). */
  guestRamBytes?: number;
  /** Per-QEMU overhead beyond guest RAM; default DEFAULT_OVERHEAD_BYTES. */
  overheadBytes?: number;
  /** Guest disk size: smaller disks are not offered for DRBD. */
  guestDiskBytes?: number;
  /** Ports to allow through a firewall; default DEFAULT_PORTS. */
  ports?: readonly PortUse[];
  /** Label used in `host` and texts; default the hostname. */
  label?: string;
  /** A host of the virtual lab: it shares this machine's kernel (namespaces) or boots the lab's own (kernel). No fix reboots it or installs a kernel. */
  lab?: 'namespaces' | 'kernel';
}

export interface PairCheckOptions {
  guestRamBytes: number;
  overheadBytes?: number;
  guestDiskBytes?: number;
  ports?: readonly PortUse[];
  /** Clock of b minus clock of a in seconds, measured by the caller (round-trip corrected); omitted: no clock check. */
  clockOffsetSeconds?: number | null;
  /** Labels of the two hosts; default their hostnames (or `host A` / `host B` when missing or equal). */
  labels?: readonly [string, string];
  /** Which of the two are lab hosts (see HostCheckOptions.lab). */
  labs?: readonly [HostCheckOptions['lab'], HostCheckOptions['lab']];
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
export const size = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / MiB)} MiB`);
export const vstr = (v: Version) => `${v.major}.${v.minor}.${v.patch}`;
export const cmp = (a: Version, b: Version) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;
/** Quote a host-provided value for a fix command; control characters (which quoteArg refuses) become '?'. */
// eslint-disable-next-line no-control-regex
export const q = (s: string) => quoteArg(s.replace(/[\x00-\x1f\x7f]/g, '?'));
export const shown = (s: string) => JSON.stringify(s);

export function sudoersFix(user: string | null, os: OsInfo = UNKNOWN_OS): string {
  const line = `${user ?? 'USER'} ALL=(ALL) NOPASSWD: ALL`;
  const write = `echo ${q(line)} > /etc/sudoers.d/lockstep && chmod 0440 /etc/sudoers.d/lockstep`;
  const install = installCommand(os.family, ['sudo']);
  return install ? `${install} && ${write}` : `Install sudo, then: ${write}`;
}

export { LAB_DRBD_FIX } from '../hosts/distro.js';

/** How a rule reports: `add` a finding (hostFindings fills in the host), `ok` a check that passed. */
export interface Emit {
  add: (f: Omit<Finding, 'host'>) => void;
  ok: (id: string, what: string, why?: string) => void;
}
