/**
 * Pure: the longest silence a one-at-a-time client saw across a moment the app caused on purpose
 * (a planned switchover, a re-protect's join), from its samples (ms since the meter started).
 * Unlike a drill's fault span it says when it cannot know: no answer before the moment (the client
 * started late) is null, not zero; no answer after it counts the silence up to the end of watching.
 */
import type { DowntimeSample } from '../contract/lockstep.js';

export function gapAcross(samples: DowntimeSample[], moment: { at: number; handledAt: number }, watchedUntil: number): number | null {
  const ends = samples
    .filter((s) => s.ms !== null)
    .map((s) => s.t + s.ms!)
    .sort((a, b) => a - b);
  const before = ends.filter((e) => e <= moment.at);
  if (!before.length) return null;
  let gap = 0;
  let last = before.at(-1)!;
  for (const e of ends.filter((x) => x > moment.at)) {
    if (last > moment.handledAt) break;
    gap = Math.max(gap, e - last);
    last = e;
  }
  // no answer after the moment was handled while the client watched: silent until the end (at least)
  if (last <= moment.handledAt) gap = Math.max(gap, watchedUntil - last);
  return Math.round(gap);
}
