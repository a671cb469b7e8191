/**
 * Issue 21, `lockstep unprotect` on the namespace lab: the test VM (Debian 12 + Redis, BIOS boot
 * from its own disk, delivered as qcow2 on hostA) is protected from its image with the host agents
 * armed, keys are written; unprotect without (or with a wrong) --confirm is refused and changes
 * nothing; `unprotect --confirm hostB` while a writer keeps writing: the same QEMU on hostA keeps
 * serving, out of COLO, with every acknowledged key; hostB's QEMU, disk copy, overlays, tap and
 * agent are gone, so are hostA's agent and config; status says unprotected; a second unprotect
 * has nothing to do. Prints the writer's longest gap across the unprotect.
 * Heavy: run it under the shared lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus, PairStatus } from '../../src-main/contract/index.js';
import { Qmp } from '../../src-main/hosts/qmp.js';
import type { SshSession } from '../../src-main/hosts/ssh-session.js';
import { waitFor } from '../helpers/lab-cli.js';
import { testVmLab } from '../helpers/test-vm-lab.js';

const L = testVmLab('uu', '198.18.73');
const cli = L.cli;
const MAC = '52:54:00:75:75:01';
const RUN = '/run/lockstep/vm';
const redis = (...args: string[]) => L.t.client.redis(...args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pidFile = async (s: SshSession, set: 'primary' | 'secondary') => (await s.exec(['cat', `${RUN}/${set}.pid`])).stdout.trim();
const alive = async (s: SshSession, pid: string) => pid !== '' && (await s.exec(['kill', '-0', pid])).code === 0;
const exists = async (s: SshSession, path: string) => (await s.exec(['test', '-e', path])).code === 0;

async function coloMode(s: SshSession, set: 'primary' | 'secondary'): Promise<string> {
  const q = await Qmp.open(s, `${RUN}/${set}-qmp.sock`, { timeoutMs: 3000 });
  try {
    return (await q.exec<{ mode: string }>('query-colo-status', undefined, { timeoutMs: 3000 })).mode;
  } finally {
    q.close();
  }
}

let pidA = '';
let pidB = '';
const before: { i: number; ok: boolean; t: number }[] = [];

beforeAll(async () => {
  await L.up();
}, 40 * 60_000);

afterAll(async () => {
  // the VM given back is no longer the pair's: `lockstep stop` leaves it, the test stops it by its PID
  if (pidA) await (await L.connect('A')).exec(['kill', '-9', pidA]).catch(() => undefined);
  L.down();
}, 180_000);

describe('unprotect: the VM given back as one plain VM on the host where it runs', () => {
  it('protects the test VM from its image, arms the agents, writes keys', async () => {
    const p = cli.json<PairStatus>(L.protectArgs(MAC));
    expect(p.error).toBeUndefined();
    expect(p.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostA' }, secondary: { name: 'hostB' } });
    await waitFor(() => (redis('PING').out === 'PONG' ? true : undefined), 120_000, 'Redis to answer PING through the pair', 500);
    cli.ok(['agent', 'deploy']);
    for (let i = 1; i <= 50; i++) before.push({ i, ok: redis('SET', `uu:k:${i}`, String(i)).out === 'OK', t: Date.now() });
    expect(before.filter((w) => w.ok).length).toBe(50);
    const [a, b] = [await L.connect('A'), await L.connect('B')];
    pidA = await pidFile(a, 'primary');
    pidB = await pidFile(b, 'secondary');
    expect(await alive(a, pidA)).toBe(true);
    expect(await alive(b, pidB)).toBe(true);
  }, 900_000);

  it('refuses without --confirm, or with a name that is not hostB, saying what it would remove; nothing changes', async () => {
    const none = cli.json<PairStatus>(['lockstep', 'unprotect']);
    expect(none.ok).toBe(false);
    expect(none.error?.code).toBe('confirm-needed');
    expect(none.error?.message).toContain('keeps running on hostA');
    expect(none.error?.message).toContain('On hostB it stops');
    expect(none.error?.fix).toBe('lockstep lockstep unprotect --confirm hostB');
    const wrong = cli.json<PairStatus>(['lockstep', 'unprotect', '--confirm', 'hostA']);
    expect(wrong.error?.code).toBe('confirm-needed');
    expect(cli.ok<PairStatus>(['lockstep', 'status'])).toMatchObject({ state: 'lockstep', secondary: { name: 'hostB', colo: 'secondary' } });
    expect(await alive(await L.connect('B'), pidB)).toBe(true);
    expect(await coloMode(await L.connect('A'), 'primary')).toBe('primary');
    expect(cli.ok<AgentStatus>(['agent', 'status']).state).toBe('deployed');
  }, 120_000);

  it('unprotect --confirm hostB: Redis keeps answering with every acknowledged key, one QEMU on hostA, nothing of the pair on hostB', async () => {
    const writes = L.t.client.startWriter(40, 'uu:w');
    await sleep(8000);
    const t0 = Date.now();
    const r = cli.json<PairStatus>(['lockstep', 'unprotect', '--confirm', 'hostB']);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ state: 'unprotected' });
    const got = await writes;
    const acked = got.filter((w) => w.ok);
    expect(acked.filter((w) => w.t > t0 + seconds * 1000).length, 'writes acknowledged after the unprotect').toBeGreaterThan(5);
    expect(L.t.client.lostWrites(got, 'uu:w')).toEqual([]);
    expect(L.t.client.lostWrites(before, 'uu:k')).toEqual([]);
    const [a, b] = [await L.connect('A'), await L.connect('B')];
    // the same QEMU (not a restart) serves on hostA, out of COLO; hostB's is gone
    expect(await pidFile(a, 'primary')).toBe(pidA);
    expect(await alive(a, pidA)).toBe(true);
    expect(await coloMode(a, 'primary')).toBe('none');
    expect(await exists(a, `${RUN}/secondary.pid`)).toBe(false);
    expect(await alive(b, pidB)).toBe(false);
    for (const f of [RUN, '/var/lib/lockstep/guest', '/var/lib/lockstep/agent', '/etc/lockstep'])
      expect((await b.exec(['sh', '-c', 'ls -A "$1" 2>/dev/null', 'sh', f])).stdout.trim(), `${f} on hostB`).toBe('');
    expect((await b.exec(['ip', 'link', 'show', 'dev', 'lsvm0'])).code).not.toBe(0);
    // the agents are gone from both hosts; hostA keeps the VM's disk (written while protected) and nothing of the agents
    for (const f of ['/etc/lockstep/agent.conf', '/etc/lockstep/agent.key', '/var/lib/lockstep/agent']) expect(await exists(a, f), f).toBe(false);
    expect(await exists(a, '/var/lib/lockstep/guest/user-disk.img')).toBe(true);
    expect(cli.ok<AgentStatus>(['agent', 'status']).state).toBe('not-deployed');
    const st = cli.ok<PairStatus>(['lockstep', 'status']);
    expect(st).toMatchObject({ state: 'unprotected' });
    expect(st.state === 'unprotected' && st.why).toContain('plain VM on hostA');
    console.log(
      `unprotect_user_vm_seconds: ${seconds.toFixed(1)}; writer across it: ${acked.length} acknowledged (${got.length - acked.length} failed attempts), longest gap ${L.t.client.longestGap(got)} ms, lost 0`,
    );
  }, 300_000);

  it('a second unprotect has nothing to do; Redis still answers on hostA', () => {
    const again = cli.json<PairStatus>(['lockstep', 'unprotect', '--confirm', 'hostB']);
    expect(again.error).toBeUndefined();
    expect(again.value).toMatchObject({ state: 'unprotected' });
    expect(again.value.state === 'unprotected' && again.value.why).toContain('Nothing to unprotect');
    expect(redis('GET', 'uu:k:50').out).toBe('50');
  });
});
