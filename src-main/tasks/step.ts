import type { ProgressDTO } from '../contract/index.js';

/** What a step sees while it runs. */
export interface StepContext<P = unknown> {
  planId: string;
  params: P;
  /** aborted when the plan is cancelled; pass it to everything that waits */
  signal: AbortSignal;
  progress(p: ProgressDTO): void;
  log(message: string, level?: 'info' | 'warn' | 'error'): void;
}

/**
 * One convergent unit of work. `probe` answers "is the world already as wanted?"
 * (true = nothing to do), `apply` acts, `verify` re-observes and throws a
 * LockstepError when the world is still not as wanted.
 */
export interface Step<P = unknown> {
  id: string;
  title: string;
  probe(ctx: StepContext<P>): Promise<boolean>;
  apply(ctx: StepContext<P>): Promise<void>;
  verify(ctx: StepContext<P>): Promise<void>;
}

/** A kind of plan: rebuilt from its stored params when an interrupted plan resumes. */
export interface PlanKind<P = unknown> {
  kind: string;
  title(params: P): string;
  steps(params: P): Step<P>[];
}
