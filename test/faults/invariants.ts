/**
 * What must hold after a fault, checkable without a COLO pair: the app's store (SQLite) unchanged
 * by a refused request, no half-done plan left in the journal, DRBD disks identical.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { MirrorStatusDTO, PlanDTO } from '../../src-main/contract/index.js';
import { isOwnerAlive } from '../../src-main/tasks/owner.js';
import type { labCli } from './cli-json.js';

type Row = Record<string, unknown>;
export interface StoreSnapshot {
  hosts: Row[];
  kv: Row[];
  plans: Row[];
  steps: Row[];
  drills: Row[];
  /** event count: refused requests are not events; only a test's own notes add one */
  events: number;
}

function readonly<T>(home: string, f: (db: Database.Database) => T): T | undefined {
  const file = join(home, 'lockstep.db');
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return f(db);
  } finally {
    db.close();
  }
}

/** Everything a command could change in the app's store (read-only, beside a running app: WAL). */
export function storeSnapshot(home: string): StoreSnapshot | undefined {
  return readonly(home, (db) => ({
    hosts: db.prepare('SELECT * FROM hosts ORDER BY id').all() as Row[],
    kv: db.prepare('SELECT key, value FROM kv ORDER BY key').all() as Row[],
    plans: db.prepare('SELECT id, kind, state, params, error FROM plans ORDER BY id').all() as Row[],
    steps: db.prepare('SELECT plan_id, step_id, state, applied FROM step_runs ORDER BY plan_id, seq').all() as Row[],
    drills: db.prepare('SELECT * FROM drills ORDER BY id').all() as Row[],
    events: (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
  }));
}

/** The journal as the app stores it: plans with their steps (state, times applied). */
export function journal(home: string): {
  id: string;
  kind: string;
  state: string;
  ownerPid: number | null;
  ownerStart: string | null;
  steps: { id: string; state: string; applied: number; started: number | null }[];
}[] {
  return (
    readonly(home, (db) =>
      (db.prepare('SELECT id, kind, state, owner_pid, owner_start FROM plans ORDER BY created_at, rowid').all() as Row[]).map((p) => ({
        id: p.id as string,
        kind: p.kind as string,
        state: p.state as string,
        ownerPid: p.owner_pid as number | null,
        ownerStart: p.owner_start as string | null,
        steps: (db.prepare('SELECT step_id AS id, state, applied, started_at FROM step_runs WHERE plan_id = ? ORDER BY seq').all(p.id) as Row[]).map((s) => ({
          id: s.id as string,
          state: s.state as string,
          applied: s.applied as number,
          started: s.started_at as number | null,
        })),
      })),
    ) ?? []
  );
}

/** The step the plan of `kind` is in right now (probing/applying/verifying), if any. */
export function currentStep(home: string, kind: string): { planId: string; step: string; state: string } | undefined {
  const p = journal(home)
    .filter((x) => x.kind === kind && x.state === 'running')
    .pop();
  const s = p?.steps.find((x) => ['probing', 'applying', 'verifying'].includes(x.state));
  return p && s ? { planId: p.id, step: s.id, state: s.state } : undefined;
}

/** No plan is left "running" by a process that is gone (a half-done plan nobody will finish). */
export function expectNoHalfDonePlans(home: string): void {
  const orphans = journal(home).filter((p) => p.state === 'running' && !isOwnerAlive(p.ownerPid, p.ownerStart));
  expect(orphans.map((p) => `${p.kind} ${p.id} at ${p.steps.find((s) => s.state !== 'done' && s.state !== 'skipped')?.id}`)).toEqual([]);
}

/** The journaled plans of one kind, newest last (as `tasks list` shows them). */
export function plansOf(cli: ReturnType<typeof labCli>, kind: string): PlanDTO[] {
  return cli
    .ok<PlanDTO[]>(['tasks', 'list'])
    .filter((p) => p.kind === kind)
    .reverse();
}

/** DRBD: connected, both UpToDate, and an online verify (`mirror verify`) finds 0 KiB out of sync. */
export function expectMirrorIdentical(cli: ReturnType<typeof labCli>): MirrorStatusDTO {
  const v = cli.ok<MirrorStatusDTO>(['mirror', 'verify']);
  expect(v).toMatchObject({ state: 'connected', a: { diskState: 'UpToDate' }, b: { diskState: 'UpToDate' }, outOfSyncKiB: 0 });
  return v;
}
