import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHostStatus, AgentStatus, ClientProbeResult, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { Qmp } from '../../src-main/hosts/qmp.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { cli, cliBin } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

/**
 * The host agents fail over WITHOUT the app: protect, deploy the agents (witness in the lab's
 * client namespace), kill -9 the primary QEMU over SSH and only watch — the secondary's agent
 * must detect it, run colo-failover and leave the guest serving from hostB.
 */
const PREFIX = 'la';
const { env, home } = labEnv(PREFIX, '198.18.81');

type Res<T> = { ok: boolean; value: T; error?: { code: string; message: string; cause?: string } };
function run<T>(args: string[], timeoutMs = 120_000): Res<T> {
  const r = cli([...args, '--json'], env, timeoutMs);
  try {
    return JSON.parse(r.stdout) as Res<T>;
  } catch {
    throw new Error(`not JSON from ${args.join(' ')} (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
}
/** The CLI without blocking this process (a probe that runs while the test acts). */
function runAsync<T>(args: string[]): Promise<Res<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    child.stderr.on('data', (d: Buffer) => (err += String(d)));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as Res<T>);
      } catch {
        reject(new Error(`not JSON from ${args.join(' ')}: ${out} ${err}`));
      }
    });
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hostOf = (st: AgentStatus, name: string): AgentHostStatus => (st.state === 'deployed' ? st.hosts.find((h) => h.name === name)! : (undefined as never));

let lab: Extract<LabStatus, { state: 'up' }>;
const sessions: SshSession[] = [];
async function ssh(name: 'hostA' | 'hostB'): Promise<SshSession> {
  const h = lab.hosts.find((x) => x.name === name)!;
  const s = await SshSession.connect({ address: h.address, port: h.port, user: 'root', keyFile: lab.keyFile, fingerprint: h.fingerprint });
  sessions.push(s);
  return s;
}

beforeAll(() => {
  cli(['lab', 'down'], env, 120_000);
  const up = run<LabStatus>(['lab', 'up'], 240_000);
  if (!up.ok) throw new Error(JSON.stringify(up.error));
  lab = up.value as typeof lab;
  expect(run(['hosts', 'add-lab']).ok).toBe(true);
});
afterAll(() => {
  for (const s of sessions) s.dispose();
  cli(['agent', 'stop'], env, 60_000);
  cli(['lockstep', 'stop'], env, 60_000);
  cli(['lab', 'down'], env, 120_000);
  home.remove();
});

async function coloMode(host: 'hostA' | 'hostB', socket: string): Promise<string> {
  const q = await Qmp.open(await ssh(host), socket, { timeoutMs: 5000 });
  try {
    return (await q.exec<{ mode: string }>('query-colo-status')).mode;
  } finally {
    q.close();
  }
}

/**
 * kill -9 of a QEMU over SSH while a client polls the guest and holds a TCP stream; the app only
 * watches (agent status) until the actor's agent has acted. Checks what the client saw and prints
 * the figures: detection (kill → the agent's command started) and the command's duration.
 */
async function fault(o: { kill: 'hostA' | 'hostB'; pidFile: string; actor: 'hostA' | 'hostB'; acted: string; action: string }) {
  const s = await ssh(o.kill);
  const before = run<ClientProbeResult>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '50']).value;
  expect(before.answers).toBeGreaterThan(0);
  const http = runAsync<ClientProbeResult>(['lab', 'client', 'http', '--seconds', '16', '--interval-ms', '20']);
  const stream = runAsync<ClientProbeResult>(['lab', 'client', 'stream', '--seconds', '16']);
  await sleep(3000);
  const tKill = Date.now();
  expect((await s.exec(['sh', '-c', 'kill -9 "$(cat "$1")"', 'sh', o.pidFile])).code).toBe(0);
  let b: AgentHostStatus | undefined;
  for (let i = 0; i < 60; i++) {
    b = hostOf(run<AgentStatus>(['agent', 'status']).value, o.actor);
    if (b.state === o.acted || b.state === 'action-failed') break;
    await sleep(500);
  }
  const [h, st] = [await http, await stream];
  expect(b?.state, JSON.stringify(b?.log.slice(-20))).toBe(o.acted);
  expect(b!.action).toMatchObject({ last: o.action, rc: 0 });
  const detectionMs = b!.action.startedAt! - tKill;
  const commandMs = b!.action.finishedAt! - b!.action.startedAt!;
  console.log(
    `${o.action} by ${o.actor}'s agent: detection ${detectionMs} ms (kill → command started), colo-failover ${commandMs} ms; ` +
      `client: longest HTTP gap ${h.value.longestGapMs} ms (${h.value.failures} failed of ${h.value.attempts}), ` +
      `TCP stream longest gap ${st.value.longestGapMs} ms${st.value.error ? ` (${st.value.error})` : ''}`,
  );
  expect(detectionMs).toBeGreaterThan(250);
  expect(detectionMs).toBeLessThan(5000);
  expect(h.ok, JSON.stringify(h.error)).toBe(true);
  expect(h.value.wentBackwards).toBe(false);
  expect(h.value.answers).toBeGreaterThan(20);
  expect(st.ok, JSON.stringify(st.error)).toBe(true);
  expect(st.value.error, 'the TCP stream survived').toBeUndefined();
  expect(st.value.wentBackwards).toBe(false);
  const after = run<ClientProbeResult>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '50']).value;
  expect(after.answers).toBeGreaterThan(0);
  expect((after.last as { count: number }).count).toBeGreaterThan((before.last as { count: number }).count);
  return { decision: b!.decisions.find((d) => d.action === o.action)?.reason ?? '', log: b!.log.join('\n'), detectionMs, commandMs };
}

describe('host agents: automatic failover without the app (namespace hosts, QEMU COLO under TCG)', () => {
  it('protects the demo guest: primary on hostA, secondary in lockstep on hostB; the guest answers', async () => {
    const p = run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'], 240_000);
    expect(p.error).toBeUndefined();
    expect(p.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostA' }, secondary: { name: 'hostB' } });
    // the guest boots inside COLO: seconds, or a minute on a loaded machine
    let answered = false;
    let last: Res<ClientProbeResult> | undefined;
    for (const until = Date.now() + 120_000; !answered && Date.now() < until;) {
      last = run<ClientProbeResult>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '100']);
      answered = last.ok && last.value.answers > 0;
      if (!answered) await sleep(1000);
    }
    if (!answered) {
      const serial = await (await ssh('hostA')).exec(['tail', '-n', '15', '/run/lockstep/vm/primary-serial.log']);
      console.log(`the guest never answered (${JSON.stringify(last?.value ?? last?.error)}); primary serial:\n${serial.stdout}`);
    }
    expect(answered).toBe(true);
  });

  it('agent status before deploy says so; deploy arms both agents with the witness in the client namespace', () => {
    expect(run<AgentStatus>(['agent', 'status']).value.state).toBe('not-deployed');
    // each SSH round trip can take seconds on a loaded machine: a deploy is ~40 SSH commands
    const d = run<AgentStatus>(['agent', 'deploy'], 300_000);
    if (d.error) console.log(cli(['events', 'list', '--limit', '30'], env).stdout);
    expect(d.error).toBeUndefined();
    const st = d.value;
    expect(st.state).toBe('deployed');
    if (st.state !== 'deployed') return;
    expect(st.witness).toMatchObject({ kind: 'local', address: '198.18.81.100:7790', state: 'serving' });
    for (const [name, role] of [
      ['hostA', 'primary'],
      ['hostB', 'secondary'],
    ] as const) {
      const h = hostOf(st, name);
      expect(h, name).toMatchObject({ role, how: 'direct', armed: true, state: 'protected', vm: 'up' });
      expect(h.witness).toMatchObject({ address: '198.18.81.100:7790', reachable: true });
    }
    expect(st.summary).toMatch(/^Armed on both hosts/);
    // deploying again is "already so": same cluster, still armed
    const again = run<AgentStatus>(['agent', 'deploy'], 300_000).value;
    expect(again).toMatchObject({ state: 'deployed', cluster: st.cluster });
    expect(hostOf(again, 'hostB').armed).toBe(true);
  });

  it('kill -9 of the primary QEMU, the app doing nothing: hostB’s agent takes over; the client keeps answering, counter never backwards', async () => {
    const f = await fault({ kill: 'hostA', pidFile: '/run/lockstep/vm/primary.pid', actor: 'hostB', acted: 'took-over', action: 'failover' });
    expect(f.decision).toMatch(/primary silent on both paths .* take over/);
    expect(f.log).toContain('colo-failover[secondary]: done: the secondary runs the guest alone');
    // the primary's agent went silent when its VM died, and never acted itself
    expect(hostOf(run<AgentStatus>(['agent', 'status']).value, 'hostA')).toMatchObject({ vm: 'down', armed: false, action: { last: null } });
    // the survivor left COLO (mode none); the app notices: the pair record says failed over, survivor hostB
    expect(await coloMode('hostB', '/run/lockstep/vm/secondary-qmp.sock')).toBe('none');
    const p = run<PairStatus>(['lockstep', 'status']).value;
    expect(p).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
  });

  it('re-protect (roles swapped), deploy again for the new roles, kill -9 of the secondary: hostB’s agent continues alone', async () => {
    const r = run<PairStatus>(['lockstep', 'reprotect'], 300_000);
    expect(r.error).toBeUndefined();
    const replaced = run<{ message: string }[]>(['events', 'list', '--query', 'never reaches the comparer']).value ?? [];
    console.log(`re-protect: ${replaced.length ? `a stalled secondary was replaced (${replaced.length}×)` : 'served at once'}`);
    expect(r.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
    const d = run<AgentStatus>(['agent', 'deploy'], 300_000);
    expect(d.error).toBeUndefined();
    expect(hostOf(d.value, 'hostB')).toMatchObject({ role: 'primary', armed: true });
    expect(hostOf(d.value, 'hostA')).toMatchObject({ role: 'secondary', armed: true });
    // the survivor still runs the QEMU started as a secondary, now primary with the next replication node
    const f = await fault({ kill: 'hostA', pidFile: '/run/lockstep/vm/secondary.pid', actor: 'hostB', acted: 'alone', action: 'continue-alone' });
    expect(f.decision).toMatch(/secondary silent on both paths .* continue alone/);
    // the replication node of this generation (a re-protect that replaced a stalled secondary adds one)
    expect(f.log).toMatch(/colo-failover\[primary\]: step \d+ yank \{"instances":\[\{"type":"block-node","node-name":"nbd\d+"\}\]\}: ok/);
    expect(f.log).toMatch(/colo-failover\[primary\]: step \d+ blockdev-del \{"node-name":"replication\d+"\}: ok/);
    expect(f.log).toContain('colo-failover[primary]: done: the primary continues alone');
    expect(await coloMode('hostB', '/run/lockstep/vm/secondary-qmp.sock')).toBe('none');
    const p = run<PairStatus>(['lockstep', 'status']).value;
    expect(p).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
  });

  it('re-protect straight after an agent acted, before anything read the status: it notices the failover and re-protects', async () => {
    expect(run<PairStatus>(['lockstep', 'reprotect'], 300_000).value).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' } });
    expect(run<AgentStatus>(['agent', 'deploy'], 300_000).error).toBeUndefined();
    await fault({ kill: 'hostA', pidFile: '/run/lockstep/vm/secondary.pid', actor: 'hostB', acted: 'alone', action: 'continue-alone' });
    // the app has not looked since: its record still says lockstep
    const r = run<PairStatus>(['lockstep', 'reprotect'], 300_000);
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
  });

  it('agent stop ends both agents and the witness; lockstep stop and lab down leave nothing', async () => {
    const cluster = (run<AgentStatus>(['agent', 'status']).value as { cluster: string }).cluster;
    const st = run<AgentStatus>(['agent', 'stop'], 60_000);
    expect(st.error).toBeUndefined();
    expect(st.value).toMatchObject({ state: 'stopped', cluster });
    for (const name of ['hostA', 'hostB'] as const) {
      const s = await ssh(name);
      const r = await s.exec(['/var/lib/lockstep/agent/lockstep-agent', '--once-status', '--status-socket', '/run/lockstep/agent.sock']);
      expect(r.code, name).toBe(3);
      expect((await s.exec(['test', '-e', '/run/lockstep/agent.pid'])).code, name).not.toBe(0);
    }
    // no witness of this cluster left on this machine
    const witnesses = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(cluster);
        } catch {
          return false;
        }
      });
    expect(witnesses).toEqual([]);
    expect(run<PairStatus>(['lockstep', 'stop'], 60_000).value.state).toBe('unprotected');
    expect(run(['lab', 'down'], 120_000).ok).toBe(true);
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
