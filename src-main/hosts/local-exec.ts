import { execFile } from 'node:child_process';
import { LockstepError } from '../contract/index.js';

export interface LocalResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program on this machine with an argv (never a shell). */
export function runLocal(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<LocalResult> {
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : '') });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function mustLocal(argv: readonly string[], opts: { timeoutMs?: number; fix?: string; input?: string } = {}): Promise<string> {
  const r = await runLocal(argv, opts);
  if (r.code !== 0) {
    throw new LockstepError({
      code: 'local-command-failed',
      message: `\`${argv.join(' ')}\` failed (exit ${r.code}).`,
      cause: r.stderr.trim().slice(0, 400),
      fix: opts.fix,
    });
  }
  return r.stdout;
}

export async function which(program: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const r = await runLocal(['test', '-x', `${dir}/${program}`]);
    if (r.code === 0) return true;
  }
  return false;
}
