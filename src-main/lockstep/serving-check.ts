/**
 * "Protected" means serving: after protect and re-protect the app waits until the guest answers
 * through the pair and the secondary's output reaches the comparer; the status keeps watching the
 * comparer's inputs between calls (the baseline is stored, so a one-shot CLI sees it too).
 */
import { z } from 'zod';
import type { SshSession } from '../hosts/ssh-session.js';
import type { KeyValueRepo } from '../store/kv-repo.js';
import { RecordRepo } from '../store/record-repo.js';
import { flowSampleSchema, judgeFlow, readComparerInputs, type Flow, type FlowSample } from './comparer-flow.js';
import { peekGuest } from './guest-peek.js';
import type { PairRecord } from './pair-record.js';

/** The status watchdog's baseline (kv key `lockstep.comparer-flow`): the sample it judges the next one against, for the pair of `since`. */
export interface FlowBaseline {
  since: number;
  base: FlowSample;
}

export const FLOW_KEY = 'lockstep.comparer-flow';
export const flowBaselineSchema: z.ZodType<FlowBaseline> = z.object({ since: z.number(), base: flowSampleSchema });

/** The watchdog's record, validated on every read (forgotten, the next status starts a new baseline). */
export const flowBaselines = (kv: KeyValueRepo): RecordRepo<FlowBaseline> =>
  new RecordRepo(kv, FLOW_KEY, flowBaselineSchema, { redo: 'lockstep lockstep status' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Serving = 'serving' | 'stalled' | 'silent';

/**
 * Peeks the guest every round (its answers are the traffic the comparer needs: a check that stops
 * asking sees nothing move) and reads the comparer's inputs, until the pair is seen serving twice —
 * a peek answered within 1.5 s while the secondary's output reached the comparer in the same round —
 * or the secondary is seen stalled (the primary talked for STALL_AFTER_MS while nothing came from the
 * secondary; its answers wait for checkpoints then, so the peeks mostly time out), or the deadline
 * passes (`silent`: the guest has not answered, e.g. still booting).
 */
export async function waitServing(
  sa: SshSession,
  guestAddress: string,
  deadlineMs: number,
  peek: (timeoutMs: number) => Promise<unknown> = (ms) => peekGuest(guestAddress, ms),
): Promise<Serving> {
  let base: FlowSample = await readComparerInputs(sa);
  let served = 0;
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const answered = await peek(1500).then(
      () => true,
      () => false,
    );
    const j = judgeFlow(base, await readComparerInputs(sa));
    base = j.base;
    if (j.flow === 'stalled') return 'stalled';
    if (answered && j.flow === 'flowing') served++;
    if (served >= 2) return 'serving';
    await sleep(answered ? 200 : 500);
  }
  return 'silent';
}

/** What the event log says when the pair does not serve. */
export function servingWarning(got: 'stalled' | 'silent', guestAddress: string): string {
  return got === 'stalled'
    ? "The secondary's output never reaches the comparer (answers would leave only at checkpoints): the primary continues alone and a fresh secondary joins"
    : `The guest at ${guestAddress} has not answered through the pair yet (still booting?)`;
}

/** The status' watchdog: this call's sample judged against the stored baseline of the same pair. */
export async function watchFlow(baselines: RecordRepo<FlowBaseline>, r: PairRecord, sa: SshSession): Promise<Flow | undefined> {
  const now = await readComparerInputs(sa).catch(() => null);
  if (!now) return undefined;
  const stored = baselines.get();
  const base = stored?.since === r.since ? stored.base : now;
  const j = judgeFlow(base, now);
  if (j.base !== base || stored?.since !== r.since) baselines.set({ since: r.since, base: j.base });
  return j.flow;
}
