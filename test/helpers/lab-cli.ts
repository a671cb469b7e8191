/** The CLI as the lab and fault scenarios drive it: `--json` results, and a child that can be SIGKILLed mid-command. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cliBin } from './processes.js';

export type Res<T> = { ok: boolean; value: T; error?: { code: string; message: string; fix?: string; cause?: string; step?: string; host?: string } };

/**
 * `timeoutMs`: a kernel lab boots in 1–3 min on a loaded machine (the shared helper's 60 s is too
 * short); a command that outlives it is killed and reported, never left running.
 */
export function labCli(env: Record<string, string>, timeoutMs = 300_000) {
  const json = <T>(args: string[]): Res<T> => {
    const r = spawnSync(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs });
    try {
      return JSON.parse(r.stdout) as Res<T>;
    } catch {
      throw new Error(`lockstep ${args.join(' ')}: no JSON (exit ${r.status ?? r.signal}): ${r.stderr.slice(0, 500)}`);
    }
  };
  const ok = <T>(args: string[]): T => {
    const r = json<T>(args);
    if (!r.ok) throw new Error(`lockstep ${args.join(' ')} failed: ${JSON.stringify(r.error)}`);
    return r.value;
  };
  /** Starts a CLI command as a child (to be killed); `result()` parses its `--json` output once it exits. */
  const spawnCli = (args: string[]): { child: ChildProcess; result(): Promise<Res<unknown>>; ended(): string | null } => {
    const child = spawn(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ended: string | null = null;
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    child.stderr!.on('data', () => undefined);
    const exited = new Promise<void>((r) =>
      child.once('close', () => {
        ended = out.slice(0, 1000);
        r();
      }),
    );
    return { child, result: async () => (await exited, JSON.parse(out) as Res<unknown>), ended: () => ended };
  };
  return { json, ok, spawnCli };
}

/** Waits for a point in a command started with `spawnCli`; fails at once (with its output) if the command ended first. */
export function waitWhileRunning<T>(
  run: { ended(): string | null },
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  return waitFor(
    async () => {
      const v = await f();
      if (v !== undefined) return v;
      const out = run.ended();
      if (out !== null) throw new Error(`the command ended before ${what}: ${out}`);
      return undefined;
    },
    timeoutMs,
    what,
    intervalMs,
  );
}

/** SIGKILL a child by PID and wait until it is gone. */
export async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error(`the child already exited (${child.exitCode ?? child.signalCode}) before the kill point`);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

export async function waitFor<T>(f: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
