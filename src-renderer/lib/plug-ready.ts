import type { PairStatus, PlanDTO } from '../../src-main/contract/index.js';

/** Plans that change the protected pair: a drill started beside one would be refused (or measure a pair in motion). */
const PAIR_PLANS = ['lockstep.protect', 'lockstep.reprotect', 'agent.deploy'];

/**
 * Why "Pull the plug" cannot be pressed now, in words for the button's place; null when it can.
 * Pure: the pair as last observed and the plans the window knows of.
 */
export function plugBlocker(pair: PairStatus | null, plans: PlanDTO[]): string | null {
  const busy = plans.find((p) => p.state === 'running' && PAIR_PLANS.includes(p.kind));
  if (busy) return `Wait: “${busy.title}” is running.`;
  if (!pair || pair.state !== 'lockstep') {
    if (pair?.state === 'starting') return pair.step === 'reprotecting' ? 'Wait: a re-protect is running.' : 'Wait: protect is starting the pair.';
    return 'Available once the guest runs in lockstep.';
  }
  if (pair.secondaryOutput === 'stalled') return "The secondary's output is stalled: re-protect first.";
  return null;
}
