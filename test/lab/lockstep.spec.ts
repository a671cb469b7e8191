import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { cli } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

const PREFIX = 'll';
const { env, home } = labEnv(PREFIX, '198.18.89');

function run<T>(args: string[]): { ok: boolean; value: T; error?: { code: string; message: string } } {
  const r = cli([...args, '--json'], env);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`not JSON from ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  cli(['lab', 'down'], env);
  const up = run<LabStatus>(['lab', 'up']);
  if (!up.ok) throw new Error(JSON.stringify(up.error));
  expect(run(['hosts', 'add-lab']).ok).toBe(true);
});
afterAll(() => {
  cli(['agent', 'stop'], env);
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
});

describe('lockstep on namespace hosts (QEMU COLO under TCG with the lab workarounds)', () => {
  it('protects the demo guest: primary on hostA, secondary in lockstep on hostB, checkpoints advance', async () => {
    const p = run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB']);
    expect(p.error).toBeUndefined();
    expect(p.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostA', colo: 'primary' }, secondary: { name: 'hostB', colo: 'secondary' } });
    // protecting an already-protected pair is success
    expect(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB']).value.state).toBe('lockstep');
    await sleep(6000);
    const later = run<PairStatus>(['lockstep', 'status']).value;
    expect(later.state).toBe('lockstep');
    if (later.state === 'lockstep' && p.value.state === 'lockstep') {
      expect(later.checkpoints).toBeGreaterThan(p.value.checkpoints);
      expect(later.checkpointPauseMsP50).not.toBeNull();
    }
  });

  it('the secondary guest stays healthy under checkpoints (no oops: the TCG dirty-tracking workaround holds)', async () => {
    const lab = run<LabStatus>(['lab', 'status']).value as Extract<LabStatus, { state: 'up' }>;
    const b = lab.hosts[1]!;
    const s = await SshSession.connect({ address: b.address, port: b.port, user: 'root', keyFile: lab.keyFile, fingerprint: b.fingerprint });
    try {
      await sleep(4000);
      const log = await s.exec(['cat', '/run/lockstep/vm/secondary-serial.log']);
      expect(log.code).toBe(0);
      expect(log.stdout).not.toMatch(/Oops|BUG:|Kernel panic|list_add corruption|general protection fault/);
    } finally {
      s.dispose();
    }
  });

  it('the guest answers from the client namespace (it boots inside COLO)', async () => {
    let answered = false;
    for (let i = 0; i < 30 && !answered; i++) {
      const r = run<{ answers: number }>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '100']);
      answered = r.ok && r.value.answers > 0;
      if (!answered) await sleep(1000);
    }
    expect(answered).toBe(true);
  });

  it('pull the plug (kill -9 of the primary QEMU): the secondary takes over, TCP session kept, counter never backwards', () => {
    const d = run<DrillReport>(['drill', 'run', 'kill-primary-vm']);
    expect(d.error).toBeUndefined();
    const r = d.value;
    expect(r.reasons).toEqual([]);
    expect(r.verdict).toBe('passed');
    expect(r.stream.survived).toBe(true);
    expect(r.http.wentBackwards).toBe(false);
    expect(r.http.attempts).toBeGreaterThan(20);
    expect(r.http.longestGapMs).toBeGreaterThan(0);
    // the host agents act, not the app: the drill armed them first
    expect(r.timeline.map((e) => e.what)).toEqual([
      expect.stringContaining('killed'),
      expect.stringContaining("hostB's agent decided: failover"),
      expect.stringContaining("hostB's agent: colo-failover done"),
    ]);
    expect(r.agents?.find((a) => a.name === 'hostB')).toMatchObject({ action: 'failover', rc: 0 });
    expect(r.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
    // the survivor keeps answering
    const after = run<{ answers: number; wentBackwards: boolean }>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '100']);
    expect(after.value.answers).toBeGreaterThan(0);
    expect(run<DrillReport[]>(['drill', 'list']).value.map((x) => x.id)).toContain(r.id);
    const html = cli(['drill', 'export', String(r.id)], env).stdout;
    expect(html).toContain('PASSED');
  });

  it('a manual failover after re-protect runs the host’s colo-failover over SSH (the agents held first): hostA serves alone', async () => {
    const r = run<PairStatus>(['lockstep', 'reprotect']);
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
    const f = run<PairStatus>(['lockstep', 'failover']);
    expect(f.error).toBeUndefined();
    expect(f.value).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' }, lost: { name: 'hostB' } });
    const ev = run<{ message: string }[]>(['events', 'list', '--query', 'Failed over: the guest now runs on hostA alone (colo-failover']).value;
    expect(ev.length).toBeGreaterThan(0);
    let answers = 0;
    for (let i = 0; i < 20 && answers === 0; i++, await sleep(500))
      answers = run<{ answers: number }>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '100']).value.answers;
    expect(answers).toBeGreaterThan(0);
  });

  it('stop ends every VM; lab down leaves nothing', async () => {
    expect(run<PairStatus>(['lockstep', 'stop']).value.state).toBe('unprotected');
    expect(run(['lab', 'down']).ok).toBe(true);
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
