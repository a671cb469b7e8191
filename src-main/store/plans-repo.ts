import type { ErrorDTO, PlanDTO, PlanState, StepDTO, StepState } from '../contract/index.js';
import type { DB } from './database.js';

interface PlanRow {
  id: string;
  kind: string;
  title: string;
  params: string;
  state: PlanState;
  owner_pid: number | null;
  owner_start: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}
interface StepRow {
  plan_id: string;
  step_id: string;
  seq: number;
  title: string;
  state: StepState;
  applied: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
}

export interface StoredPlan {
  id: string;
  kind: string;
  params: unknown;
  state: PlanState;
  ownerPid: number | null;
  ownerStart: string | null;
}

/** The step journal: every plan and every step run, so an interrupted plan can resume. */
export class PlansRepo {
  constructor(private readonly db: DB) {}

  create(p: { id: string; kind: string; title: string; params: unknown; steps: { id: string; title: string }[]; ownerPid: number; ownerStart: string }): void {
    const now = Date.now();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO plans (id, kind, title, params, state, owner_pid, owner_start, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(p.id, p.kind, p.title, JSON.stringify(p.params), 'running', p.ownerPid, p.ownerStart, now, now);
      const ins = this.db.prepare("INSERT INTO step_runs (plan_id, step_id, seq, title, state) VALUES (?, ?, ?, ?, 'pending')");
      p.steps.forEach((s, i) => ins.run(p.id, s.id, i, s.title));
    })();
  }

  claim(id: string, ownerPid: number, ownerStart: string): void {
    this.db
      .prepare("UPDATE plans SET owner_pid = ?, owner_start = ?, state = 'running', error = NULL, updated_at = ? WHERE id = ?")
      .run(ownerPid, ownerStart, Date.now(), id);
  }

  setPlanState(id: string, state: PlanState, error?: ErrorDTO): void {
    this.db.prepare('UPDATE plans SET state = ?, error = ?, updated_at = ? WHERE id = ?').run(state, error ? JSON.stringify(error) : null, Date.now(), id);
  }

  setStep(
    planId: string,
    stepId: string,
    patch: { state: StepState; appliedInc?: boolean; started?: boolean; ended?: boolean; error?: ErrorDTO | null },
  ): void {
    const now = Date.now();
    this.db
      .prepare(
        `UPDATE step_runs SET state = ?, applied = applied + ?,
           started_at = CASE WHEN ? THEN ? ELSE started_at END,
           ended_at = CASE WHEN ? THEN ? ELSE ended_at END,
           error = CASE WHEN ? THEN ? ELSE error END
         WHERE plan_id = ? AND step_id = ?`,
      )
      .run(
        patch.state,
        patch.appliedInc ? 1 : 0,
        patch.started ? 1 : 0,
        now,
        patch.ended ? 1 : 0,
        now,
        patch.error !== undefined ? 1 : 0,
        patch.error ? JSON.stringify(patch.error) : null,
        planId,
        stepId,
      );
    this.db.prepare('UPDATE plans SET updated_at = ? WHERE id = ?').run(now, planId);
  }

  get(id: string): PlanDTO | undefined {
    const row = this.db.prepare('SELECT * FROM plans WHERE id = ?').get(id) as PlanRow | undefined;
    return row ? this.toDTO(row) : undefined;
  }

  stored(id: string): StoredPlan | undefined {
    const r = this.db.prepare('SELECT * FROM plans WHERE id = ?').get(id) as PlanRow | undefined;
    return r && { id: r.id, kind: r.kind, params: JSON.parse(r.params), state: r.state, ownerPid: r.owner_pid, ownerStart: r.owner_start };
  }

  list(limit = 50): PlanDTO[] {
    const rows = this.db.prepare('SELECT * FROM plans ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as PlanRow[];
    return rows.map((r) => this.toDTO(r));
  }

  running(): StoredPlan[] {
    const rows = this.db.prepare("SELECT * FROM plans WHERE state = 'running' ORDER BY created_at").all() as PlanRow[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, params: JSON.parse(r.params), state: r.state, ownerPid: r.owner_pid, ownerStart: r.owner_start }));
  }

  private toDTO(r: PlanRow): PlanDTO {
    const steps = (this.db.prepare('SELECT * FROM step_runs WHERE plan_id = ? ORDER BY seq').all(r.id) as StepRow[]).map((s) => {
      const d: StepDTO = { id: s.step_id, title: s.title, state: s.state, applied: s.applied };
      if (s.started_at) d.startedAt = s.started_at;
      if (s.ended_at) d.endedAt = s.ended_at;
      if (s.error) d.error = JSON.parse(s.error) as ErrorDTO;
      return d;
    });
    const dto: PlanDTO = { id: r.id, kind: r.kind, title: r.title, state: r.state, createdAt: r.created_at, updatedAt: r.updated_at, steps };
    if (r.error) dto.error = JSON.parse(r.error) as ErrorDTO;
    return dto;
  }
}
