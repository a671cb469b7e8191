/**
 * The witness run by this app on this machine: `lockstep-agent --witness-serve`, detached so it
 * keeps voting when the app is closed. In the virtual lab it runs inside the lab's client
 * namespace (the desktop's place on the public switch; `lab down` ends it with the namespace);
 * otherwise on this machine, bound to the address the hosts reach it at.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import { runLocal } from '../hosts/local-exec.js';
import { livePid } from '../hosts/pid-file.js';
import { firstJsonLine } from './agent-status.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LocalWitnessSpec {
  /** the static lockstep-agent on this machine */
  bin: string;
  /** folder for its key, pid, socket and log (the app's home) */
  dir: string;
  cluster: string;
  /** IPv4:port it listens on */
  listen: string;
  /** run inside this network namespace (the lab's client namespace), else here */
  netns?: string;
}

/** The pair's secret on this machine (0600): the witness reads it, deploy copies it to the hosts. */
export const secretFile = (dir: string): string => join(dir, 'secret');

export const witnessFiles = (dir: string, cluster: string) => {
  const sock = join(dir, 'witness.sock');
  return {
    key: secretFile(dir),
    pid: join(dir, 'witness.pid'),
    log: join(dir, 'witness.log'),
    // a unix socket path has 107 bytes at most
    sock: Buffer.byteLength(sock) < 100 ? sock : join(tmpdir(), `lockstep-witness-${cluster}.sock`),
  };
};

/** The pid in the pid file, if that process is still our witness. */
export function witnessPid(dir: string, cluster: string): number | null {
  const f = witnessFiles(dir, cluster);
  return livePid(f.pid, (cmd) => cmd.includes('--witness-serve') && cmd.includes(f.sock));
}

export async function witnessStatusJson(bin: string, dir: string, cluster: string): Promise<Record<string, unknown> | null> {
  const r = await runLocal([bin, '--once-status', '--status-socket', witnessFiles(dir, cluster).sock], { timeoutMs: 5000 });
  return firstJsonLine(r.stdout);
}

export async function startLocalWitness(w: LocalWitnessSpec, secret: string): Promise<number> {
  if (!existsSync(w.bin))
    throw new LockstepError({ code: 'agent-not-built', message: `The host agent is not built (${w.bin} is missing).`, fix: 'npm run build:native' });
  mkdirSync(w.dir, { recursive: true, mode: 0o700 });
  const f = witnessFiles(w.dir, w.cluster);
  writeFileSync(f.key, secret, { mode: 0o600 });
  await stopLocalWitness(w.dir, w.cluster);
  const argv = [w.bin, '--witness-serve', w.listen, '--cluster-id', w.cluster, '--secret-file', f.key, '--status-socket', f.sock, '--log-file', f.log];
  const full = w.netns ? ['ip', 'netns', 'exec', w.netns, ...argv] : argv;
  const out = openSync(f.log, 'a');
  try {
    // its own session, no stdio tied to us: it outlives this process (and the app)
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (!child.pid) throw new LockstepError({ code: 'witness-did-not-start', message: `Could not start ${full[0]}.` });
    writeFileSync(f.pid, `${child.pid}\n`);
  } finally {
    closeSync(out);
  }
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    const j = await witnessStatusJson(w.bin, w.dir, w.cluster);
    if (j?.mode === 'witness') return witnessPid(w.dir, w.cluster) ?? 0;
    await sleep(100);
  }
  const log = existsSync(f.log) ? readFileSync(f.log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  await stopLocalWitness(w.dir, w.cluster);
  throw new LockstepError({
    code: 'witness-did-not-start',
    message: `The witness did not start on ${w.listen}${w.netns ? ` (network namespace ${w.netns})` : ''}.`,
    cause: log.slice(-400),
    fix: 'Is the address one of this machine’s, and the UDP port free? (ss -ulpn)',
  });
}

/** SIGTERM, then SIGKILL after a deadline; "not running" is success. */
export async function stopLocalWitness(dir: string, cluster: string): Promise<'stopped' | 'not-running'> {
  const f = witnessFiles(dir, cluster);
  const pid = witnessPid(dir, cluster);
  if (pid === null) {
    rmSync(f.pid, { force: true });
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 3000;
  while (Date.now() < until && witnessPid(dir, cluster) !== null) await sleep(50);
  if (witnessPid(dir, cluster) !== null) process.kill(pid, 'SIGKILL');
  rmSync(f.pid, { force: true });
  return 'stopped';
}
