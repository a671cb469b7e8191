import { describe, expect, it } from 'vitest';
import type { Vm, VmInspection } from '../../src-main/contract/index.js';
import { checkConnection, domainPlan, findingRows, imageRequest } from '../../src-renderer/lib/vm-choice.js';

const disk = (path: string | null, device: 'disk' | 'cdrom' = 'disk') => ({
  target: 'vda',
  device,
  sourceType: 'file' as const,
  path,
  format: 'qcow2',
  bus: 'virtio',
  virtualSizeBytes: null,
  actualSizeBytes: null,
  backingChain: [],
  internalSnapshots: 0,
  readonly: false,
  shareable: false,
});
const vm = (over: Partial<Vm> = {}): Vm => ({
  from: 'libvirt',
  name: 'web1',
  uuid: null,
  hypervisor: 'kvm',
  memoryKiB: 524_296,
  vcpus: 1,
  cpuMode: null,
  machine: { raw: 'pc-i440fx-7.2', family: 'i440fx', version: '7.2', arch: 'x86_64' },
  boot: { firmware: 'bios', loader: null, nvram: null, secureBoot: false, kernel: null },
  disks: [disk('/var/lib/libvirt/images/web1.qcow2'), disk(null, 'cdrom')],
  nics: [{ mac: '52:54:00:aa:bb:cc', model: 'virtio', type: 'bridge', source: 'br0', vhost: 'none' }],
  graphics: [],
  video: [],
  hostdevs: [],
  other: [],
  snapshots: [],
  ...over,
});
const ins = (v: Vm, findings: VmInspection['findings'] = []): VmInspection => ({
  vm: v,
  hosts: [],
  findings,
  verdict: { tier: findings.some((f) => f.severity === 'refuse') ? 'none' : 'lockstep', why: 'w' },
});

describe('the Protect page’s choice of VM (pure)', () => {
  it('a shut-off BIOS domain with one disk: protected from that disk with its RAM (whole MiB, rounded up), vCPUs and MAC; a CD-ROM is not a disk', () => {
    const p = domainPlan(ins(vm()), 'shut off', 'hostA');
    expect(p).toMatchObject({ ok: true, request: { disk: 'hostA:/var/lib/libvirt/images/web1.qcow2', memory: 513, cpus: 1, mac: '52:54:00:aa:bb:cc' } });
  });

  it('is refused, with the reason, for a running domain, UEFI, two disks, a path QEMU cannot carry, or a refusing finding', () => {
    const why = (v: Vm, state = 'shut off', f: VmInspection['findings'] = []) => {
      const p = domainPlan(ins(v, f), state, 'hostA');
      return p.ok ? 'offered' : p.why;
    };
    expect(why(vm(), 'running')).toMatch(/^web1 is running: shut it down first \(virsh shutdown web1\)/);
    expect(why(vm({ boot: { firmware: 'uefi', loader: null, nvram: null, secureBoot: false, kernel: null } }))).toMatch(/UEFI.*SeaBIOS/);
    expect(why(vm({ disks: [disk('/a.qcow2'), disk('/b.qcow2')] }))).toBe('web1 has 2 disks: protect takes one disk image.');
    expect(why(vm({ disks: [disk('/var/lib/my images/web1.qcow2')] }))).toMatch(/symlink/);
    expect(why(vm(), 'shut off', [{ id: 'hostdev', severity: 'refuse', text: 'PCI passthrough 0000:03:00.0.', fix: 'virsh detach-device' }])).toBe(
      'Lockstep cannot carry web1 as it is: PCI passthrough 0000:03:00.0.',
    );
  });

  it('the image form names the disk with host A and refuses what the app would refuse, saying how to write it', () => {
    const f = { path: '/srv/web1.qcow2', memory: '512', cpus: '2', mac: '', port: '' };
    expect(imageRequest(f, 'hostA')).toEqual({ ok: true, value: { disk: 'hostA:/srv/web1.qcow2', memory: 512, cpus: 2 } });
    expect(imageRequest({ ...f, path: 'srv/x' }, 'hostA')).toMatchObject({ ok: false, why: expect.stringMatching(/absolute/) });
    expect(imageRequest({ ...f, path: '/srv/../etc/shadow' }, 'hostA')).toMatchObject({ ok: false });
    expect(imageRequest({ ...f, memory: '32' }, 'hostA')).toMatchObject({ ok: false, why: expect.stringMatching(/^Memory/) });
    expect(imageRequest({ ...f, cpus: '1.5' }, 'hostA')).toMatchObject({ ok: false, why: expect.stringMatching(/^vCPUs/) });
    expect(imageRequest({ ...f, port: '70000' }, 'hostA')).toMatchObject({ ok: false, why: expect.stringMatching(/^Port/) });
    expect(checkConnection(' test:///default ')).toEqual({ ok: true, value: 'test:///default' });
    expect(checkConnection('qemu+ssh://h/system')).toMatchObject({ ok: false, why: expect.stringMatching(/qemu:\/\/\/system/) });
  });

  it('findings: a refusal shows as a failure, saying when the mirror tier could still carry the VM', () => {
    const rows = findingRows([
      { id: 'spice', severity: 'refuse', text: 'SPICE.', fix: 'use VNC', mirror: true },
      { id: 'net', severity: 'warn', text: 'network.', fix: 'bridge' },
    ]);
    expect(rows.map((r) => [r.level, r.why !== ''])).toEqual([
      ['fail', true],
      ['warn', false],
    ]);
  });
});
