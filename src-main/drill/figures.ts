/**
 * Pure: a drill's client-visible figures and where the time went, from the meter's samples
 * (drill time, ms) and what the acting agent reported (wall clock, ms).
 */
import type { DowntimeSample, DrillBreakdown, DrillGaps } from '../contract/lockstep.js';
import { analyseSamples } from './analyse.js';
import type { WireFrame } from './plain-client.js';

/** a connect this slow went through on the kernel's 1 s SYN retransmission */
export const SYN_RETRY_MS = 900;

export interface FaultTimes {
  /** drill time of the fault, and of the drill having handled it */
  at: number;
  handledAt?: number;
  /** drill time the acting agent's command started and finished (null: no agent acted) */
  actStart: number | null;
  actEnd: number | null;
}

/** The longest gap across the fault between consecutive answers of a one-at-a-time client, and where it ended. */
function faultSpan(samples: DowntimeSample[], f: FaultTimes): { gap: number | null; to: number | null } {
  const ends = samples
    .filter((s) => s.ms !== null)
    .map((s) => s.t + s.ms!)
    .sort((a, b) => a - b);
  let gap: number | null = null;
  let to: number | null = null;
  for (let i = 1; i < ends.length; i++) {
    const [a, b] = [ends[i - 1]!, ends[i]!];
    if (b > f.at && a <= (f.handledAt ?? f.at) && b - a > (gap ?? -1)) [gap, to] = [Math.round(b - a), b];
  }
  if (to === null) to = ends.find((e) => e > f.at) ?? null;
  return { gap, to };
}

/** The longest stream silence that overlaps the fault (else the longest of the drill). */
export function streamFaultGap(gaps: [number, number][] | undefined, longestMs: number, f: FaultTimes): number {
  const across = (gaps ?? []).filter(([a, b]) => b > f.at && a <= (f.handledAt ?? f.at)).map(([a, b]) => b - a);
  // no silence over 100 ms across the fault: it was at most that
  return Math.round(across.length ? Math.max(...across) : Math.min(longestMs, 100));
}

export function drillFigures(
  m: { hedged: DowntimeSample[]; ordinary: DowntimeSample[]; streamGaps?: [number, number][]; streamLongestMs: number; wire: WireFrame[] },
  f: FaultTimes,
): { gaps: DrillGaps; breakdown: DrillBreakdown; ordinary: { attempts: number; failures: number; timeouts: number; synRetries: number } } {
  const plain = faultSpan(m.ordinary, f);
  const hedged = analyseSamples(m.hedged, { at: f.at, handledAt: f.handledAt });
  const streamMs = streamFaultGap(m.streamGaps, m.streamLongestMs, f);
  const gaps: DrillGaps = {
    ordinaryClientMs: plain.gap,
    streamMs,
    hedgedMs: hedged.faultGapMs,
    headlineMs: Math.max(plain.gap ?? 0, streamMs),
  };
  const inOutage = m.ordinary.filter((s) => s.t + (s.ms ?? 1000) >= f.at && (plain.to === null || s.t <= plain.to));
  const retried = inOutage.filter((s) => (s.connectMs ?? 0) >= SYN_RETRY_MS);
  const neverConnected = inOutage.filter((s) => s.ms === null && s.connectMs === undefined);
  const notes: string[] = [];
  if (retried.length)
    notes.push(
      `${retried.length} new connection(s) got through only on the kernel's 1 s SYN retransmission (connect ${retried.map((s) => s.connectMs).join(', ')} ms)`,
    );
  if (neverConnected.length) notes.push(`${neverConnected.length} request(s) timed out at 1 s with no connection (a SYN lost with the dead side)`);
  const since = (t: number | null) => (t === null ? null : Math.round(t - f.at));
  const frame = f.actStart === null ? undefined : m.wire.find((w) => w.t >= f.actStart!);
  const breakdown: DrillBreakdown = {
    detectionMs: since(f.actStart),
    failoverDoneMs: since(f.actEnd),
    firstFrameMs: frame ? since(frame.t) : null,
    ...(frame ? { firstFrameKind: frame.kind } : {}),
    firstAnswerMs: since(plain.to),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
  return {
    gaps,
    breakdown,
    ordinary: {
      attempts: m.ordinary.length,
      failures: m.ordinary.filter((s) => s.ms === null).length,
      timeouts: m.ordinary.filter((s) => s.ms === null && (s.connectMs === undefined || s.connectMs < 1000)).length,
      synRetries: m.ordinary.filter((s) => (s.connectMs ?? 0) >= SYN_RETRY_MS).length,
    },
  };
}
