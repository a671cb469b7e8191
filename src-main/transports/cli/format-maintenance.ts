import type { MaintenanceReport, MaintenanceStatus } from '../../contract/index.js';
import { MAINTENANCE_FIGURES } from '../../contract/index.js';

const ms = (v: number | null) => (v === null ? 'not measured' : `${v} ms`);

/** A maintenance cycle's report, as `name: value` lines and one line per client-visible moment. */
export function formatMaintenanceReport(r: MaintenanceReport): string {
  return [
    `Maintenance #${r.id} of ${r.host} (it ran the ${r.hostRole}); the guest ran on ${r.survivor} meanwhile`,
    ...r.gaps.map(
      (g) =>
        `  ${g.what.padEnd(9)} ${g.from} → ${g.to}: ordinary client gap ${ms(g.ordinaryClientMs)}, TCP stream gap ${ms(g.streamMs)}` +
        `${g.streamSurvived === false ? ' (stream broken)' : ''}, step ${g.stepMs} ms`,
    ),
    `${MAINTENANCE_FIGURES.switchoverGapMs.bench}: ${r.switchoverGapMs ?? 'none'}`,
    `${MAINTENANCE_FIGURES.unprotectedSeconds.bench}: ${r.unprotectedSeconds}`,
    `${MAINTENANCE_FIGURES.resyncBytes.bench}: ${r.resyncBytes}`,
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

/** What `lockstep host maintenance …` prints: the plain sentence first, then the report. */
export function formatMaintenance(s: MaintenanceStatus): string {
  switch (s.state) {
    case 'in-maintenance':
      return [s.say, s.risk, s.next, '', formatMaintenanceReport(s.report)].join('\n');
    case 'protected':
      return [s.say, '', formatMaintenanceReport(s.report)].join('\n');
    case 'none':
      return [s.why, ...(s.last ? ['', 'Last cycle:', formatMaintenanceReport(s.last)] : [])].join('\n');
  }
}
