/**
 * The cluster's witness run by this app on this machine: corosync-qnetd, detached so it keeps
 * voting when the app is closed (TLS off: the cluster's own authkey does not reach it, and qnetd's
 * certificates would have to be exchanged first). In the virtual lab it runs inside the lab's
 * client namespace (the desktop's place on the public switch; `lab down` ends it with the
 * namespace); otherwise on this machine, bound to the address the hosts reach it at. Its lock
 * (pid) file and IPC socket live in the app's home, so it never collides with a qnetd of the
 * machine's own.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import { runLocal } from '../hosts/local-exec.js';
import { livePid } from '../hosts/pid-file.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LocalQnetd {
  /** folder for its pid, socket and log (the app's home/cluster) */
  dir: string;
  address: string;
  port: number;
  /** run inside this network namespace (the lab's client namespace), else here */
  netns?: string;
}

export const qnetdFiles = (dir: string) => ({ pid: join(dir, 'qnetd.pid'), sock: join(dir, 'qnetd.sock'), log: join(dir, 'qnetd.log') });

/** The argv that starts it in the foreground (setsid'd by the caller). */
export function qnetdArgv(q: LocalQnetd): string[] {
  const f = qnetdFiles(q.dir);
  if (/[,=\s]/.test(q.dir))
    throw new LockstepError({ code: 'bad-home', message: `The app's home ${q.dir} holds a comma, "=" or a space; qnetd's -S option cannot carry it.` });
  const argv = ['corosync-qnetd', '-f', '-s', 'off', '-4', '-l', q.address, '-p', String(q.port), '-S', `lock_file=${f.pid},local_socket_file=${f.sock}`];
  return q.netns ? ['ip', 'netns', 'exec', q.netns, ...argv] : argv;
}

/** The pid in its lock file, if that process is still our qnetd. */
export function qnetdPid(dir: string): number | null {
  const f = qnetdFiles(dir);
  return livePid(f.pid, (cmd) => cmd.startsWith('corosync-qnetd\0') && cmd.includes(f.sock));
}

async function qnetdTool(dir: string, flags: string[]): Promise<string | null> {
  const r = await runLocal(['corosync-qnetd-tool', ...flags, '-p', qnetdFiles(dir).sock], { timeoutMs: 5000 });
  return r.code === 0 ? r.stdout : null;
}

/** `corosync-qnetd-tool -s`: its address, clients and clusters (null: its IPC does not answer). */
export const qnetdStatus = (dir: string): Promise<string | null> => qnetdTool(dir, ['-s']);

/** `corosync-qnetd-tool -l -v`: the clusters and nodes it sees, with the vote it gave each (as qnetd prints it). */
export const qnetdClients = (dir: string): Promise<string | null> => qnetdTool(dir, ['-l', '-v']);

/** Starts it unless our qnetd already runs with these settings; waits until its IPC answers. */
export async function startLocalQnetd(q: LocalQnetd): Promise<number> {
  const running = qnetdPid(q.dir);
  if (running !== null) {
    const cmd = readFileSync(`/proc/${running}/cmdline`, 'utf8').split('\0');
    if (cmd.includes(q.address) && cmd.includes(String(q.port))) return running;
    await stopLocalQnetd(q.dir);
  }
  if ((await runLocal(['sh', '-c', 'command -v corosync-qnetd'])).code !== 0)
    throw new LockstepError({
      code: 'qnetd-missing',
      message: 'corosync-qnetd (the witness of the cluster) is not installed on this machine.',
      fix: 'apt-get install corosync-qnetd   (on this machine; Debian/Ubuntu), then: lockstep cluster setup --witness local',
    });
  mkdirSync(q.dir, { recursive: true, mode: 0o700 });
  const f = qnetdFiles(q.dir);
  rmSync(f.sock, { force: true });
  const argv = qnetdArgv(q);
  const out = openSync(f.log, 'a');
  try {
    // its own session, no stdio tied to us: it outlives this process (and the app)
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
    child.unref();
  } finally {
    closeSync(out);
  }
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const pid = qnetdPid(q.dir);
    if (pid !== null && (await qnetdStatus(q.dir)) !== null) return pid;
    await sleep(100);
  }
  const log = existsSync(f.log) ? readFileSync(f.log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  await stopLocalQnetd(q.dir);
  throw new LockstepError({
    code: 'qnetd-did-not-start',
    message: `The witness (corosync-qnetd) did not start on ${q.address}:${q.port}${q.netns ? ` (network namespace ${q.netns})` : ''}.`,
    cause: log.slice(-400),
    fix: `Is ${q.address} one of this machine's addresses and TCP port ${q.port} free? (ss -tlpn)`,
  });
}

/** SIGTERM, then SIGKILL after 3 s; "not running" is success. */
export async function stopLocalQnetd(dir: string): Promise<'stopped' | 'not-running'> {
  const f = qnetdFiles(dir);
  const pid = qnetdPid(dir);
  if (pid === null) {
    rmSync(f.pid, { force: true });
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 3000;
  while (Date.now() < until && qnetdPid(dir) !== null) await sleep(50);
  if (qnetdPid(dir) !== null) process.kill(pid, 'SIGKILL');
  rmSync(f.pid, { force: true });
  rmSync(f.sock, { force: true });
  return 'stopped';
}
