/**
 * Pure: noticing a failover the app did not do itself (the host agents act without the app) from
 * what the two sides show, and the pair record that follows — the same record the app's own
 * failover (`failoverOnSecondary`) and continue-alone (`continueAlone`) write.
 */
import type { PairRecord } from './pair-record.js';

export type ObservedFailover = 'secondary-took-over' | 'primary-alone';

export interface SidesSeen {
  /** query-colo-status mode, or null when QMP did not answer (VM gone, host unreachable, monitor busy) */
  primaryMode: string | null;
  secondaryMode: string | null;
  /** is the VM's QEMU process alive? null = the host does not answer SSH */
  primaryVmAlive: boolean | null;
  secondaryVmAlive: boolean | null;
}

/**
 * A side in COLO mode `none` whose peer's VM is gone (or whose peer host is unreachable) ran its
 * failover sequence: QEMU never leaves COLO by itself when its peer dies (field notes), only on
 * x-colo-lost-heartbeat. Anything else (both gone, both still in COLO, both `none` with both VMs
 * alive) is not a failover and stays for the caller to report.
 */
export function observedFailover(s: SidesSeen): ObservedFailover | null {
  const primaryGone = s.primaryVmAlive === false || (s.primaryVmAlive === null && s.primaryMode === null);
  const secondaryGone = s.secondaryVmAlive === false || (s.secondaryVmAlive === null && s.secondaryMode === null);
  if (s.secondaryMode === 'none' && s.secondaryVmAlive !== false && primaryGone) return 'secondary-took-over';
  if (s.primaryMode === 'none' && s.primaryVmAlive !== false && secondaryGone) return 'primary-alone';
  return null;
}

/** The pair record after a failover: the survivor is the primary (roles and crossover addresses swap when the secondary took over). */
export function failedOverRecord(r: PairRecord, what: ObservedFailover, at: number): PairRecord {
  if (what === 'primary-alone') return { ...r, state: 'failed-over', lost: r.secondary, failedAt: at };
  // the survivor still runs the QEMU started as the secondary ('secondary' file set)
  return { ...r, state: 'failed-over', primary: r.secondary, lost: r.primary, xa: r.xb, xb: r.xa, primaryVm: 'secondary', failedAt: at };
}
