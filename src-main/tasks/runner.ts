import { randomUUID } from 'node:crypto';
import { LockstepError, toErrorDTO, type PlanDTO, type ProgressDTO } from '../contract/index.js';
import type { EventBus } from '../events/event-bus.js';
import type { PlansRepo, StoredPlan } from '../store/plans-repo.js';
import { cancelledError, sleep } from './cancel.js';
import { isOwnerAlive, self } from './owner.js';
import type { PlanKind, Step, StepContext } from './step.js';

/**
 * Runs plans step by step (probe → apply → verify), journals every transition in
 * SQLite and publishes `task-updated` events. A plan whose process died mid-way is
 * resumed at the interrupted step, which is probed again before anything is redone.
 */
export class TaskRunner {
  private readonly kinds = new Map<string, PlanKind<never>>();
  private readonly active = new Map<string, { ctrl: AbortController; done: Promise<PlanDTO>; progress?: ProgressDTO }>();

  constructor(
    private readonly plans: PlansRepo,
    private readonly bus: EventBus,
  ) {}

  register<P>(kind: PlanKind<P>): void {
    this.kinds.set(kind.kind, kind as PlanKind<never>);
  }

  /** Starts a plan; resolves with its final DTO (which may be failed/cancelled). */
  start<P>(kindName: string, params: P): { id: string; done: Promise<PlanDTO> } {
    const kind = this.kind<P>(kindName);
    const steps = kind.steps(params);
    const id = randomUUID();
    this.plans.create({
      id,
      kind: kindName,
      title: kind.title(params),
      params,
      steps: steps.map((s) => ({ id: s.id, title: s.title })),
      ownerPid: self.pid,
      ownerStart: self.start,
    });
    this.bus.log('info', 'tasks', `Started: ${kind.title(params)}`, { data: { planId: id } });
    return { id, done: this.launch(id, kind, params, steps) };
  }

  run<P>(kindName: string, params: P): Promise<PlanDTO> {
    return this.start(kindName, params).done;
  }

  /**
   * Like `run`, but when a plan of this kind with the same params was interrupted (its process
   * died), resumes that one at its interrupted step instead of starting a second plan beside it.
   */
  resumeOrRun<P>(kindName: string, params: P): Promise<PlanDTO> {
    const same = JSON.stringify(params);
    const interrupted = this.plans
      .running()
      .find((p) => p.kind === kindName && JSON.stringify(p.params) === same && !this.active.has(p.id) && !isOwnerAlive(p.ownerPid, p.ownerStart));
    return interrupted ? this.resumeOne(interrupted, this.kind<P>(kindName)) : this.run(kindName, params);
  }

  /** Plans left `running` by a process that no longer exists: resume them here. */
  resumeInterrupted(onlyKind?: string): { id: string; done: Promise<PlanDTO> }[] {
    const out: { id: string; done: Promise<PlanDTO> }[] = [];
    for (const p of this.plans.running()) {
      if (onlyKind !== undefined && p.kind !== onlyKind) continue;
      if (this.active.has(p.id) || isOwnerAlive(p.ownerPid, p.ownerStart)) continue;
      const kind = this.kinds.get(p.kind);
      if (!kind) continue; // a kind this process does not know: leave it for one that does
      out.push({ id: p.id, done: this.resumeOne(p, kind) });
    }
    return out;
  }

  private resumeOne<P>(p: StoredPlan, kind: PlanKind<P>): Promise<PlanDTO> {
    this.plans.claim(p.id, self.pid, self.start);
    this.bus.log('warn', 'tasks', `Resuming interrupted plan: ${kind.title(p.params as P)}`, { data: { planId: p.id } });
    return this.launch(p.id, kind, p.params as P, kind.steps(p.params as P));
  }

  cancel(id: string): PlanDTO {
    const a = this.active.get(id);
    if (!a) {
      const dto = this.plans.get(id);
      if (!dto) throw new LockstepError({ code: 'not-found', message: `No plan ${id}.`, fix: 'List plans with `lockstep tasks list`.' });
      return dto; // already finished: cancelling is a no-op
    }
    a.ctrl.abort();
    return this.plans.get(id)!;
  }

  get(id: string): PlanDTO | undefined {
    const dto = this.plans.get(id);
    const a = this.active.get(id);
    if (dto && a?.progress) dto.progress = a.progress;
    return dto;
  }

  list(): PlanDTO[] {
    return this.plans.list().map((p) => this.get(p.id) ?? p);
  }

  /** Waits for every running plan of this process (used at shutdown and in tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private kind<P>(name: string): PlanKind<P> {
    const k = this.kinds.get(name);
    if (!k) throw new LockstepError({ code: 'unknown-plan', message: `Unknown plan kind ${name}.` });
    return k as unknown as PlanKind<P>;
  }

  private launch<P>(id: string, kind: PlanKind<P>, params: P, steps: Step<P>[]): Promise<PlanDTO> {
    const ctrl = new AbortController();
    const entry: { ctrl: AbortController; done: Promise<PlanDTO>; progress?: ProgressDTO } = { ctrl, done: Promise.resolve(undefined as never) };
    this.active.set(id, entry);
    entry.done = this.execute(id, kind, params, steps, ctrl.signal, entry).finally(() => this.active.delete(id));
    return entry.done;
  }

  private publish(id: string, progress?: ProgressDTO): void {
    const plan = this.plans.get(id);
    if (!plan) return;
    if (progress) plan.progress = progress;
    this.bus.emit({ type: 'task-updated', plan });
  }

  private async execute<P>(
    id: string,
    kind: PlanKind<P>,
    params: P,
    steps: Step<P>[],
    signal: AbortSignal,
    entry: { progress?: ProgressDTO },
  ): Promise<PlanDTO> {
    const journal = this.plans.get(id)!;
    const doneIds = new Set(journal.steps.filter((s) => s.state === 'done' || s.state === 'skipped').map((s) => s.id));
    for (const step of steps) {
      if (doneIds.has(step.id)) continue;
      for (let attempt = 1; ; attempt++) {
        const outcome = await this.runStep(id, kind, params, step, signal, entry, attempt);
        if (outcome === 'next') break;
        if (outcome === 'stop') return this.plans.get(id)!;
      }
    }
    this.plans.setPlanState(id, 'done');
    this.bus.log('info', 'tasks', `Done: ${kind.title(params)}`, { data: { planId: id } });
    this.publish(id);
    return this.plans.get(id)!;
  }

  /** One attempt at one step: 'next' when done or skipped, 'again' after a retryable error, 'stop' when the plan ended. */
  private async runStep<P>(
    id: string,
    kind: PlanKind<P>,
    params: P,
    step: Step<P>,
    signal: AbortSignal,
    entry: { progress?: ProgressDTO },
    attempt: number,
  ): Promise<'next' | 'again' | 'stop'> {
    let lastPublish = 0;
    const ctx: StepContext<P> = {
      planId: id,
      params,
      signal,
      progress: (p) => {
        entry.progress = p;
        const now = Date.now();
        if (now - lastPublish >= 100 || p.fraction === 1) {
          lastPublish = now;
          this.publish(id, p);
        }
      },
      log: (message, level = 'info') => this.bus.log(level, 'tasks', message, { data: { planId: id, step: step.id } }),
    };
    try {
      if (signal.aborted) throw cancelledError(step.id);
      this.plans.setStep(id, step.id, { state: 'probing', started: true, error: null });
      this.publish(id);
      if (await step.probe(ctx)) {
        this.plans.setStep(id, step.id, { state: 'skipped', ended: true });
        this.publish(id);
        return 'next';
      }
      if (signal.aborted) throw cancelledError(step.id);
      this.plans.setStep(id, step.id, { state: 'applying', appliedInc: true });
      this.publish(id);
      await step.apply(ctx);
      this.plans.setStep(id, step.id, { state: 'verifying' });
      this.publish(id);
      await step.verify(ctx);
      this.plans.setStep(id, step.id, { state: 'done', ended: true });
      entry.progress = undefined;
      this.publish(id);
      return 'next';
    } catch (err) {
      const cancelled = signal.aborted || (err instanceof LockstepError && err.code === 'cancelled');
      const dto = { ...toErrorDTO(err), step: step.id };
      if (!cancelled && kind.retry && kind.retry.codes.includes(dto.code) && attempt < kind.retry.attempts) {
        this.bus.log('warn', 'tasks', `${kind.title(params)}: ${step.title}: ${dto.message} Trying the step again (${attempt + 1}/${kind.retry.attempts}).`, {
          host: dto.host,
          data: { planId: id, step: step.id, code: dto.code },
        });
        try {
          await sleep(1000 * attempt, signal);
        } catch {
          // cancelled while waiting: the next attempt sees the signal and ends the plan as cancelled
        }
        return 'again';
      }
      this.plans.setStep(id, step.id, { state: cancelled ? 'cancelled' : 'failed', ended: true, error: dto });
      this.plans.setPlanState(id, cancelled ? 'cancelled' : 'failed', dto);
      this.bus.log(cancelled ? 'warn' : 'error', 'tasks', `${kind.title(params)}: ${step.title} ${cancelled ? 'cancelled' : 'failed'}: ${dto.message}`, {
        host: dto.host,
        data: { planId: id, step: step.id, fix: dto.fix },
      });
      this.publish(id);
      return 'stop';
    }
  }
}
