import type { DowntimeSample } from '../contract/lockstep.js';

/** Pure: what the client saw, from the meter's samples. */
export function analyseSamples(samples: DowntimeSample[]): {
  attempts: number;
  failures: number;
  longestGapMs: number;
  gapsMs: number[];
  wentBackwards: boolean;
  answersAfterLastFailure: number;
} {
  let lastGood: number | null = null;
  let lastCount = -Infinity;
  let wentBackwards = false;
  let longest = 0;
  const gaps: number[] = [];
  let inGap = false;
  let answersAfterLastFailure = 0;
  for (const s of samples) {
    if (s.ms === null) {
      inGap = true;
      answersAfterLastFailure = 0;
      continue;
    }
    const at = s.t + s.ms;
    if (lastGood !== null) {
      const gap = at - lastGood;
      longest = Math.max(longest, gap);
      if (inGap || gap > 500) gaps.push(gap);
    }
    inGap = false;
    lastGood = at;
    answersAfterLastFailure++;
    if (s.count !== undefined) {
      if (s.count <= lastCount) wentBackwards = true;
      lastCount = s.count;
    }
  }
  return {
    attempts: samples.length,
    failures: samples.filter((s) => s.ms === null).length,
    longestGapMs: Math.round(longest),
    gapsMs: gaps.map(Math.round),
    wentBackwards,
    answersAfterLastFailure,
  };
}
