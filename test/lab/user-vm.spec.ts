/**
 * Issue 21 on the namespace lab: a VM the app did not make (the test VM: Debian 12, systemd, stock
 * Redis with appendfsync always, BIOS boot from its own disk) is delivered as qcow2 on hostA and
 * protected from that image: `lockstep protect hostA hostB --disk hostA:/…qcow2 --memory 256 --cpus 1
 * --port 6379`. Checked: the pair reaches lockstep with checkpoints, the image is left unchanged, the
 * secondary's guest does not panic under checkpoints, Redis answers a client in the lab's client
 * namespace; then one story of faults, a Redis writer running through each: the drill kill-primary-vm
 * (the CLI's drill: hostB's host agent fails over, the meter watches Redis's port as an ordinary
 * client, TCP connect + close), re-protect (hostA's fresh secondary boots from its own copy of the
 * disk), the drill power-off-host (hostA's agent fails back), power on, re-protect: back in lockstep.
 * Every write Redis acknowledged is read back from the survivor each time.
 * Prints protect seconds, checkpoint pause, the meter's gaps, the writer's longest gap and the writes lost.
 * Heavy: run it under the shared lock.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { labEnv } from '../helpers/lab-env.js';
import { labCli, waitFor } from '../helpers/lab-cli.js';
import { redisClient } from '../helpers/redis-client.js';
import { buildTestVm, TEST_VM_PORT, type TestVmBuild } from '../helpers/test-vm/test-vm.js';

const NET = '198.18.74';
const { env, home } = labEnv('uv', NET);
const cli = labCli(env, 900_000);
const GUEST = `${NET}.50`;
const MAC = '52:54:00:75:76:01';
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;
let build: TestVmBuild;
let hostA: SshSession;
let hostB: SshSession;
let imageSum = '';

const sha256 = (f: string) => spawnSync('sha256sum', [f], { encoding: 'utf8' }).stdout.split(/\s+/)[0]!;

/** redis-cli in the lab's client namespace: an ordinary client of the guest's service (test/helpers/redis-client.ts). */
const client = () => redisClient(lab.clientNetns, GUEST);
const redis = (...args: string[]) => client().redis(...args);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  mkdirSync(`${home.path}/images`, { recursive: true });
  build = buildTestVm(`${home.path}/images/testvm.qcow2`, { address: GUEST, prefixLen: 24 });
  console.log(`test_vm_build_seconds: ${build.seconds.toFixed(1)} (${build.cached ? 'cached' : 'built'})`);
  imageSum = sha256(build.path);
  cli.json(['lab', 'down']);
  lab = cli.ok<Up>(['lab', 'up']);
  cli.ok(['hosts', 'add-lab']);
}, 40 * 60_000);

/** SSH to both lab hosts, opened after protect (a session idle through protect's busy minutes may drop on a loaded machine). */
async function connectHosts(): Promise<void> {
  const [a, b] = lab.hosts;
  const connect = (h: typeof a) =>
    SshSession.connect({ address: h!.address, port: h!.port, user: lab.user, keyFile: lab.keyFile, fingerprint: h!.fingerprint });
  hostA = await connect(a);
  hostB = await connect(b);
}

afterAll(async () => {
  cli.json(['agent', 'stop']);
  cli.json(['lockstep', 'stop']);
  hostA?.dispose();
  hostB?.dispose();
  cli.json(['lab', 'down']);
  home.remove();
}, 180_000);

describe('your own VM in lockstep: protected from its disk image on the namespace lab', () => {
  it('refuses a hostile path, an image on host B and missing RAM before anything runs', () => {
    for (const disk of ['hostA:/tmp/a b.qcow2', 'hostA:/x/../etc/shadow', 'hostA:/a,file=/etc/passwd']) {
      const r = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', disk, '--memory', '256', '--cpus', '1']);
      expect(r.ok, disk).toBe(false);
    }
    const onB = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', `hostB:${build.path}`, '--memory', '256', '--cpus', '1']);
    expect(onB.error?.code).toBe('bad-arguments');
    const noRam = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', `hostA:${build.path}`, '--cpus', '1']);
    expect(noRam.error?.code).toBe('bad-arguments');
    expect(cli.json<PairStatus>(['lockstep', 'status']).value).toMatchObject({ state: 'unprotected' });
  });

  it('protects it: both sides boot from their own disk, lockstep with checkpoints, the image unchanged, Redis answers', async () => {
    const mtime = statSync(build.path).mtimeMs;
    const t0 = performance.now();
    const p = cli.json<PairStatus>([
      'lockstep',
      'protect',
      'hostA',
      'hostB',
      '--disk',
      `hostA:${build.path}`,
      '--memory',
      '256',
      '--cpus',
      '1',
      '--mac',
      MAC,
      '--port',
      String(TEST_VM_PORT),
    ]);
    const protectSeconds = (performance.now() - t0) / 1000;
    expect(p.error).toBeUndefined();
    expect(p.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostA', colo: 'primary' }, secondary: { name: 'hostB', colo: 'secondary' } });
    await connectHosts();
    // booted from the disk: QEMU's command line has no -kernel, and the guest's own kernel speaks on ttyS0
    for (const [s, role] of [
      [hostA, 'primary'],
      [hostB, 'secondary'],
    ] as const) {
      const pid = (await s.check(['cat', `/run/lockstep/vm/${role}.pid`])).trim();
      const cmdline = (await s.check(['cat', `/proc/${pid}/cmdline`])).split('\0');
      expect(cmdline).not.toContain('-kernel');
      expect(cmdline.join(' ')).toContain('/var/lib/lockstep/guest/user-disk.img');
      expect(cmdline.join(' ')).toContain('262152k');
    }
    expect(await hostA.check(['cat', '/run/lockstep/vm/primary-serial.log'])).toMatch(/Linux version 6\.\d+/);
    await waitFor(() => (redis('PING').out === 'PONG' ? true : undefined), 120_000, 'Redis to answer PING through the pair', 500);
    // the user's file is never written: the pair runs a raw copy
    expect(statSync(build.path).mtimeMs).toBe(mtime);
    expect(sha256(build.path)).toBe(imageSum);
    await sleep(8000);
    const st = cli.ok<PairStatus>(['lockstep', 'status']);
    expect(st.state).toBe('lockstep');
    if (st.state !== 'lockstep' || p.value.state !== 'lockstep') return;
    expect(st.checkpoints).toBeGreaterThan(p.value.checkpoints);
    expect(st.checkpointPauseMsP50).not.toBeNull();
    const serialB = await hostB.check(['cat', '/run/lockstep/vm/secondary-serial.log']);
    expect(serialB, "the secondary's guest stays healthy under checkpoints").not.toMatch(/Kernel panic|Oops|BUG:|general protection fault|list_add corruption/);
    console.log(
      `protect_user_vm_seconds: ${protectSeconds.toFixed(1)} (2 GiB qcow2 → raw, copied host to host, boot to Redis inside COLO); checkpoints/s ${st.checkpointsPerSecond.toFixed(2)}, checkpoint pause p50 ${st.checkpointPauseMsP50} ms`,
    );
  }, 900_000);

  it("drill kill-primary-vm: hostB's agent fails over, the meter watches Redis's port, no acknowledged write is lost", async () => {
    expect(redis('SET', 'uv:marker', marker).out).toBe('OK');
    await drillWithWriter('kill-primary-vm', 'hostB', 'hostA');
  }, 300_000);

  it('re-protect: hostA comes back as the secondary from its own copy of the disk; Redis keeps its data', () => {
    reprotected('hostB', 'hostA');
  }, 900_000);

  it("drill power-off-host (hostB, now primary): hostA's agent fails back, no acknowledged write is lost; power on, re-protect: lockstep again", async () => {
    await drillWithWriter('power-off-host', 'hostA', 'hostB');
    cli.ok(['lab', 'power', 'hostB', 'on']);
    reprotected('hostA', 'hostB');
  }, 1_200_000);
});

const marker = `m-${Date.now()}`;

/** Re-protect from the survivor; the pair is in lockstep with the roles given and Redis still has the marker. */
function reprotected(primary: string, secondary: string): void {
  const r = cli.json<PairStatus>(['lockstep', 'reprotect']);
  expect(r.error).toBeUndefined();
  expect(r.value).toMatchObject({ state: 'lockstep', primary: { name: primary }, secondary: { name: secondary } });
  expect(redis('GET', 'uv:marker').out).toBe(marker);
}

/**
 * A writer runs while the CLI's drill pulls the plug; the drill passes (the survivor's agent acted,
 * the meter's held TCP connection survived, one VM runs) and every acknowledged write is on the survivor.
 */
async function drillWithWriter(mode: 'kill-primary-vm' | 'power-off-host', survivor: string, lost: string): Promise<void> {
  const writes = client().startWriter(35, 'uv:k');
  await sleep(3000);
  const d = cli.json<DrillReport>(['drill', 'run', mode]);
  const got = await writes;
  expect(d.error).toBeUndefined();
  const r = d.value;
  const faultAt = r.startedAt + (r.timeline[0]?.t ?? 0);
  expect(r.reasons).toEqual([]);
  expect(r.verdict).toBe('passed');
  expect(r.after).toMatchObject({ state: 'failed-over', survivor: { name: survivor }, lost: { name: lost } });
  expect(r.agents?.find((a) => a.name === survivor)).toMatchObject({ action: 'failover', rc: 0 });
  // the meter watched Redis's port: TCP connects, no counter
  expect(r.ordinary!.attempts).toBeGreaterThan(100);
  expect(r.http.samples.some((x) => x.count !== undefined)).toBe(false);
  expect(r.gaps!.ordinaryClientMs).toBeGreaterThan(0);
  const acked = got.filter((w) => w.ok);
  const after = acked.filter((w) => w.t > faultAt);
  expect(acked.length).toBeGreaterThan(20);
  expect(after.length, 'the survivor acknowledges writes after the fault').toBeGreaterThan(5);
  const lostWrites = client().lostWrites(got, 'uv:k');
  expect(redis('GET', 'uv:marker').out).toBe(marker);
  const gap = client().longestGap(got);
  const g = r.gaps!;
  console.log(
    `user_vm_failover_gap_ms{${mode}}: ${g.headlineMs} (meter on Redis's port: ordinary client ${g.ordinaryClientMs} ms, hedged ${g.hedgedMs} ms, detection ${r.detectionMs} ms); ` +
      `writer: ${acked.length} acknowledged (${got.length - acked.length} failed attempts), lost ${lostWrites.length}, longest gap between acknowledged writes ${gap} ms`,
  );
  expect(lostWrites).toEqual([]);
}
