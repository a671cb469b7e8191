/**
 * Issue 21 on the namespace lab: a VM the app did not make (the test VM: Debian 12, systemd, stock
 * Redis with appendfsync always, BIOS boot from its own disk) is delivered as qcow2 on hostA and
 * protected from that image: `lockstep protect hostA hostB --disk hostA:/…qcow2 --memory 256 --cpus 1
 * --port 6379`. Checked: the pair reaches lockstep with checkpoints, the image is left unchanged, the
 * secondary's guest does not panic under checkpoints, Redis answers a client in the lab's client
 * namespace; then a writer keeps writing while the primary QEMU is killed (-9) and hostB's host agent
 * fails over by itself; every write Redis acknowledged is read back from the survivor.
 * Prints protect seconds, checkpoint pause, the writer's longest gap and the writes lost.
 * Heavy: run it under the shared lock.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PairStatus } from '../../src-main/contract/index.js';
import { waitFor } from '../helpers/lab-cli.js';
import { testVmLab } from '../helpers/test-vm-lab.js';

const L = testVmLab('uv', '198.18.74');
const cli = L.cli;
const MAC = '52:54:00:75:76:01';
let imageSum = '';
const redis = (...args: string[]) => L.t.client.redis(...args);

const sha256 = (f: string) => spawnSync('sha256sum', [f], { encoding: 'utf8' }).stdout.split(/\s+/)[0]!;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await L.up();
  imageSum = sha256(L.t.build.path);
}, 40 * 60_000);

afterAll(() => L.down(), 180_000);

describe('your own VM in lockstep: protected from its disk image on the namespace lab', () => {
  it('refuses a hostile path, an image on host B and missing RAM before anything runs', () => {
    for (const disk of ['hostA:/tmp/a b.qcow2', 'hostA:/x/../etc/shadow', 'hostA:/a,file=/etc/passwd']) {
      const r = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', disk, '--memory', '256', '--cpus', '1']);
      expect(r.ok, disk).toBe(false);
    }
    const onB = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', `hostB:${L.t.build.path}`, '--memory', '256', '--cpus', '1']);
    expect(onB.error?.code).toBe('bad-arguments');
    const noRam = cli.json(['lockstep', 'protect', 'hostA', 'hostB', '--disk', `hostA:${L.t.build.path}`, '--cpus', '1']);
    expect(noRam.error?.code).toBe('bad-arguments');
    expect(cli.json<PairStatus>(['lockstep', 'status']).value).toMatchObject({ state: 'unprotected' });
  });

  it('protects it: both sides boot from their own disk, lockstep with checkpoints, the image unchanged, Redis answers', async () => {
    const mtime = statSync(L.t.build.path).mtimeMs;
    const t0 = performance.now();
    const p = cli.json<PairStatus>(L.protectArgs(MAC));
    const protectSeconds = (performance.now() - t0) / 1000;
    expect(p.error).toBeUndefined();
    expect(p.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostA', colo: 'primary' }, secondary: { name: 'hostB', colo: 'secondary' } });
    // booted from the disk: QEMU's command line has no -kernel, and the guest's own kernel speaks on ttyS0
    for (const [s, role] of [
      [L.t.hostA, 'primary'],
      [L.t.hostB, 'secondary'],
    ] as const) {
      const pid = (await s.check(['cat', `/run/lockstep/vm/${role}.pid`])).trim();
      const cmdline = (await s.check(['cat', `/proc/${pid}/cmdline`])).split('\0');
      expect(cmdline).not.toContain('-kernel');
      expect(cmdline.join(' ')).toContain('/var/lib/lockstep/guest/user-disk.img');
      expect(cmdline.join(' ')).toContain('262152k');
    }
    expect(await L.t.hostA.check(['cat', '/run/lockstep/vm/primary-serial.log'])).toMatch(/Linux version 6\.\d+/);
    await waitFor(() => (redis('PING').out === 'PONG' ? true : undefined), 120_000, 'Redis to answer PING through the pair', 500);
    // the user's file is never written: the pair runs a raw copy
    expect(statSync(L.t.build.path).mtimeMs).toBe(mtime);
    expect(sha256(L.t.build.path)).toBe(imageSum);
    await sleep(8000);
    const st = cli.ok<PairStatus>(['lockstep', 'status']);
    expect(st.state).toBe('lockstep');
    if (st.state !== 'lockstep' || p.value.state !== 'lockstep') return;
    expect(st.checkpoints).toBeGreaterThan(p.value.checkpoints);
    expect(st.checkpointPauseMsP50).not.toBeNull();
    const serialB = await L.t.hostB.check(['cat', '/run/lockstep/vm/secondary-serial.log']);
    expect(serialB, "the secondary's guest stays healthy under checkpoints").not.toMatch(/Kernel panic|Oops|BUG:|general protection fault|list_add corruption/);
    console.log(
      `protect_user_vm_seconds: ${protectSeconds.toFixed(1)} (2 GiB qcow2 → raw, copied host to host, boot to Redis inside COLO); checkpoints/s ${st.checkpointsPerSecond.toFixed(2)}, checkpoint pause p50 ${st.checkpointPauseMsP50} ms`,
    );
  }, 900_000);

  it('kill -9 of the primary QEMU: hostB’s agent fails over, no acknowledged Redis write is lost', async () => {
    const marker = `m-${Date.now()}`;
    expect(redis('SET', 'uv:marker', marker).out).toBe('OK');
    cli.ok(['agent', 'deploy']);
    const writes = L.t.client.startWriter(25, 'uv:k');
    await sleep(8000);
    const pid = (await L.t.hostA.check(['cat', '/run/lockstep/vm/primary.pid'])).trim();
    const killedAt = Date.now();
    await L.t.hostA.check(['kill', '-9', pid]);
    const got = await writes;
    const st = await waitFor(
      () => {
        const s = cli.ok<PairStatus>(['lockstep', 'status']);
        return s.state === 'failed-over' ? s : undefined;
      },
      60_000,
      'lockstep status to say failed-over',
      1000,
    );
    expect(st).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    const acked = got.filter((w) => w.ok);
    const after = acked.filter((w) => w.t > killedAt);
    expect(acked.length).toBeGreaterThan(20);
    expect(after.length, 'the survivor acknowledges writes after the kill').toBeGreaterThan(5);
    // every acknowledged write is on the survivor
    const lost = L.t.client.lostWrites(got, 'uv:k');
    expect(redis('GET', 'uv:marker').out).toBe(marker);
    const gap = L.t.client.longestGap(got);
    const firstAfter = after[0] ? after[0].t - killedAt : null;
    console.log(
      `user_vm_kill_primary: ${acked.length} acknowledged writes (${got.length - acked.length} failed attempts), lost ${lost.length}; longest gap between acknowledged writes ${gap} ms; first acknowledged write ${firstAfter} ms after the kill`,
    );
    expect(lost).toEqual([]);
  }, 300_000);
});
