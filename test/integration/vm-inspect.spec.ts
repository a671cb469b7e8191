/**
 * `lockstep vm list` / `vm inspect` against a lab host over real SSH: a real qcow2 (on a raw backing
 * file) made with qemu-img on hostA, a host where libvirt's daemon does not run (the clear error with
 * its fix), libvirt's own test driver (test:///default: virsh with no daemon) for the virsh path, and
 * hostile input refused before anything runs. Needs root (the namespace lab); run under the shared lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorDTO, LabStatus, VmInspection, VmListing } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { cli } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

const { env, home } = labEnv('vx', '198.18.88');
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;
const images = `${home.path}/images`;

function run<T>(args: string[]): { ok: true; value: T } | { ok: false; error: ErrorDTO } {
  const r = cli([...args, '--json'], env);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`not JSON: ${r.stdout} ${r.stderr}`);
  }
}

beforeAll(async () => {
  cli(['lab', 'down'], env);
  const r = run<LabStatus>(['lab', 'up']);
  if (!r.ok || r.value.state !== 'up') throw new Error(`lab up failed: ${JSON.stringify(r)}`);
  lab = r.value;
  const added = run(['hosts', 'add-lab']);
  if (!added.ok) throw new Error(JSON.stringify(added));
  // the images are made ON hostA, over SSH, with the host's own qemu-img
  const a = lab.hosts[0]!;
  const s = await SshSession.connect({ address: a.address, port: a.port, user: lab.user, keyFile: lab.keyFile, fingerprint: a.fingerprint });
  try {
    await s.check(['mkdir', '-p', images]);
    await s.check(['qemu-img', 'create', '-q', '-f', 'raw', `${images}/base.raw`, '256M']);
    await s.check(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', `${images}/base.raw`, '-F', 'raw', `${images}/guest.qcow2`]);
    await s.check(['qemu-img', 'create', '-q', '-f', 'qcow2', `${images}/flat.qcow2`, '1G']);
  } finally {
    s.dispose();
  }
}, 300_000);

afterAll(() => {
  cli(['lab', 'down'], env);
  home.remove();
}, 120_000);

describe('vm inspect --disk: a real qcow2 on a lab host, over SSH', () => {
  it('reads format, size and backing chain with qemu-img, and says what COLO can carry', () => {
    const r = run<VmInspection>(['vm', 'inspect', 'hostA', '--disk', `${images}/guest.qcow2`, '--memory', '512', '--cpus', '1', '--mac', '52:54:00:12:34:99']);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    const { vm, findings, hosts, verdict } = r.value;
    expect(vm).toMatchObject({ from: 'image', name: 'guest', memoryKiB: 524288, vcpus: 1, boot: { firmware: 'bios' } });
    expect(vm.disks[0]).toMatchObject({
      path: `${images}/guest.qcow2`,
      format: 'qcow2',
      sourceType: 'file',
      virtualSizeBytes: 256 * 1024 * 1024,
      backingChain: [{ path: `${images}/base.raw`, format: 'raw' }],
    });
    expect(vm.nics[0]!.mac).toBe('52:54:00:12:34:99');
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ host: 'hostA', qemuVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(hosts[0]!.machines).toContain('pc=' + hosts[0]!.machines.find((m) => m.startsWith('pc='))!.slice(3));
    const ids = findings.map((f) => `${f.severity}:${f.id}`);
    expect(ids).toEqual(expect.arrayContaining(['warn:disk-convert', 'warn:disk-backing-chain', 'warn:memory-peer-unchecked']));
    // the lab has no /dev/kvm: 512 MiB is a 256 KiB multiple, so the TCG trap is named with its 8 KiB
    if (hosts[0]!.accel === 'tcg') expect(ids).toContain('warn:tcg-ram-multiple');
    expect(verdict.tier).toBe('lockstep');
  });

  it('with --peer, the other host is checked too (QEMU, machine types, memory for the secondary)', () => {
    const r = run<VmInspection>([
      'vm',
      'inspect',
      'hostA',
      '--peer',
      'hostB',
      '--disk',
      `${images}/flat.qcow2`,
      '--memory',
      '300',
      '--cpus',
      '2',
      '--boot',
      'uefi',
    ]);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.hosts.map((h) => h.host)).toEqual(['hostA', 'hostB']);
    expect(r.value.vm.disks[0]).toMatchObject({ format: 'qcow2', virtualSizeBytes: 1024 ** 3, backingChain: [] });
    const ids = r.value.findings.map((f) => f.id);
    expect(ids).not.toContain('qemu-differs');
    expect(ids).not.toContain('memory-peer-unchecked');
    // UEFI: refused exactly when a host lacks OVMF
    expect(ids.includes('uefi-ovmf')).toBe(r.value.hosts.some((h) => !h.ovmf));
  });

  it('the human output shows the model, each finding with its fix, and the verdict', () => {
    const r = cli(['vm', 'inspect', 'hostA', '--disk', `${images}/guest.qcow2`, '--memory', '512', '--cpus', '1'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`disk vda: ${images}/guest.qcow2 [file, qcow2, virtio] size 256 MiB`);
    expect(r.stdout).toMatch(/fix: /);
    expect(r.stdout).toMatch(/Verdict: LOCKSTEP/);
  });

  it('a disk that is not there: a clear error with the fix', () => {
    const r = run<VmInspection>(['vm', 'inspect', 'hostA', '--disk', `${images}/nope.qcow2`, '--memory', '512', '--cpus', '1']);
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'vm-disk-missing', host: expect.stringContaining(lab.hosts[0]!.address), fix: expect.stringContaining('ls -l') },
    });
  });

  it('hostile names and paths are refused before anything runs', () => {
    for (const args of [
      ['--disk', '/tmp/x;reboot', '--memory', '512', '--cpus', '1'],
      ['--disk', '/tmp/$(id).qcow2', '--memory', '512', '--cpus', '1'],
      ['--disk', `${images}/../../etc/shadow`, '--memory', '512', '--cpus', '1'],
      ['--disk', 'guest.qcow2', '--memory', '512', '--cpus', '1'],
      ['--domain', '--help=x'],
      ['--domain', 'a b'],
      ['--domain', "x'; reboot"],
      ['--disk', `${images}/guest.qcow2`, '--memory', '512', '--cpus', '1', '--mac', '52:54:00:12:34'],
    ]) {
      const r = run<VmInspection>(['vm', 'inspect', 'hostA', ...args]);
      expect(r.ok, args.join(' ')).toBe(false);
      if (!r.ok) {
        expect(['bad-request', 'bad-arguments'], args.join(' ')).toContain(r.error.code);
        expect(r.error.fix, args.join(' ')).toBeTruthy();
      }
    }
    const both = run<VmInspection>(['vm', 'inspect', 'hostA', '--domain', 'web', '--disk', `${images}/guest.qcow2`]);
    expect(both).toMatchObject({ ok: false, error: { code: 'bad-arguments', fix: expect.stringContaining('lockstep vm inspect hostA --domain NAME') } });
  });
});

describe('vm list and vm inspect --domain: libvirt over SSH', () => {
  it('a host where libvirt does not run gives the clear error with the fix', () => {
    const r = run<VmListing>(['vm', 'list', 'hostA']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('libvirt-not-running');
    expect(r.error.message).toBe('libvirt is not running on hostA: virsh could not connect to qemu:///system.');
    expect(r.error.fix).toContain('systemctl enable --now libvirtd');
    expect(r.error.fix).toContain('lockstep vm inspect hostA --disk PATH');
    const human = cli(['vm', 'list', 'hostA'], env);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('error: libvirt is not running on hostA');
    const inspect = run<VmInspection>(['vm', 'inspect', 'hostA', '--domain', 'web']);
    expect(inspect).toMatchObject({ ok: false, error: { code: 'libvirt-not-running' } });
  });

  it("virsh itself against libvirt's test driver (no daemon): list, dumpxml → the model, an unknown domain", () => {
    const l = run<VmListing>(['vm', 'list', 'hostA', '--connect', 'test:///default']);
    expect(l).toEqual({ ok: true, value: { host: 'hostA', connect: 'test:///default', domains: [{ name: 'test', state: 'running' }] } });
    const r = run<VmInspection>(['vm', 'inspect', 'hostA', '--domain', 'test', '--connect', 'test:///default']);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.vm).toMatchObject({ from: 'libvirt', name: 'test', hypervisor: 'test', memoryKiB: 8 * 1024 * 1024 });
    expect(r.value.vm.disks[0]).toMatchObject({ path: '/guest/diskimage1', target: 'vda' });
    expect(r.value.vm.nics[0]).toMatchObject({ mac: 'aa:bb:cc:dd:ee:ff', type: 'network', source: 'default' });
    expect(r.value.findings.map((f) => f.id)).toContain('nic-libvirt-network');
    const missing = run<VmInspection>(['vm', 'inspect', 'hostA', '--domain', 'nosuchvm', '--connect', 'test:///default']);
    expect(missing).toMatchObject({ ok: false, error: { code: 'vm-domain-unknown', fix: 'lockstep vm list hostA   (shows the domains there)' } });
  });
});
