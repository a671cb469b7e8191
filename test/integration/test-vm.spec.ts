/**
 * The test VM of issue 21 (a VM the app did not make) on a namespace-lab host: built from Debian's
 * packages (or taken from the cache), delivered as qcow2 on hostA, booted by QEMU from its own disk
 * (SeaBIOS → syslinux → Debian's kernel, systemd) with its NIC on a tap in hostA's br0, as the demo
 * guest's is. A client in the lab's client namespace writes to Redis, QEMU is killed (-9) and started
 * again, and what was acknowledged is read back: the service keeps its state on the VM's disk.
 * Prints the build's and the boots' seconds. Needs root; heavy: run it under the shared lock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, VmInspection } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { labEnv } from '../helpers/lab-env.js';
import { labCli, waitFor } from '../helpers/lab-cli.js';
import { buildTestVm, runFiles, TEST_VM_PORT, testVmQemuArgs, type TestVmBuild } from '../helpers/test-vm/test-vm.js';

const { env, home } = labEnv('tv', '198.18.97');
const cli = labCli(env);
const GUEST = '198.18.97.50';
const TAP = 'tvm0';
const images = `${home.path}/images`;
const run = `${images}/run`;
const files = runFiles(run);
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;
let build: TestVmBuild;
let hostA: SshSession;

/** redis-cli in the lab's client namespace: an ordinary client of the guest's service. */
function redis(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', lab.clientNetns, 'timeout', '3', 'redis-cli', '-h', GUEST, '-p', String(TEST_VM_PORT), ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim() };
}

function qemuPid(): number | null {
  if (!existsSync(files.pid)) return null;
  const pid = Number(readFileSync(files.pid, 'utf8').trim());
  return pid > 0 && existsSync(`/proc/${pid}`) ? pid : null;
}

/** Starts the VM on hostA over SSH; resolves with the seconds until Redis answered PING from the client namespace. */
async function bootToService(): Promise<number> {
  const args = testVmQemuArgs({ disk: build.path, run, tap: TAP, mac: '52:54:00:74:76:01', memoryKiB: 262152, accel: lab.accel });
  const t0 = performance.now();
  await hostA.check(['qemu-system-x86_64', ...args], { timeoutMs: 30_000 });
  const serialTail = () => (existsSync(files.serialLog) ? readFileSync(files.serialLog, 'utf8').slice(-3000) : '(no serial log)');
  try {
    return await waitFor(
      () => {
        if (redis('PING').out === 'PONG') return (performance.now() - t0) / 1000;
        if (qemuPid() === null) throw new Error('QEMU exited during boot');
        return undefined;
      },
      240_000,
      'Redis to answer PING from the client namespace',
      250,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; serial log:\n${serialTail()}`);
  }
}

async function killHard(): Promise<void> {
  const pid = qemuPid();
  if (pid === null) return;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => (existsSync(`/proc/${pid}`) ? undefined : true), 10_000, `QEMU ${pid} gone after SIGKILL`);
}

beforeAll(async () => {
  mkdirSync(run, { recursive: true });
  build = buildTestVm(`${images}/testvm.qcow2`, { address: GUEST, prefixLen: 24 });
  console.log(`test_vm_build_seconds: ${build.seconds.toFixed(1)} (${build.cached ? 'cached' : 'cold'})`);
  cli.json(['lab', 'down']);
  lab = cli.ok<Up>(['lab', 'up']);
  cli.ok(['hosts', 'add-lab']);
  const a = lab.hosts[0]!;
  hostA = await SshSession.connect({ address: a.address, port: a.port, user: lab.user, keyFile: lab.keyFile, fingerprint: a.fingerprint });
  // the VM's NIC: a tap in hostA's br0, as the demo guest's
  if ((await hostA.exec(['ip', 'link', 'show', 'dev', TAP])).code !== 0) await hostA.check(['ip', 'tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
  await hostA.check(['ip', 'link', 'set', TAP, 'master', 'br0', 'up']);
}, 40 * 60_000);

afterAll(async () => {
  const pid = qemuPid();
  if (pid !== null) process.kill(pid, 'SIGKILL');
  hostA?.dispose();
  cli.json(['lab', 'down']);
  home.remove();
}, 120_000);

describe('the test VM: a Debian 12 VM the app did not make', () => {
  it('is a qcow2 of ≥ 1 GiB on hostA with no backing chain, and a second build comes from the cache in seconds', () => {
    const r = cli.json<VmInspection>(['vm', 'inspect', 'hostA', '--disk', build.path, '--memory', '256', '--cpus', '1', '--mac', '52:54:00:74:76:01']);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.vm.disks[0]).toMatchObject({ path: build.path, format: 'qcow2', backingChain: [] });
    expect(r.value.vm.disks[0]!.virtualSizeBytes).toBeGreaterThanOrEqual(1024 ** 3);
    const again = buildTestVm(`${images}/again.qcow2`, { address: GUEST, prefixLen: 24 });
    console.log(`test_vm_build_seconds: ${again.seconds.toFixed(1)} (cached)`);
    expect(again.cached).toBe(true);
    expect(again.seconds).toBeLessThan(30);
    spawnSync('rm', ['-f', again.path]);
  }, 120_000);

  it('boots from its own disk under QEMU, Redis answers a client; after kill -9 and a new boot the acknowledged writes are there', async () => {
    const first = await bootToService();
    const serial = readFileSync(files.serialLog, 'utf8');
    expect(serial, 'the kernel logs to ttyS0').toMatch(/Linux version 6\.\d+/);
    expect(serial, 'systemd runs the box').toMatch(/systemd/);
    expect(redis('CONFIG', 'GET', 'appendonly').out.split('\n')).toEqual(['appendonly', 'yes']);
    expect(redis('CONFIG', 'GET', 'appendfsync').out.split('\n')).toEqual(['appendfsync', 'always']);
    const marker = `m-${Date.now()}`;
    expect(redis('SET', 'lsv:marker', marker).out).toBe('OK');
    let last = '';
    for (let i = 0; i < 20; i++) last = redis('INCR', 'lsv:count').out;
    expect(last).toBe('20');

    await killHard();
    expect(redis('PING').ok && redis('PING').out === 'PONG', 'nothing answers with QEMU killed').toBe(false);
    const second = await bootToService();
    expect(redis('GET', 'lsv:marker').out).toBe(marker);
    expect(redis('GET', 'lsv:count').out).toBe('20');
    console.log(
      `test_vm_boot_to_service_seconds: ${first.toFixed(1)} (first boot) / ${second.toFixed(1)} (after kill -9), ${lab.accel.toUpperCase()}, 256 MiB + 8 KiB`,
    );
    await killHard();
  }, 600_000);
});
