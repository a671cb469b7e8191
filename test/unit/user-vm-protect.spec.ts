/**
 * Protecting the user's own VM from a disk image (issue 21): the arguments refused before anything
 * runs (hostile paths, the image on the wrong host, missing RAM/vCPUs, demo-guest runs given VM
 * options), the RAM QEMU gets under TCG, the refusals of an inspection, and the QEMU command lines
 * of both sides booting from their own disk (no direct kernel boot).
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { commands, validateRequest } from '../../src-main/contract/index.js';
import type { VmInspection } from '../../src-main/contract/vm.js';
import { primaryArgs, secondaryArgs } from '../../src-main/lockstep/colo-args.js';
import { spec } from '../../src-main/lockstep/colo-steps.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';
import { pairRecordSchema } from '../../src-main/lockstep/pair-record.js';
import { servicePeek, tcpAnswers } from '../../src-main/lockstep/tcp-peek.js';
import { refusalOf, USER_DISK, USER_VM_MAC, userVmMemory, userVmOf } from '../../src-main/lockstep/user-vm.js';

const isA = (ref: string) => ref === 'hostA' || ref === '198.18.74.11:22';
const req = (o: Record<string, unknown>) => ({ a: 'hostA', b: 'hostB', ...o });

describe('protect --disk: the arguments', () => {
  it('no --disk: the demo guest', () => {
    expect(userVmOf(req({}), isA)).toBeNull();
  });
  it('VM options without --disk are refused with the command that names the image', () => {
    expect(() => userVmOf(req({ memory: 512 }), isA)).toThrow(
      expect.objectContaining({ code: 'bad-arguments', fix: expect.stringContaining('--disk hostA:/') }),
    );
  });
  it('takes HOST:/PATH on host A with RAM, vCPUs, MAC and port', () => {
    expect(userVmOf(req({ disk: 'hostA:/var/lib/images/web1.qcow2', memory: 512, cpus: 2, mac: '52:54:00:AA:bb:01', port: 6379 }), isA)).toEqual({
      kind: 'image',
      sourceHost: 'hostA',
      source: '/var/lib/images/web1.qcow2',
      memoryMiB: 512,
      cpus: 2,
      mac: '52:54:00:aa:bb:01',
      port: 6379,
    });
    expect(userVmOf(req({ disk: '198.18.74.11:22:/img.raw', memory: 256, cpus: 1 }), isA)).toMatchObject({
      sourceHost: '198.18.74.11:22',
      source: '/img.raw',
      mac: USER_VM_MAC,
    });
  });
  it.each([
    'hostA:/var/lib/images/../../etc/shadow',
    'hostA:relative.qcow2',
    'hostA:/a b.qcow2',
    'hostA:/a,file=/etc/passwd',
    'hostA:/x;rm -rf /',
    'hostA:/$(reboot)',
    "hostA:/it's.qcow2",
    '-oProxyCommand=x:/a.qcow2',
    '/no/host.qcow2',
  ])('refuses the hostile or malformed disk %j before anything runs', (disk) => {
    expect(() => userVmOf(req({ disk, memory: 512, cpus: 1 }), isA)).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/vm-path-refused|bad-arguments/) }),
    );
    expect(validateRequest('lockstep.protect', req({ disk, memory: 512, cpus: 1 })).ok).toBe(false);
  });
  it('the image must be on host A', () => {
    expect(() => userVmOf(req({ disk: 'hostB:/img.qcow2', memory: 512, cpus: 1 }), isA)).toThrow(
      expect.objectContaining({ code: 'bad-arguments', message: expect.stringContaining('host A') }),
    );
  });
  it('RAM and vCPUs are required with --disk; a multicast MAC is refused', () => {
    expect(() => userVmOf(req({ disk: 'hostA:/img.qcow2', cpus: 1 }), isA)).toThrow(expect.objectContaining({ code: 'bad-arguments' }));
    expect(() => userVmOf(req({ disk: 'hostA:/img.qcow2', memory: 512 }), isA)).toThrow(expect.objectContaining({ code: 'bad-arguments' }));
    expect(() => userVmOf(req({ disk: 'hostA:/img.qcow2', memory: 512, cpus: 1, mac: '01:00:5e:00:00:01' }), isA)).toThrow(
      expect.objectContaining({ code: 'vm-mac-refused' }),
    );
  });
  it('the contract takes the same input at every door and refuses wrong types and unknown keys', () => {
    expect(validateRequest('lockstep.protect', req({ disk: 'hostA:/img.qcow2', memory: 512, cpus: 1, port: 6379 })).ok).toBe(true);
    expect(validateRequest('lockstep.protect', req({ disk: 'hostA:/img.qcow2', memory: '512', cpus: 1 })).ok).toBe(false);
    expect(validateRequest('lockstep.protect', req({ disk: 'hostA:/img.qcow2', memory: 512, cpus: 1, shell: 'x' })).ok).toBe(false);
    expect(validateRequest('lockstep.protect', req({ disk: 'hostA:/img.qcow2', memory: 512, cpus: 1, mac: '03:00:00:00:00:01' })).ok).toBe(false);
    expect(commands['lockstep.protect'].summary).toContain('--disk');
  });
});

describe('protect --disk: what QEMU gets', () => {
  it('under TCG the RAM is 8 KiB off a 256 KiB multiple (QEMU 7.2 dirty tracking); KVM gets it exact', () => {
    expect(userVmMemory(512, 'tcg')).toBe('524296k');
    expect((524296 % 256) * 1).not.toBe(0);
    expect(userVmMemory(512, 'kvm')).toBe('512M');
  });

  const rec: PairRecord = {
    state: 'starting',
    primary: 'a:22',
    secondary: 'b:22',
    accel: 'tcg',
    qemuMajor: 7,
    xa: '10.99.0.1',
    xb: '10.99.0.2',
    guestAddress: '198.18.74.50',
    guestCidr: '198.18.74.50/24',
    since: 0,
    diskSync: 'full-copy',
    vm: { kind: 'image', sourceHost: 'hostA', source: '/img.qcow2', memoryMiB: 256, cpus: 2, mac: '52:54:00:74:76:01', port: 6379 },
  };

  it('both sides boot from their own raw base through SeaBIOS: no -kernel, bootindex on the disk, the NIC without option ROM or vnet_hdr', () => {
    expect(pairRecordSchema.parse(rec)).toEqual(rec);
    for (const args of [primaryArgs(spec(rec, 'primary')), secondaryArgs({ ...spec(rec, 'secondary'), active: '/a', hidden: '/h' })]) {
      const line = args.join(' ');
      expect(args).not.toContain('-kernel');
      expect(args).not.toContain('-append');
      expect(line).toContain('virtio-blk-pci,drive=colo-disk0,bootindex=1');
      expect(line).toContain(USER_DISK);
      expect(line).not.toContain('/img.qcow2');
      expect(line).toContain('mac=52:54:00:74:76:01,romfile=');
      expect(line).toContain('vhost=off,vnet_hdr=off');
      expect(args[args.indexOf('-m') + 1]).toBe('262152k');
      expect(args[args.indexOf('-smp') + 1]).toBe('2');
    }
  });
  it('without a VM the demo guest is unchanged: direct kernel boot, its own disk and memory', () => {
    const { vm: _vm, ...demo } = rec;
    const args = primaryArgs(spec(demo as PairRecord, 'primary'));
    expect(args).toContain('-kernel');
    expect(args[args.indexOf('-m') + 1]).toBe('131080k');
    expect(args.join(' ')).toContain('/var/lib/lockstep/guest/disk.img');
    expect(args.join(' ')).not.toContain('bootindex');
  });
});

describe('protect --disk: what the inspection refuses', () => {
  const ins = (findings: VmInspection['findings'], tier: 'lockstep' | 'mirror' | 'none' = 'lockstep'): VmInspection =>
    ({ vm: {} as VmInspection['vm'], hosts: [], findings, verdict: { tier, why: 'because' } }) as VmInspection;
  it('nothing refused: go on (warnings are said by vm inspect, not refused)', () => {
    expect(refusalOf(ins([{ id: 'qcow2', severity: 'warn', text: 'flattened', fix: 'none' }]), '/img.qcow2')).toBeNull();
  });
  it('a refusal stops protect with its text and its fix', () => {
    const e = refusalOf(
      ins([{ id: 'backing', severity: 'refuse', text: 'The image has a backing chain.', fix: 'qemu-img convert -O qcow2 IN OUT' }], 'mirror'),
      '/img.qcow2',
    );
    expect(e).toMatchObject({ code: 'vm-not-carried', message: expect.stringContaining('backing chain'), fix: 'qemu-img convert -O qcow2 IN OUT' });
  });
});

describe("protect --disk: the serving check's peek at a user VM's port", () => {
  it('the demo guest keeps its counter peek; a user VM without --port is not watched; with it, a TCP connect that answers or fails', async () => {
    expect(servicePeek('127.0.0.1', undefined)).toBeUndefined();
    expect(servicePeek('127.0.0.1', {})).toBe('unnamed');
    const server = createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const peek = servicePeek('127.0.0.1', { port });
      if (typeof peek !== 'function') throw new Error('expected a peek');
      await expect(peek(1000)).resolves.toBeUndefined();
    } finally {
      await new Promise((r) => server.close(r));
    }
    await expect(tcpAnswers('127.0.0.1', port, 1000)).rejects.toThrow();
  });
});
