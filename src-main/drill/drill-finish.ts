/** The end of a drill: figures, invariants, what each host agent did (event history), the stored report. */
import type { LabStatus } from '../contract/lab.js';
import type { DrillAgentAct, DrillMode, DrillReport, PairStatus } from '../contract/lockstep.js';
import type { DrillContext, DrillPair } from './drill-context.js';
import type { DrillsRepo } from './drills-repo.js';
import { analyseSamples } from './analyse.js';
import { drillFigures } from './figures.js';
import type { MeterResult } from './meter.js';

/** Never two primaries: after a drill exactly one guest VM runs on the pair (lab: seen from the machine; else over SSH). */
async function vmsRunning(svc: DrillContext, lab: LabStatus, hosts: string[]): Promise<number> {
  // the power of each host now (a drill may have powered one off since it began)
  if (lab.state === 'up' && lab.kernelHosts) lab = await svc.lab.status();
  let n = 0;
  for (const ref of hosts) {
    const h = lab.state === 'up' ? lab.hosts.find((x) => `${x.address}:${x.port}` === ref) : undefined;
    // a namespace host is seen from the machine; a kernel host that is off runs nothing, one that is on is asked over SSH
    if (h && lab.state === 'up' && !lab.kernelHosts) {
      n += await svc.lab.vmsRunning(h.name);
      continue;
    }
    if (h?.power === 'off') continue;
    const s = await svc.hosts.session(ref);
    for (const pidFile of svc.vmPidFiles) if ((await svc.pidOf(s, pidFile)) !== null) n++;
  }
  return n;
}

export interface DrillRun {
  mode: DrillMode;
  r: DrillPair;
  lab: LabStatus;
  startedAt: number;
  /** wall clock of the fault */
  tFault: number;
  /** drill time the drill had handled the fault */
  handledAt: number;
  /** what the acting agent did (null: it did not act in time) */
  act: DrillAgentAct | null;
  actorName: string;
  m: MeterResult;
  timeline: { t: number; what: string }[];
  reasons: string[];
  before: PairStatus;
  after: PairStatus;
  expected: string;
}

/** One line per agent for the event history: who did what, why, how long. */
function agentLine(a: DrillAgentAct, since: number): string {
  if (!a.action || (a.startedAt ?? 0) < since - 1000) return `${a.name}'s agent (${a.role}) did not act (${a.state})`;
  const ms = a.finishedAt !== null && a.startedAt !== null ? `${a.finishedAt - a.startedAt} ms` : 'running';
  return `${a.name}'s agent (${a.role}) ran ${a.action}: ${a.reason || a.state}; colo-failover ${ms}, exit ${a.rc ?? '—'}`;
}

export async function finishDrill(svc: DrillContext, drills: DrillsRepo, d: DrillRun): Promise<DrillReport> {
  const { m, reasons, startedAt } = d;
  const shift = m.startedAt - startedAt;
  const move = <T extends { t: number }>(xs: T[] | undefined): T[] => (xs ?? []).map((x) => ({ ...x, t: x.t + shift }));
  const samples = move(m.samples);
  const ordinary = move(m.ordinary);
  const faultAt = d.tFault - startedAt;
  const fault = {
    at: faultAt,
    handledAt: d.handledAt,
    actStart: d.act?.startedAt != null ? d.act.startedAt - startedAt : null,
    actEnd: d.act?.finishedAt != null ? d.act.finishedAt - startedAt : null,
  };
  const http = analyseSamples(samples, { at: faultAt, handledAt: d.handledAt });
  const fig = drillFigures(
    {
      hedged: samples,
      ordinary,
      streamGaps: m.stream.gaps?.map(([a, b]) => [a + shift, b + shift] as [number, number]),
      streamLongestMs: m.stream.longestGapMs,
      wire: move(m.wire),
    },
    fault,
  );
  if (!d.act) reasons.push(`${d.actorName}'s host agent did not act within 30 s of the fault.`);
  else if (d.act.rc !== 0) reasons.push(`${d.actorName}'s host agent ran ${d.act.action}, which failed (exit ${d.act.rc}).`);
  const acts = svc.agents ? await svc.agents.lastActions().catch(() => []) : [];
  const others = acts.filter((a) => a.host !== d.act?.host && a.action && (a.startedAt ?? 0) >= d.tFault - 1000);
  if (others.length) reasons.push(`Another agent acted too: ${others.map((a) => `${a.name} ran ${a.action}`).join(', ')}.`);
  const reported = d.act ? [d.act, ...acts.filter((a) => a.host !== d.act!.host)] : acts;
  for (const a of reported)
    svc.bus.log(a.action && (a.startedAt ?? 0) >= d.tFault - 1000 ? 'warn' : 'info', 'agent', `Drill ${d.mode}: ${agentLine(a, d.tFault)}`);
  if (http.wentBackwards) reasons.push('The counter went backwards.');
  if (!m.stream.survived) reasons.push(`The client's TCP session did not survive (${m.stream.error ?? 'closed'}).`);
  if (http.answersAfterLastFailure === 0) reasons.push('The guest did not answer again after the fault.');
  const vms = await vmsRunning(svc, d.lab, [d.r.primary, d.r.secondary]);
  if (vms > 1) reasons.push(`${vms} guest VMs still run on the pair after the drill: two primaries possible.`);
  if (vms === 0) reasons.push('No guest VM runs on the pair after the drill.');
  const report = drills.insert({
    mode: d.mode,
    expected: d.expected,
    startedAt,
    endedAt: Date.now(),
    verdict: reasons.length ? 'failed' : 'passed',
    reasons,
    timeline: d.timeline.sort((a, b) => a.t - b.t),
    http: {
      attempts: http.attempts,
      failures: http.failures,
      longestGapMs: http.longestGapMs,
      faultGapMs: http.faultGapMs,
      gapsMs: http.gapsMs,
      wentBackwards: http.wentBackwards,
      samples,
    },
    stream: { survived: m.stream.survived, longestGapMs: m.stream.longestGapMs, wentBackwards: m.stream.wentBackwards },
    detectionMs: fig.breakdown.detectionMs,
    gaps: fig.gaps,
    breakdown: fig.breakdown,
    agents: reported,
    ordinary: { ...fig.ordinary, samples: ordinary },
    before: d.before,
    after: d.after,
  });
  const g = fig.gaps;
  svc.bus.log(
    report.verdict === 'passed' ? 'info' : 'error',
    'drill',
    `Drill ${d.mode}: ${report.verdict}; gap ${g.headlineMs} ms (ordinary client ${g.ordinaryClientMs ?? '—'} ms, TCP stream ${g.streamMs} ms; hedged service ${g.hedgedMs ?? '—'} ms), detection ${fig.breakdown.detectionMs ?? '—'} ms by ${d.actorName}'s agent, TCP ${m.stream.survived ? 'kept' : 'lost'}${fig.breakdown.note ? ` — ${fig.breakdown.note}` : ''}${reasons.length ? ` — ${reasons.join(' ')}` : ''}`,
  );
  return report;
}
