import type { CommandName, ErrorDTO, EventRecord, MaintenanceStatus, PlanDTO, PreflightReport, VmInspection, VmListing } from '../../contract/index.js';
import { formatVmInspection, formatVmList } from './format-vm.js';
import { formatMaintenance } from './format-maintenance.js';

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export function formatError(e: ErrorDTO): string {
  const lines = [`error: ${e.message}${e.host ? ` (host ${e.host})` : ''}${e.step ? ` [step ${e.step}]` : ''}`];
  if (e.cause) lines.push(`cause: ${e.cause}`);
  if (e.fix) lines.push(`fix:   ${e.fix}`);
  return lines.join('\n');
}

export function formatEvent(r: EventRecord): string {
  return `${time(r.at)}  ${r.level.padEnd(5)} ${r.source.padEnd(9)} ${r.host ? `[${r.host}] ` : ''}${r.message}`;
}

export function formatPlan(p: PlanDTO): string {
  const mark: Record<string, string> = { done: '✔', skipped: '✔', failed: '✘', cancelled: '■', pending: '·', probing: '…', applying: '…', verifying: '…' };
  return [
    `${p.title}  (${p.state}, ${p.id})`,
    ...p.steps.map((s) => `  ${mark[s.state] ?? '?'} ${s.title}${s.state === 'skipped' ? ' (already so)' : ''}${s.error ? ` — ${s.error.message}` : ''}`),
  ].join('\n');
}

/** Human output by default; `--json` prints the raw value. */
export function formatValue(name: CommandName, value: unknown): string {
  switch (name) {
    case 'events.list':
      return (value as EventRecord[]).map(formatEvent).join('\n') || '(no events)';
    case 'events.note':
      return formatEvent(value as EventRecord);
    case 'tasks.list':
      return (value as PlanDTO[]).map(formatPlan).join('\n\n') || '(no plans)';
    case 'tasks.cancel':
      return formatPlan(value as PlanDTO);
    case 'drill.export':
      return (value as { html: string }).html;
    case 'preflight.run':
      return formatPreflight(value as PreflightReport);
    case 'host.maintenance':
      return formatMaintenance(value as MaintenanceStatus);
    case 'preflight.last': {
      const last = value as { at: number; report: PreflightReport } | null;
      return last ? `Checked ${new Date(last.at).toISOString()}\n${formatPreflight(last.report)}` : '(no preflight has run yet)';
    }
    case 'vm.list':
      return formatVmList(value as VmListing);
    case 'vm.inspect':
      return formatVmInspection(value as VmInspection);
    default:
      return formatObject(value);
  }
}

export function formatObject(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return `${indent}${String(v)}`;
  if (Array.isArray(v)) return v.map((x) => formatObject(x, indent + '  ')).join(v.some((x) => x !== null && typeof x === 'object') ? '\n\n' : '\n');
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => (x !== null && typeof x === 'object' ? `${indent}${k}:\n${formatObject(x, indent + '  ')}` : `${indent}${k}: ${String(x)}`))
    .join('\n');
}

export function formatPreflight(r: PreflightReport): string {
  const mark = { ok: '✔', warn: '!', fail: '✘' } as const;
  const lines = r.hosts.map(
    (h) =>
      `${h.name} (${h.hostId}): kernel ${h.kernel ?? '?'}, ${h.accel.toUpperCase()}, QEMU ${h.qemu ?? 'none'}, DRBD ${h.drbd ?? 'none'}, ${h.memoryMiB ?? '?'} MiB`,
  );
  lines.push('');
  for (const f of r.findings) {
    lines.push(`${mark[f.level]} ${f.host ? `[${f.host}] ` : ''}${f.what}`);
    if (f.level !== 'ok') {
      lines.push(`    why: ${f.why}`);
      if (f.fix) lines.push(`    fix: ${f.fix}`);
    }
  }
  lines.push('', `Verdict: ${r.verdict.tier.toUpperCase()} — ${r.verdict.why}`);
  return lines.join('\n');
}
