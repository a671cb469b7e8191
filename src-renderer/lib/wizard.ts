import type { LastPreflight, LinkStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';

/** Pure: where the Setup wizard stands, and what its pages promise, from the app's real state. */

export type PageId = 'discover' | 'preflight' | 'link' | 'mirror' | 'protect';
export const PAGES: readonly { id: PageId; label: string }[] = [
  { id: 'discover', label: 'Discover' },
  { id: 'preflight', label: 'Preflight' },
  { id: 'link', label: 'Link' },
  { id: 'mirror', label: 'Mirror' },
  { id: 'protect', label: 'Protect' },
];
export const pageIndex = (p: PageId): number => PAGES.findIndex((x) => x.id === p);

export interface WizardState {
  hosts: { hostId: string }[];
  preflight: LastPreflight | null;
  link: LinkStatus | null;
  mirror: MirrorStatusDTO | null;
  pair: PairStatus | null;
}

/** The first page whose work is not done yet: where the wizard resumes after a restart. */
export function reachedPage(s: WizardState): PageId {
  if (s.hosts.length < 2) return 'discover';
  if (s.pair && s.pair.state !== 'unprotected' && s.pair.state !== 'error') return 'protect';
  const m = s.mirror;
  if (m && m.state !== 'none' && (m.state !== 'unavailable' || m.continued)) return 'protect';
  if (s.link?.state === 'up') return 'mirror';
  const checked = s.preflight?.report.hosts ?? [];
  const pairChecked = checked.length === 2 && checked.every((c) => s.hosts.some((h) => h.hostId === c.hostId));
  return pairChecked && s.preflight!.report.verdict.tier !== 'none' ? 'link' : 'preflight';
}

/** Pages whose work is done: every page before the one reached, and Protect itself while the guest runs in lockstep. */
export function donePages(s: WizardState): Set<PageId> {
  const reached = pageIndex(reachedPage(s));
  return new Set(PAGES.filter((p, i) => i < reached || (p.id === 'protect' && s.pair?.state === 'lockstep')).map((p) => p.id));
}

/** The two ends of a link /30 (network + 1 on host A, + 2 on host B), or null when it is not a /30 network. */
export function linkEnds(subnet: string): { a: string; b: string } | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/30$/.exec(subnet.trim());
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255) || o[3]! % 4 !== 0) return null;
  const at = (k: number) => `${o[0]}.${o[1]}.${o[2]}.${o[3]! + k}/30`;
  return { a: at(1), b: at(2) };
}

export interface DiskSyncPlan {
  /** Protect always copies the guest's disk itself (a cold byte copy); a DRBD mirror, when there is one, is not what lockstep runs on */
  method: 'full-copy';
  /** e.g. "Full copy: no DRBD on this pair" */
  headline: string;
  why: string;
}

/** How Protect will make the two disks identical, and why, from the mirror status. */
export function diskSyncPlan(m: MirrorStatusDTO | null, names: { a: string; b: string }): DiskSyncPlan {
  const copy = `${names.a}'s guest disk is copied in full to ${names.b} before lockstep starts.`;
  if (m?.state === 'unavailable') return { method: 'full-copy', headline: 'Full copy: no DRBD on this pair', why: `${m.why}. ${copy}` };
  if (!m || m.state === 'none') return { method: 'full-copy', headline: 'Full copy: no DRBD mirror was set up', why: copy };
  return {
    method: 'full-copy',
    headline: 'Full copy: lockstep does not run on the DRBD mirror',
    why: `The DRBD mirror ${m.resource} (${m.device}, ${m.state}) stays as it is. ${copy}`,
  };
}
