import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cliBin = `${root}dist/main/transports/cli/bin.js`;

/** Runs the CLI; `lab up` gets longer (QEMU kernel hosts boot under TCG in 10–40 s each on a loaded machine). */
export function cli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = args[0] === 'lab' && args[1] === 'up' ? 300_000 : 60_000,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `lockstep serve --no-open` and resolves once it printed its URL. Stop it with `stop(child)`. */
export async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; appUrl: string; url: string; token: string; port: number }> {
  const child = spawn(process.execPath, [cliBin, 'serve', '--no-open'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const appUrl = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /LOCKSTEP_URL=(\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
  const u = new URL(appUrl);
  return { child, appUrl, url: `${u.protocol}//${u.host}`, token: /token=([^&]+)/.exec(u.hash)![1]!, port: Number(u.port) };
}

/** Stops a child by PID: SIGTERM, then SIGKILL after a deadline. */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, 'SIGTERM');
  const t = setTimeout(() => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(t);
}
