/**
 * The whole product on the kernel lab (real DRBD 8.4 inside each host, QEMU COLO under TCG inside
 * them): link → DRBD mirror → the guest in lockstep ON the mirror's device → drills with the host
 * agents armed → re-protect that resyncs only what changed, verified online. Driven through the CLI;
 * the test looks at the hosts over SSH only (the serving host's disk, where the guest's disk lives).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientProbeResult, DrillMode, EventRecord, DrillReport, LabStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';
import { cli, root } from '../helpers/processes.js';
import { parseCounterSlots } from '../helpers/guest-disk.js';
import { labEnv } from '../helpers/lab-env.js';
import { fixtureArgv, mustOnHost, onHost, stopKernels, syncPercent, type LabHost, type Up } from '../faults/kernel-lab.js';
import { killNow, labCli, waitWhileRunning } from '../faults/cli-json.js';

const PREFIX = 'ud';
/**
 * The guest runs in lockstep INSIDE the kernel hosts: on user-mode Linux hosts (QEMU TCG in UML) it
 * serves within a minute. On QEMU kernel hosts (the flavour for machines whose CPU has AMX, where UML
 * cannot run) the guest's QEMU is TCG inside TCG: measured 2026-12-07 here, protect reached lockstep
 * after 164 s and the guest had not answered a single request 5 minutes later. There this story cannot
 * run in the test budget: it is skipped (reported as skipped, with this reason), and the DRBD layer
 * itself is still tested on those hosts by test/lab/mirror.spec.ts and test/faults/mirror-faults.spec.ts.
 */
const uml = spawnSync('bash', [join(root, 'native/lab/uml/can-run.sh')], { encoding: 'utf8', timeout: 60_000 }).stdout.trim();
const COLO_IN_KERNEL_HOSTS = uml === 'ok';
if (!COLO_IN_KERNEL_HOSTS) console.log(`colo-drbd skipped: user-mode Linux cannot run here (${uml}); COLO inside QEMU kernel hosts does not serve in minutes`);

const lab0 = labEnv(PREFIX, '198.18.76');
// data disks of 1100M: room for writes while apart that take DRBD seconds to resync (the fault scenarios kill during it)
const env = { ...lab0.env, LOCKSTEP_LAB_DATA_SIZE: '1100M', LOCKSTEP_LAB_KERNEL: 'uml' };
const home = lab0.home;
const { spawnCli } = labCli(env, 900_000);
const WRITE_MIB = 600;
let lab: Up;

type Out<T> = { ok: boolean; value: T; error?: { code: string; message: string; fix?: string } };
function run<T>(args: string[], timeoutMs = 600_000): Out<T> {
  const r = cli([...args, '--json'], env, timeoutMs);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`not JSON from ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
  }
}
const value = <T>(o: Out<T>): T => {
  if (!o.ok) throw new Error(JSON.stringify(o.error));
  return o.value;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Lockstep = Extract<PairStatus, { state: 'lockstep' }>;
const inLockstep = (s: PairStatus): Lockstep => {
  if (s.state !== 'lockstep') throw new Error(`expected lockstep, got ${JSON.stringify(s)}`);
  return s;
};
const host = (name: string): LabHost => lab.hosts.find((h) => h.name === name)!;

/** The guest's counter as a visitor reads it (retried: booting, or paused by a checkpoint). */
async function count(tries = 120): Promise<number> {
  for (let i = 1; ; i++) {
    const r = run<{ count: number }>(['guest', 'peek']);
    if (r.ok) return r.value.count;
    if (i >= tries) throw new Error(JSON.stringify(r.error));
    await sleep(1000);
  }
}

/** The counter on a host's DRBD device (the guest's disk), read past the page cache over SSH. */
async function countOnDevice(name: string): Promise<number | null> {
  const out = await mustOnHost(lab, host(name), fixtureArgv(['sh', '-c', 'dd if=/dev/drbd0 bs=1024 count=1 iflag=direct status=none | base64 -w0']));
  return parseCounterSlots(Buffer.from(out.trim(), 'base64')).count;
}

async function drill(
  mode: DrillMode,
  actor: string,
  act: { role: 'primary' | 'secondary'; action: RegExp } = { role: 'secondary', action: /^failover$/ },
): Promise<DrillReport> {
  const before = await count(10);
  const r = value(run<DrillReport>(['drill', 'run', mode]));
  console.log(`${mode} on DRBD: ${JSON.stringify({ gaps: r.gaps, breakdown: r.breakdown, agents: r.agents?.map((a) => [a.name, a.action, a.rc]) })}`);
  if (r.verdict !== 'passed') console.log(mode, JSON.stringify({ reasons: r.reasons, timeline: r.timeline }));
  expect(r.reasons).toEqual([]);
  expect(r.verdict).toBe('passed');
  expect(r.http.wentBackwards).toBe(false);
  expect(r.stream.survived).toBe(true);
  const acted = r.agents?.find((a) => a.name === actor);
  expect(acted, JSON.stringify(r.agents)).toMatchObject({ role: act.role, rc: 0 });
  expect(acted!.action).toMatch(act.action);
  // no acknowledged write lost: the survivor's DRBD device holds every count a client was given
  const acked = Math.max(before, ...r.http.samples.map((x) => x.count ?? 0), ...(r.ordinary?.samples ?? []).map((x) => x.count ?? 0));
  let onDisk: number | null = null;
  for (let i = 0; i < 20 && (onDisk ?? -1) < acked; i++, await sleep(500)) onDisk = await countOnDevice(actor);
  expect(onDisk, `${actor}'s /dev/drbd0 holds the last acknowledged count ${acked}`).toBeGreaterThanOrEqual(acked);
  return r;
}

/** Re-protect on DRBD: only what changed is resynced, and the online verify after it finds the disks identical. */
function reprotect(primary: string, secondary: string, writtenApart = 0, resumed = false, verify = !writtenApart): Lockstep {
  const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect', ...(verify ? ['--verify'] : [])])));
  expect([s.primary.name, s.secondary.name]).toEqual([primary, secondary]);
  expect(s.diskSync).toBe('drbd');
  const r = s.lastResync!;
  console.log(`re-protect onto ${secondary}: ${JSON.stringify(r)}`);
  expect(r.how).toBe('drbd');
  // asked for (--verify): drbdadm verify after the resync found the disks identical; not asked: not run
  expect(r.verifiedOutOfSyncBytes).toBe(verify ? 0 : null);
  // bitmap-based: the blocks written while apart (+ the guest's own and activity-log extents), far below the 1100 MiB device
  // a resync resumed after its target died copies only what it had not copied yet
  expect(r.bytes).toBeGreaterThanOrEqual(resumed ? 1 : writtenApart);
  expect(r.bytes).toBeLessThan(writtenApart + 64 * 2 ** 20);
  return s;
}

beforeAll(() => {
  if (!COLO_IN_KERNEL_HOSTS) return;
  cli(['lab', 'down'], env);
  lab = value(run<Up>(['lab', 'up', '--kernel']));
  value(run(['hosts', 'add-lab']));
  value(run(['link', 'setup', 'hostA', 'hostB']));
  expect(value(run<MirrorStatusDTO>(['mirror', 'setup']))).toMatchObject({ state: 'connected' });
}, 600_000);

afterAll(() => {
  if (!COLO_IN_KERNEL_HOSTS) return home.remove();
  cli(['agent', 'stop'], env, 60_000);
  cli(['lockstep', 'stop'], env, 120_000);
  if (cli(['lab', 'down'], env, 180_000).code !== 0) stopKernels(home.path, PREFIX, lab?.hosts ?? []);
  home.remove();
}, 600_000);

describe.skipIf(!COLO_IN_KERNEL_HOSTS)('the guest in lockstep on DRBD (kernel lab): drills, and re-protect that resyncs only what changed', () => {
  it('protect puts the guest on the DRBD device: no disk image anywhere, DRBD apart in lockstep', async () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    expect(s.diskSync).toBe('drbd');
    expect(s.disk).toEqual({ resource: 'r0', device: '/dev/drbd0' });
    // nothing was copied as a file: the disk image exists on neither host (the app read and wrote none)
    for (const h of ['hostA', 'hostB']) expect((await onHost(lab, host(h), ['test', '-e', '/var/lib/lockstep/guest/disk.img'])).code).toBe(1);
    const events = value(run<{ message: string }[]>(['events', 'list', '--query', 'Disk copied']));
    expect(events).toEqual([]);
    const m = value(run<MirrorStatusDTO>(['mirror', 'status']));
    expect(m).toMatchObject({ state: 'standalone', underPair: 'split-in-lockstep' });
    expect(await count()).toBeGreaterThanOrEqual(0);
  }, 900_000);

  it("kill-primary-vm: hostB's agent takes over on its DRBD side; re-protect resyncs only what changed onto hostA", async () => {
    const d = await drill('kill-primary-vm', 'hostB');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    reprotect('hostB', 'hostA');
  }, 900_000);

  it("power-off-host (hostB, now primary): hostA's agent fails back; after power-on re-protect resyncs and verifies", async () => {
    const d = await drill('power-off-host', 'hostA');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' }, lost: { name: 'hostB' } });
    lab = value(run<Up>(['lab', 'power', 'hostB', 'on']));
    const s = reprotect('hostA', 'hostB');
    expect(s.lastResync!.sourceBitmapBytes).not.toBeNull();
    // the guest serves from the DRBD device, and its disk there has what a client was last given
    const n = await count();
    let onDisk: number | null = null;
    for (let i = 0; i < 20 && (onDisk ?? -1) < n; i++, await sleep(500)) onDisk = await countOnDevice('hostA');
    expect(onDisk).toBeGreaterThanOrEqual(n);
  }, 900_000);

  it('the app killed mid-resync: the survivor serves on while DRBD resyncs without the app; the rerun resumes that resync', async () => {
    await drill('kill-secondary', 'hostA', { role: 'primary', action: /^(continue-alone|degraded)$/ });
    await writeWhileApart('hostA', 'app-killed');
    const client = clientFor(40);
    const first = spawnCli(['lockstep', 'reprotect']);
    await waitWhileRunning(first, async () => ((await syncPercent(lab, host('hostA'))) !== null ? true : undefined), 300_000, 'the resync to start', 200);
    await killNow(first.child);
    expect(await count(10), 'the survivor still answers').toBeGreaterThanOrEqual(0);
    await expectServedThroughout(client);
    // the rerun: the resync the killed app started is the one it reports. Its join (COLO's first
    // checkpoint carries the guest's RAM to the new secondary) holds the guest's answers meanwhile:
    // printed here, a known limit (the join is not live yet), not asserted
    const join = clientFor(60);
    reprotect('hostA', 'hostB', WRITE_MIB * 2 ** 20);
    const j = (await join.result()) as { ok: boolean; value: ClientProbeResult };
    console.log(`re-protect's join as a client saw it: longest gap ${j.value.longestGapMs} ms (${j.value.answers}/${j.value.attempts} answers)`);
    expect(j.value.wentBackwards).toBe(false);
  }, 900_000);

  it('the returned host killed mid-resync: the survivor serves on; after power-on re-protect finishes the resync and verifies', async () => {
    await drill('kill-secondary', 'hostA', { role: 'primary', action: /^(continue-alone|degraded)$/ });
    await writeWhileApart('hostA', 'host-killed');
    const client = clientFor(60);
    const first = spawnCli(['lockstep', 'reprotect']);
    await waitWhileRunning(first, async () => ((await syncPercent(lab, host('hostA'))) !== null ? true : undefined), 300_000, 'the resync to start', 200);
    value(run(['lab', 'power', 'hostB', 'off']));
    const failed = await first.result();
    expect(failed.ok, 'the re-protect whose host died fails').toBe(false);
    expect(await count(10), 'the survivor still answers').toBeGreaterThanOrEqual(0);
    await expectServedThroughout(client);
    lab = value(run<Up>(['lab', 'power', 'hostB', 'on']));
    reprotect('hostA', 'hostB', WRITE_MIB * 2 ** 20, true, true);
  }, 900_000);

  it('lab status: both kernel hosts up after the power cycles', () => {
    const st = value(run<LabStatus>(['lab', 'status']));
    expect(st.state === 'up' && st.hosts.every((h) => h.power === 'on')).toBe(true);
  }, 900_000);
});

/** WRITE_MIB MiB written on the survivor's DRBD device past the guest's 16 MiB while the pair is apart: a resync of seconds. */
async function writeWhileApart(name: string, text: string): Promise<void> {
  await mustOnHost(
    lab,
    host(name),
    fixtureArgv([
      'sh',
      '-c',
      'yes "$1" | head -c "$2" | dd of=/dev/drbd0 bs=1M seek=256 iflag=fullblock oflag=direct status=none',
      'sh',
      text,
      String(WRITE_MIB * 2 ** 20),
    ]),
  );
}

/** An ordinary client of the guest polling for `seconds` while a fault runs. */
function clientFor(seconds: number) {
  return spawnCli(['lab', 'client', 'http', '--seconds', String(seconds), '--interval-ms', '100']);
}

/** The survivor served all along: answers throughout, the counter never backwards, no gap beyond a few checkpoints. */
async function expectServedThroughout(client: ReturnType<typeof clientFor>): Promise<void> {
  const r = (await client.result()) as { ok: boolean; value: ClientProbeResult };
  expect(r.ok).toBe(true);
  console.log(`client during the fault: ${r.value.answers}/${r.value.attempts} answers, longest gap ${r.value.longestGapMs} ms`);
  // what the app was doing when that gap happened (the event log around it)
  const end = r.value.longestGapEndedAt ?? 0;
  const around = value(run<EventRecord[]>(['events', 'list', '--limit', '400'])).filter((e) => e.at >= end - r.value.longestGapMs - 3000 && e.at <= end + 1000);
  console.log(`events around the longest gap:\n${around.map((e) => `  ${((e.at - end) / 1000).toFixed(1)} s ${e.source}: ${e.message}`).join('\n')}`);
  expect(r.value.wentBackwards).toBe(false);
  expect(r.value.answers).toBeGreaterThan(r.value.attempts / 2);
  expect(r.value.longestGapMs).toBeLessThan(10_000);
}
