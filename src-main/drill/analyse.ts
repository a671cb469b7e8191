import type { DowntimeSample } from '../contract/lockstep.js';

/**
 * Pure: what the client saw, from the meter's samples. Polls overlap (one starts every 10 ms
 * whether or not the last one answered), so answers are ordered by when they arrived:
 * - the longest gap is the longest time between two consecutive answers;
 * - the counter went backwards if an answer to a poll started after another answer had
 *   arrived carries a count not above it (each GET increments the counter once).
 */
/** a silence this long is listed in the gap distribution even if no poll failed inside it */
const NOTABLE_GAP_MS = 200;

export function analyseSamples(
  samples: DowntimeSample[],
  /** when the fault was injected and when it had been handled (failover done), drill time */
  fault?: { at: number; handledAt?: number },
): {
  attempts: number;
  /** the longest silence of the outage: between two answers, the later one after the fault, the earlier one before it was handled */
  faultGapMs: number | null;
  failures: number;
  longestGapMs: number;
  gapsMs: number[];
  wentBackwards: boolean;
  answersAfterLastFailure: number;
} {
  const answers = samples
    .filter((s): s is DowntimeSample & { ms: number } => s.ms !== null)
    .map((s) => ({ start: s.t, end: s.t + s.ms, count: s.count }))
    .sort((a, b) => a.end - b.end);
  const failedStarts = samples.filter((s) => s.ms === null).map((s) => s.t);
  let longest = 0;
  let faultGap: number | null = null;
  const gaps: number[] = [];
  for (let i = 1; i < answers.length; i++) {
    const from = answers[i - 1]!.end;
    const to = answers[i]!.end;
    const gap = to - from;
    longest = Math.max(longest, gap);
    // (the process may die a little after the fault is injected: the outage is found between injection and handling)
    if (fault && to > fault.at && from <= (fault.handledAt ?? fault.at)) faultGap = Math.max(faultGap ?? 0, Math.round(gap));
    const failedInside = failedStarts.some((t) => t >= from && t < to);
    if (failedInside || gap > NOTABLE_GAP_MS) gaps.push(gap);
  }
  // happens-before: answers sorted by arrival; for each poll (by start), the highest count already seen
  let wentBackwards = false;
  const byStart = answers.filter((a) => a.count !== undefined).sort((a, b) => a.start - b.start);
  const byEnd = answers.filter((a) => a.count !== undefined);
  let k = 0;
  let seenMax = -Infinity;
  for (const a of byStart) {
    while (k < byEnd.length && byEnd[k]!.end < a.start) seenMax = Math.max(seenMax, byEnd[k++]!.count!);
    if (a.count! <= seenMax) wentBackwards = true;
  }
  const lastFailure = failedStarts.length ? Math.max(...failedStarts) : -Infinity;
  return {
    attempts: samples.length,
    faultGapMs: faultGap,
    failures: failedStarts.length,
    longestGapMs: Math.round(longest),
    gapsMs: gaps.map(Math.round),
    wentBackwards,
    answersAfterLastFailure: answers.filter((a) => a.start > lastFailure).length,
  };
}
