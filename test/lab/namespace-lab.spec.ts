import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, PlanDTO, PreflightReport } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { leftovers, netnsList, pidAlive } from '../../src-main/virtual-lab/observe.js';
import { cli, cliBin } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

const PREFIX = 'lt';
const { env, home } = labEnv(PREFIX, '198.18.91');
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;

function json<T>(args: string[]): { ok: boolean; value: T; error?: { code: string; message: string; fix?: string } } {
  const r = cli([...args, '--json'], env);
  return JSON.parse(r.stdout) as never;
}

async function session(host: Up['hosts'][number], fingerprint = host.fingerprint): Promise<SshSession> {
  return SshSession.connect({ address: host.address, port: host.port, user: lab.user, keyFile: lab.keyFile, fingerprint });
}

beforeAll(() => {
  cli(['lab', 'down'], env);
  const r = json<LabStatus>(['lab', 'up']);
  if (!r.ok || r.value.state !== 'up') throw new Error(`lab up failed: ${JSON.stringify(r.error ?? r.value)}`);
  lab = r.value;
});

afterAll(async () => {
  cli(['lab', 'down'], env);
  home.remove();
});

describe('virtual lab: namespace hosts', () => {
  it('reports two hosts, their keys, and TCG honestly', () => {
    expect(lab.flavour).toBe('namespaces');
    expect(lab.hosts.map((h) => h.name)).toEqual(['hostA', 'hostB']);
    for (const h of lab.hosts) expect(h.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    if (lab.accel === 'tcg') expect(lab.accelNote).toMatch(/emulated \(TCG\), demo speed/);
  });

  it('a second `lab up` reports the running lab and changes nothing', () => {
    const again = json<LabStatus>(['lab', 'up']);
    expect(again.ok).toBe(true);
    expect(again.value).toEqual(lab);
  });

  it('each host answers SSH with its pinned key, as root, with its own hostname and private state', async () => {
    for (const h of lab.hosts) {
      const s = await session(h);
      expect((await s.check(['hostname'])).trim()).toBe(h.name);
      expect((await s.check(['id', '-u'])).trim()).toBe('0');
      await s.check(['sh', '-c', 'echo "$1" > /var/lib/lockstep/whoami', 'sh', h.name]);
      s.dispose();
    }
    for (const h of lab.hosts) {
      const s = await session(h);
      expect((await s.check(['cat', '/var/lib/lockstep/whoami'])).trim()).toBe(h.name);
      s.dispose();
    }
  });

  it('a wrong pinned key is refused with both fingerprints', async () => {
    const h = lab.hosts[0]!;
    const wrong = 'SHA256:' + 'A'.repeat(43);
    await expect(session(h, wrong)).rejects.toMatchObject({ code: 'host-key-changed', message: expect.stringContaining(h.fingerprint) });
    await expect(session(h, wrong)).rejects.toMatchObject({ message: expect.stringContaining(wrong) });
  });

  it('the crossover cable joins hostA and hostB; the decoys reach nothing', async () => {
    const [a, b] = lab.hosts;
    const role = (h: typeof a, r: string) => h!.nics.find((n) => n.role === r)!.name;
    const sa = await session(a!);
    const sb = await session(b!);
    try {
      await sa.check(['ip', 'addr', 'replace', '10.99.0.1/30', 'dev', role(a, 'crossover')]);
      await sb.check(['ip', 'addr', 'replace', '10.99.0.2/30', 'dev', role(b, 'crossover')]);
      await sa.check(['ip', 'addr', 'replace', '10.98.0.1/30', 'dev', role(a, 'decoy')]);
      await sb.check(['ip', 'addr', 'replace', '10.98.0.2/30', 'dev', role(b, 'decoy')]);
      expect((await sa.exec(['ping', '-c', '2', '-W', '1', '10.99.0.2'])).code).toBe(0);
      expect((await sa.exec(['ping', '-c', '2', '-W', '1', '10.98.0.2'])).code).not.toBe(0);
    } finally {
      for (const [s, h] of [
        [sa, a],
        [sb, b],
      ] as const) {
        await s.exec(['ip', 'addr', 'flush', 'dev', role(h, 'crossover')]);
        await s.exec(['ip', 'addr', 'flush', 'dev', role(h, 'decoy')]);
        s.dispose();
      }
    }
  });

  it('preflight over SSH: TCG reported honestly, no DRBD (with the fix), verdict lockstep with a full copy', () => {
    expect(json(['hosts', 'add-lab']).ok).toBe(true);
    const r = json<PreflightReport>(['preflight', 'run', 'hostA', 'hostB']);
    expect(r.ok).toBe(true);
    const f = (id: string, host: string) => r.value.findings.find((x) => x.id === id && x.host === host)!;
    for (const h of ['hostA', 'hostB']) {
      if (lab.accel === 'tcg') expect(f('accel', h)).toMatchObject({ level: 'warn', what: expect.stringMatching(/emulated.*demo speed/) });
      // a namespace host is this machine: the kernel lab, never a kernel install or a reboot
      expect(f('drbd-module', h)).toMatchObject({ level: 'fail', blocks: 'mirror', fix: expect.stringContaining('lockstep lab up --kernel') });
      expect(f('drbd-module', h).fix).not.toMatch(/reboot|linux-image/);
      // every program the app runs is on the lab hosts (they share this machine's userland)
      expect(r.value.findings.filter((x) => x.id.startsWith('tool-') && x.host === h)).toEqual([]);
    }
    expect(r.value.hosts.map((h) => h.name)).toEqual(['hostA', 'hostB']);
    expect(r.value.verdict.tier).toBe('lockstep');
    expect(r.value.clockOffsetSeconds).not.toBeNull();
  });

  it('`lab down` removes every namespace, link and process; a lab killed mid-`up` is cleaned by the next command', async () => {
    const pids = lab.hosts.flatMap((h) => h.pids);
    expect(json<LabStatus>(['lab', 'down']).value).toEqual({ state: 'down' });
    expect(await leftovers(PREFIX)).toEqual([]);
    expect((await netnsList()).filter((n) => n.startsWith(`${PREFIX}-`))).toEqual([]);
    for (const p of pids) expect(pidAlive(p), `pid ${p}`).toBe(false);

    // interrupted: kill -9 the CLI while it builds the lab
    const child = spawn(process.execPath, [cliBin, 'lab', 'up'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const t0 = Date.now();
    while (!(await netnsList()).includes(`${PREFIX}-hostA`) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const st = json<LabStatus>(['lab', 'status']).value;
    expect(['partial', 'up']).toContain(st.state);
    // the next `up` finishes (resuming the journaled plan), and `down` leaves nothing
    const up = json<LabStatus>(['lab', 'up']);
    expect(up.value.state).toBe('up');
    // the interrupted plan itself was resumed and finished: none is left "running" in the journal
    const plans = json<PlanDTO[]>(['tasks', 'list']).value.filter((p) => p.kind === 'lab.up');
    expect(plans.map((p) => p.state)).not.toContain('running');
    expect(plans.filter((p) => p.steps.some((s) => s.applied > 0)).length).toBeGreaterThanOrEqual(2);
    expect(json<LabStatus>(['lab', 'down']).value).toEqual({ state: 'down' });
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
