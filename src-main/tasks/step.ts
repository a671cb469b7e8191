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
  /**
   * Error codes after which a step is tried again (probe first, so what was done is not redone),
   * up to `attempts` times in all with a growing pause: for plans whose every step is convergent.
   */
  retry?: { codes: readonly string[]; attempts: number };
}

/** A dropped SSH connection: the step's result is unknown, and trying it again is safe where steps converge. */
export const RETRY_DROPPED = { codes: ['ssh-dropped'], attempts: 3 } as const;
