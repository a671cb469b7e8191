/** Pure: can this pair have a DRBD mirror at all? Judged from its last preflight report. No I/O. */

import { z } from 'zod';
import type { MirrorUnavailableDTO } from '../contract/link.js';
import type { LastPreflight } from '../contract/preflight.js';

/** The preflight service's last report (asked of that service, never read from its store key). */
export type StoredPreflight = LastPreflight;

/** What store.kv('mirror-skip') holds: the user chose to protect without DRBD on these hosts. */
export interface MirrorSkip {
  hosts: string[];
  at: number;
}

export const MIRROR_SKIP_KEY = 'mirror-skip';

/** The skip as the store must hold it (validated on every read). */
export const mirrorSkipSchema: z.ZodType<MirrorSkip> = z.object({ hosts: z.array(z.string().min(1)), at: z.number() });

/** The preflight rules whose failure makes a DRBD mirror impossible. */
const DRBD_RULES = new Set(['drbd-module', 'drbd-utils']);

const sameHosts = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((h) => y.includes(h));

export type DrbdAvailability =
  | { state: 'unknown'; why: string }
  | { state: 'available' }
  | { state: 'unavailable'; why: string; fix: string; hosts: { host: string; name: string }[]; checkedAt: number };

/**
 * DRBD on the pair `hosts` (host identities address:port), from the last preflight: 'unknown'
 * when none ran for exactly these two hosts; 'unavailable' with the failing findings (why) and
 * their fixes when a DRBD rule failed on either host.
 */
export function drbdAvailability(stored: StoredPreflight | undefined, hosts: readonly string[]): DrbdAvailability {
  const checked = stored?.report.hosts.map((h) => h.hostId) ?? [];
  if (!stored || !sameHosts(checked, hosts)) return { state: 'unknown', why: 'No preflight has checked these two hosts yet.' };
  const fails = stored.report.findings.filter((f) => f.level === 'fail' && DRBD_RULES.has(f.id));
  if (!fails.length) return { state: 'available' };
  const fixes = [...new Set(fails.map((f) => (f.host ? `on ${f.host}: ${f.fix}` : f.fix)))];
  return {
    state: 'unavailable',
    why: fails.map((f) => (f.host ? `${f.host}: ${f.what}` : f.what)).join('; '),
    fix: fixes.join('; '),
    hosts: stored.report.hosts.map((h) => ({ host: h.hostId, name: h.name })),
    checkedAt: stored.at,
  };
}

/** The mirror status of a pair without DRBD; `continued` once the user chose a full copy for exactly these hosts. */
export function unavailableStatus(a: Extract<DrbdAvailability, { state: 'unavailable' }>, skip: MirrorSkip | undefined): MirrorUnavailableDTO {
  return {
    state: 'unavailable',
    hosts: a.hosts,
    why: a.why,
    fix: a.fix,
    diskSync: 'full-copy',
    continued:
      !!skip &&
      sameHosts(
        skip.hosts,
        a.hosts.map((h) => h.host),
      ),
    checkedAt: a.checkedAt,
  };
}
