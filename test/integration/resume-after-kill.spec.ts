import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const fixture = join(root, 'test/fixtures/plan-child.mjs');
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

async function killWhen(effects: string, home: string, ready: (l: string[]) => boolean, extraDelayMs: number): Promise<void> {
  const child = spawn(process.execPath, [fixture, 'start', effects], { env: { ...process.env, LOCKSTEP_HOME: home }, stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!ready(lines(effects))) {
    if (Date.now() > deadline) throw new Error('child never reached the kill point');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, extraDelayMs));
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

function resume(effects: string, home: string): { state: string; steps: [string, string, number][] }[] {
  const r = spawnSync(process.execPath, [fixture, 'resume', effects], { env: { ...process.env, LOCKSTEP_HOME: home }, encoding: 'utf8', timeout: 60_000 });
  const m = /RESULT (.*)/.exec(r.stdout);
  if (!m) throw new Error(`no result: ${r.stdout} ${r.stderr}`);
  return JSON.parse(m[1]!);
}

describe('task runner: resume after kill -9', () => {
  it.each([
    ['before the step acted', 100],
    ['after the step acted, before it was verified', 500],
  ])('killed in step 2 %s: resumes at step 2, every effect exactly once', async (_label, delay) => {
    const d = tempDir();
    dirs.push(d);
    const effects = join(d.path, 'effects.txt');
    // kill point: step 1 is written; step 2's apply has started (it sleeps 400 ms before acting)
    await killWhen(effects, d.path, (l) => l.length === 1, 400 + delay);
    const before = lines(effects);
    expect(before.length === 1 || before.length === 2).toBe(true);
    const results = resume(effects, d.path);
    expect(results).toHaveLength(1);
    expect(results[0]!.state).toBe('done');
    expect(lines(effects)).toEqual(['s1', 's2', 's3', 's4']);
    const byId = Object.fromEntries(results[0]!.steps.map(([id, state, applied]) => [id, { state, applied }]));
    expect(byId.s1).toEqual({ state: 'done', applied: 1 });
    expect(['done', 'skipped']).toContain(byId.s2!.state);
    expect(byId.s3).toEqual({ state: 'done', applied: 1 });
    expect(byId.s4).toEqual({ state: 'done', applied: 1 });
    // a second resume finds nothing to do
    expect(resume(effects, d.path)).toHaveLength(0);
  });
});
