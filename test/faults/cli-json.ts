/** The CLI as the fault scenarios drive it: `--json` results, and a child that can be SIGKILLed mid-command. */
import { spawn, type ChildProcess } from 'node:child_process';
import { cli, cliBin } from '../helpers/processes.js';

export type Res<T> = { ok: boolean; value: T; error?: { code: string; message: string; fix?: string; cause?: string; step?: string; host?: string } };

export function labCli(env: Record<string, string>) {
  const json = <T>(args: string[]): Res<T> => {
    const r = cli([...args, '--json'], env);
    try {
      return JSON.parse(r.stdout) as Res<T>;
    } catch {
      throw new Error(`lockstep ${args.join(' ')}: no JSON (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
    }
  };
  const ok = <T>(args: string[]): T => {
    const r = json<T>(args);
    if (!r.ok) throw new Error(`lockstep ${args.join(' ')} failed: ${JSON.stringify(r.error)}`);
    return r.value;
  };
  /** Starts a CLI command as a child (to be killed); `result()` parses its `--json` output once it exits. */
  const spawnCli = (args: string[]): { child: ChildProcess; result(): Promise<Res<unknown>> } => {
    const child = spawn(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    child.stderr!.on('data', () => undefined);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return { child, result: async () => (await exited, JSON.parse(out) as Res<unknown>) };
  };
  return { json, ok, spawnCli };
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
