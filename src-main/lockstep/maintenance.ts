/**
 * Pure: host maintenance (issue 20) — which side a host runs, the records a maintenance cycle
 * goes through, what the app says while a host is out, and the cycle's report figures.
 * The service (maintenance-service.ts) wires these to the hosts.
 */
import { LockstepError } from '../contract/index.js';
import type { MaintenanceGap, MaintenanceReport, MaintenanceStatus } from '../contract/maintenance.js';
import type { PairStatus, VmSide } from '../contract/lockstep.js';
import type { MaintenanceMark, PairRecord } from './pair-record.js';

type InMaintenance = Extract<PairRecord, { state: 'maintenance' }>;
type FailedOver = Extract<PairRecord, { state: 'failed-over' }>;

/** Which VM the host runs in a pair in lockstep, or null when it is not one of the pair's hosts. */
export function roleOf(r: PairRecord, hostId: string): 'primary' | 'secondary' | null {
  return r.primary === hostId ? 'primary' : r.secondary === hostId ? 'secondary' : null;
}

/**
 * Refuses maintenance where it would not be safe, with the fix: only a pair in lockstep can lose
 * one host on purpose (a failed-over pair already runs on one host, a starting one on neither).
 */
export function enterRefusal(r: PairRecord | undefined, live: PairStatus['state'], host: { hostId: string; name: string }): LockstepError | null {
  if (r?.state === 'maintenance')
    return r.maintenance.host === host.hostId
      ? null
      : new LockstepError({
          code: 'other-host-in-maintenance',
          message: 'The other host of the pair is in maintenance: the guest runs on this one alone. Taking it out too would stop the guest.',
          fix: 'lockstep host maintenance exit OTHER_HOST (when it is back), then enter maintenance here',
        });
  if (!r || live !== 'lockstep')
    return new LockstepError({
      code: 'not-in-lockstep',
      message:
        live === 'failed-over'
          ? 'The guest already runs on one host alone (a failover): re-protect it before a planned maintenance.'
          : 'Maintenance moves a guest that runs in lockstep; there is none.',
      fix: live === 'failed-over' ? 'lockstep lockstep reprotect' : 'lockstep lockstep status',
    });
  if (!roleOf(r, host.hostId))
    return new LockstepError({
      code: 'not-in-pair',
      message: `${host.name} runs no VM of the protected guest: it can be rebooted without maintenance mode.`,
      fix: 'lockstep lockstep status',
    });
  return null;
}

/** The record once the host's side is retired: the survivor runs the guest alone (record of the failover → maintenance). */
export function maintenanceRecord(r: FailedOver, mark: Omit<MaintenanceMark, 'host'>): InMaintenance {
  const { failedAt: _failedAt, lost, ...rest } = r;
  return { ...rest, state: 'maintenance', secondary: lost, maintenance: { ...mark, host: lost } };
}

/** The record a re-protect starts from when the host is back: the host in maintenance is the lost one. */
export function returnedRecord(r: InMaintenance, now: number): FailedOver {
  const { maintenance, ...rest } = r;
  return { ...rest, state: 'failed-over', lost: maintenance.host, failedAt: now };
}

/** The pair's status while a host is in maintenance (the guest is down when the survivor's VM is gone). */
export function maintenanceStatus(r: InMaintenance, side: (ref: string) => VmSide, survivorAlive: boolean): PairStatus {
  const host = side(r.maintenance.host);
  const survivor = side(r.primary);
  if (!survivorAlive)
    return {
      state: 'unprotected',
      why: `The guest is down: ${host.name} is in maintenance and its only VM, on ${survivor.name}, is gone too. ${survivor.name}'s disk holds every acknowledged write: protect again with it first.`,
    };
  return { state: 'maintenance', survivor: { ...survivor, colo: 'none' }, host, since: r.maintenance.enteredAt, guestAddress: r.guestAddress };
}

/** The plain sentences while a host is out. */
export function maintenanceWords(host: string, survivor: string): { say: string; risk: string; next: string } {
  return {
    say: `${host} can be rebooted now; the guest runs unprotected on ${survivor}.`,
    risk:
      `If ${survivor} fails before ${host} is back, the guest stops: nothing else runs it, and the host agents are held (no failover, no alarm). ` +
      `${survivor}'s disk holds every acknowledged write: when ${survivor} is back, protect again with it first (lockstep lockstep protect ${survivor} ${host}).`,
    next: `When ${host} is back (it answers SSH): lockstep host maintenance exit ${host} (add --failback to make it the primary again).`,
  };
}

/** The error when re-protect or protect is asked for while a host is in maintenance. */
export function inMaintenanceError(host: string): LockstepError {
  return new LockstepError({
    code: 'in-maintenance',
    message: `${host} is in maintenance: ending maintenance re-protects the guest.`,
    fix: `lockstep host maintenance exit ${host}`,
  });
}

/** The record, unless a host is in maintenance (then protect and re-protect refuse: exit re-protects). */
export function notInMaintenance(r: PairRecord | undefined, name: (ref: string) => string): PairRecord | undefined {
  if (r?.state === 'maintenance') throw inMaintenanceError(name(r.maintenance.host));
  return r;
}

/** Pure: the longest ordinary-client gap at a switchover (re-protect pauses are listed, not counted). */
export function switchoverGap(gaps: MaintenanceGap[]): number | null {
  const at = gaps.filter((g) => g.what !== 'reprotect' && g.ordinaryClientMs !== null).map((g) => g.ordinaryClientMs!);
  return at.length ? Math.max(...at) : null;
}

/**
 * Pure: seconds the guest ran unprotected, from the moments protection was lost and regained
 * (pairs of [lost, regained]; an open interval runs until `now`).
 */
export function unprotectedSeconds(intervals: [number, number | null][], now: number): number {
  const ms = intervals.reduce((sum, [a, b]) => sum + Math.max(0, (b ?? now) - a), 0);
  return Math.round(ms / 100) / 10;
}

/** Pure: the status a report is in. */
export function statusOf(report: MaintenanceReport | null, inMaintenance: boolean, words?: ReturnType<typeof maintenanceWords>): MaintenanceStatus {
  if (report && inMaintenance && words)
    return { state: 'in-maintenance', host: report.host, hostId: report.hostId, survivor: report.survivor, since: report.enteredAt, ...words, report };
  if (report && report.protectedAt !== null)
    return {
      state: 'protected',
      say: `${report.host} is back and the guest is protected again (primary on ${report.primaryNow}); ${report.unprotectedSeconds} s unprotected.`,
      report,
    };
  return { state: 'none', why: 'No host is in maintenance.', last: report };
}
