/**
 * What must hold after a fault, checkable without a COLO pair: the app's store (SQLite) unchanged
 * by a refused request, no half-done plan left in the journal, DRBD disks identical, nothing of a
 * lab left on the machine after `lab down`, no stray process left on a namespace host.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { MirrorStatusDTO, PlanDTO } from '../../src-main/contract/index.js';
import { isOwnerAlive } from '../../src-main/tasks/owner.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import type { labCli } from '../helpers/lab-cli.js';

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

/** No plan is left "running" by a process that is gone (a half-done plan nobody will finish); the journal is consistent. */
export function expectNoHalfDonePlans(home: string): void {
  const orphans = journal(home).filter((p) => p.state === 'running' && !isOwnerAlive(p.ownerPid, p.ownerStart));
  expect(orphans.map((p) => `${p.kind} ${p.id} at ${p.steps.find((s) => s.state !== 'done' && s.state !== 'skipped')?.id}`)).toEqual([]);
  expectJournalConsistent(home);
}

/**
 * The journal tells one story per plan: a done plan has every step done or skipped; a failed or
 * cancelled one has exactly one step that failed (or was cancelled), nothing run after it; no step
 * of a finished plan is left mid-way (probing, applying, verifying).
 */
export function expectJournalConsistent(home: string): void {
  const wrong: string[] = [];
  for (const p of journal(home)) {
    const states = p.steps.map((s) => s.state);
    const midway = p.steps.filter((s) => ['probing', 'applying', 'verifying'].includes(s.state));
    if (p.state === 'done' && states.some((x) => x !== 'done' && x !== 'skipped')) wrong.push(`${p.kind} ${p.id}: done with steps ${states.join(',')}`);
    if (p.state === 'failed' || p.state === 'cancelled') {
      const ended = states.map((x, i) => [x, i] as const).filter(([x]) => x === 'failed' || x === 'cancelled');
      if (ended.length !== 1) wrong.push(`${p.kind} ${p.id}: ${p.state} with steps ${states.join(',')}`);
      else if (states.slice(ended[0]![1] + 1).some((x) => x !== 'pending'))
        wrong.push(`${p.kind} ${p.id}: steps ran after the failed one (${states.join(',')})`);
    }
    if (p.state !== 'running' && midway.length) wrong.push(`${p.kind} ${p.id}: ${p.state} with ${midway.map((s) => `${s.id} ${s.state}`).join(', ')}`);
    if (p.state === 'running' && midway.length > 1) wrong.push(`${p.kind} ${p.id}: several steps at once (${midway.map((s) => s.id).join(', ')})`);
  }
  expect(wrong).toEqual([]);
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

/** After `lab down`: no namespace, link, kernel (UML) or mount of the lab with this prefix is left on the machine. */
export async function expectNoLeftovers(prefix: string, home?: string): Promise<void> {
  expect(await leftovers(prefix)).toEqual([]);
  const uml = spawnSync('pgrep', ['-f', `umid=${prefix}-host`], { encoding: 'utf8' });
  expect(uml.stdout.trim(), `kernels of lab ${prefix} still running`).toBe('');
  if (home) expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(home);
}

/**
 * The processes in the namespace hosts of a lab, as `netns: command line`, without sshd's
 * per-connection children (they come and go with every SSH session): a killed or refused command
 * must leave nothing running there (an orphaned iperf3, ping, probe, QEMU…).
 */
export function labProcesses(lab: { hosts: { netns: string }[] }): string[] {
  const out: string[] = [];
  for (const h of lab.hosts) {
    const r = spawnSync('ip', ['netns', 'pids', h.netns], { encoding: 'utf8' });
    for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        continue; // gone meanwhile
      }
      if (cmd === '' || (cmd.startsWith('sshd: ') && !cmd.includes('[listener]'))) continue;
      out.push(`${h.netns}: ${cmd}`);
    }
  }
  return out.sort();
}
