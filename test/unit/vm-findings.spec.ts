import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Vm, VmHostFacts } from '../../src-main/contract/index.js';
import { parseDomainXml } from '../../src-main/vm/domain-xml.js';
import { secondaryNeedKiB, vmFindings, vmVerdict } from '../../src-main/vm/findings.js';
import { parseMachines, parseProbe, parseVirshList, PROBE_SCRIPT } from '../../src-main/vm/host-probe.js';
import { imageVm, parseImageInfo } from '../../src-main/vm/image-info.js';
import { checkDiskPath, checkDomainName, checkMac, inspectTarget } from '../../src-main/vm/inputs.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const domain = (name: string) => parseDomainXml(readFileSync(join(fixtures, 'libvirt', `${name}.xml`), 'utf8'));
const GiB = 1024 * 1024; // in KiB
const host = (name: string, o: Partial<VmHostFacts> = {}): VmHostFacts => ({
  host: name,
  qemuVersion: '7.2.22',
  machines: ['pc=pc-i440fx-7.2', 'pc-i440fx-7.2', 'pc-i440fx-7.1', 'q35=pc-q35-7.2', 'pc-q35-7.2', 'pc-q35-7.1'],
  memAvailableKiB: 16 * GiB,
  ovmf: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  accel: 'kvm',
  ...o,
});
const pair = [host('hostA'), host('hostB')];
const ids = (vm: Vm, hosts = pair) => vmFindings(vm, hosts).map((f) => `${f.severity}:${f.id}`);

describe('what COLO can carry, per real fixture', () => {
  it('the plain BIOS virtio VM: lockstep, with the vhost and qcow2 notes', () => {
    const f = vmFindings(domain('deb12-i440fx-bios-virtio'), pair);
    expect(f.map((x) => `${x.severity}:${x.id}`)).toEqual(['warn:nic-vhost-off', 'warn:disk-convert']);
    expect(f[0]!.text).toContain('vnet_hdr_support');
    expect(vmVerdict(f).tier).toBe('lockstep');
  });
  it('SPICE + qxl is refused with the fix (VNC, virtio video, no redirdev); the mirror tier can carry it', () => {
    const f = vmFindings(domain('desk-i440fx-spice-qxl'), pair);
    const spice = f.find((x) => x.id === 'spice')!;
    expect(spice).toMatchObject({ severity: 'refuse', mirror: true });
    expect(spice.text).toMatch(/crash/);
    expect(spice.fix).toBe(
      "`virsh edit desk-i440fx-spice-qxl`: replace <graphics type='spice' …> with <graphics type='vnc'/> and remove the <channel type='spicevmc'> elements.",
    );
    expect(f.find((x) => x.id === 'qxl')).toMatchObject({ severity: 'refuse', fix: expect.stringContaining("<model type='virtio'/>") });
    expect(f.find((x) => x.id === 'usb-redirect')).toMatchObject({ severity: 'refuse', fix: expect.stringContaining('<redirdev') });
    expect(vmVerdict(f)).toMatchObject({ tier: 'mirror', why: expect.stringContaining('mirror tier') });
  });
  it('a PCI hostdev is refused, naming the device and the element to delete', () => {
    const f = vmFindings(domain('rhel9-q35-bios-hostdev'), pair).find((x) => x.id === 'passthrough-pci')!;
    expect(f.text).toContain('PCI 0000:03:00.0');
    expect(f.fix).toContain('virsh edit rhel9-q35-bios-hostdev');
    expect(f.fix).toContain('<hostdev>');
  });
  it('UEFI: OVMF missing on a host is refused for that host; the NVRAM goes with the VM (libvirt’s default place when unnamed)', () => {
    const vm = domain('winsrv-q35-uefi-e1000');
    const f = vmFindings(vm, [host('hostA'), host('hostB', { ovmf: null })]);
    expect(f.filter((x) => x.id === 'uefi-ovmf')).toEqual([
      expect.objectContaining({ severity: 'refuse', text: expect.stringContaining('hostB'), fix: expect.stringContaining('apt-get install ovmf') }),
    ]);
    expect(f.find((x) => x.id === 'uefi-nvram')!.text).toContain('/var/lib/libvirt/qemu/nvram/winsrv-q35-uefi-e1000_VARS.fd');
    expect(vmVerdict(f).tier).toBe('none');
  });
  it('an explicit vhost NIC is refused with <driver name=qemu/>; RAM of a 256 KiB multiple under TCG gets 8 KiB more', () => {
    const vm = domain('lvm-q35-uefi-secure');
    const f = vmFindings(vm, [host('hostA', { accel: 'tcg' }), host('hostB', { accel: 'tcg' })]);
    expect(f.find((x) => x.id === 'nic-vhost')).toMatchObject({ severity: 'refuse', mirror: true, fix: expect.stringContaining("<driver name='qemu'/>") });
    const tcg = f.find((x) => x.id === 'tcg-ram-multiple')!;
    expect(tcg.severity).toBe('warn');
    expect(tcg.text).toContain('524296 KiB');
    expect(tcg.fix).toContain('-m 524296k');
    // with KVM on both hosts the TCG trap does not apply
    expect(ids(vm)).not.toContain('warn:tcg-ram-multiple');
    // and a RAM size that is not a 256 KiB multiple is left alone under TCG too
    expect(ids({ ...vm, memoryKiB: 524296 }, [host('a', { accel: 'tcg' }), host('b', { accel: 'tcg' })])).not.toContain('warn:tcg-ram-multiple');
  });
});

describe('the pair: QEMU, machine types, memory', () => {
  const vm = domain('deb12-i440fx-bios-virtio');
  it('different QEMU versions, a machine type a host lacks, QEMU 10.0.0–10.0.6', () => {
    expect(ids(vm, [host('hostA'), host('hostB', { qemuVersion: '8.2.2' })])).toContain('refuse:qemu-differs');
    const f = vmFindings(vm, [host('hostA'), host('hostB', { machines: ['pc=pc-i440fx-8.2', 'pc-i440fx-8.2'] })]).find((x) => x.id === 'machine-missing')!;
    expect(f).toMatchObject({ severity: 'refuse', text: expect.stringContaining('pc-i440fx-7.2'), fix: expect.stringContaining('pc-i440fx-8.2') });
    expect(ids(vm, [host('hostA', { qemuVersion: '10.0.2' }), host('hostB', { qemuVersion: '10.0.2' })])).toContain('refuse:qemu-broken-colo');
    expect(ids(vm, [host('hostA', { qemuVersion: '10.0.7' }), host('hostB', { qemuVersion: '10.0.7' })])).not.toContain('refuse:qemu-broken-colo');
  });
  it('an unversioned alias that means different machines on the two hosts: pin the older', () => {
    const img = { ...vm, machine: { raw: 'pc', family: 'i440fx' as const, version: null, arch: 'x86_64' } };
    const f = vmFindings(img, [host('hostA'), host('hostB', { machines: ['pc=pc-i440fx-8.2', 'pc-i440fx-8.2', 'pc-i440fx-7.2'] })]).find(
      (x) => x.id === 'machine-alias',
    )!;
    expect(f.fix).toContain("<type machine='pc-i440fx-7.2'>");
  });
  it('the secondary needs ≈ 2× guest RAM + QEMU on the peer; one host named: the peer is not checked, said so', () => {
    expect(secondaryNeedKiB(vm)).toBe(2 * GiB + 256 * 1024);
    const short = vmFindings(vm, [host('hostA'), host('hostB', { memAvailableKiB: 2 * GiB })]).find((x) => x.id === 'memory-secondary')!;
    expect(short).toMatchObject({
      severity: 'refuse',
      mirror: true,
      text: expect.stringContaining('hostB has 2048 MiB available'),
      fix: expect.stringContaining('free 256 MiB on hostB'),
    });
    expect(ids(vm, [host('hostA'), host('hostB', { memAvailableKiB: 2.5 * GiB })])).toContain('warn:memory-tight');
    expect(ids(vm, [host('hostA')])).toContain('warn:memory-peer-unchecked');
    expect(ids(vm, [host('hostA', { memAvailableKiB: 1 })])).not.toContain('refuse:memory-secondary');
  });
});

describe('disks, snapshots and devices', () => {
  const info = parseImageInfo(readFileSync(join(fixtures, 'vm', 'qemu-img-info-chain.json'), 'utf8'), '/srv/top.qcow2');
  const img = imageVm({ disk: '/srv/top.qcow2', memoryMiB: 256, cpus: 1, boot: 'bios' }, info, false);
  it('a qcow2 on a backing chain is converted and flattened (warn); its internal snapshot is refused with the delete command', () => {
    const f = vmFindings(img, pair);
    expect(f.find((x) => x.id === 'disk-convert')!.text).toContain('64 MiB');
    expect(f.find((x) => x.id === 'disk-backing-chain')!.fix).toContain('qemu-img convert -O raw /srv/top.qcow2');
    expect(f.find((x) => x.id === 'disk-snapshots')).toMatchObject({
      severity: 'refuse',
      fix: expect.stringContaining('qemu-img snapshot -d SNAPSHOT /srv/top.qcow2'),
    });
    expect(vmVerdict(f).tier).toBe('none');
  });
  it('libvirt snapshots, two disks, a network disk, a shared disk, an ISO in the drive', () => {
    const vm = domain('deb12-i440fx-bios-virtio');
    const d = vm.disks[0]!;
    const more: Vm = {
      ...vm,
      snapshots: ['pre-upgrade'],
      disks: [
        d,
        { ...d, target: 'vdb', sourceType: 'network', path: 'pool/img' },
        { ...d, target: 'vdc', shareable: true },
        { ...d, device: 'cdrom', target: 'sda', path: '/iso/d.iso' },
      ],
    };
    const f = vmFindings(more, pair);
    expect(f.find((x) => x.id === 'vm-snapshots')!.fix).toBe('virsh snapshot-delete deb12-i440fx-bios-virtio pre-upgrade');
    expect(f.find((x) => x.id === 'disks-many')!.text).toContain('3 disks');
    expect(f.map((x) => x.id)).toEqual(expect.arrayContaining(['disk-source', 'disk-shared', 'media']));
    expect(f.find((x) => x.id === 'media')!.fix).toContain('virsh change-media deb12-i440fx-bios-virtio sda --eject --config');
  });
  it('vhost-user, several NICs, a libvirt network, host-passthrough CPU, direct kernel boot, virtiofs', () => {
    const vm = domain('deb12-i440fx-bios-virtio');
    const f = vmFindings(
      {
        ...vm,
        cpuMode: 'host-passthrough',
        boot: { ...vm.boot, kernel: '/boot/vmlinuz' },
        other: ['filesystem share srv (virtiofs)'],
        nics: [
          { mac: '52:54:00:00:00:01', model: 'virtio', type: 'vhostuser', source: '/run/vu.sock', vhost: 'vhost-user' },
          { mac: null, model: 'virtio', type: 'network', source: 'default', vhost: 'none' },
        ],
      },
      pair,
    );
    expect(f.map((x) => `${x.severity}:${x.id}`)).toEqual(
      expect.arrayContaining([
        'refuse:nic-vhost-user',
        'refuse:nics-many',
        'warn:nic-libvirt-network',
        'warn:cpu-passthrough',
        'warn:kernel-boot',
        'refuse:virtiofs',
      ]),
    );
    expect(f.findIndex((x) => x.severity === 'warn')).toBeGreaterThan(f.map((x) => x.severity).lastIndexOf('refuse'));
  });
  it('every finding names a fix', () => {
    for (const n of ['deb12-i440fx-bios-virtio', 'winsrv-q35-uefi-e1000', 'rhel9-q35-bios-hostdev', 'desk-i440fx-spice-qxl', 'lvm-q35-uefi-secure'])
      for (const f of vmFindings(domain(n), [host('a', { accel: 'tcg', ovmf: null }), host('b', { qemuVersion: '8.2.2', memAvailableKiB: 1 })]))
        expect(f.fix.length, `${n} ${f.id}`).toBeGreaterThan(10);
  });
});

describe('host facts and virsh output', () => {
  it('reads the probe script’s sections', () => {
    const out = [
      '@@vm-probe@@ qemu',
      'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)',
      '@@vm-probe@@ machines',
      'Supported machines are:',
      'pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)',
      'pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)',
      'q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)',
      'pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)',
      '@@vm-probe@@ meminfo',
      'MemTotal:       24000000 kB',
      'MemAvailable:   20000000 kB',
      '@@vm-probe@@ ovmf',
      '@@vm-probe@@ kvm',
    ].join('\n');
    expect(parseProbe('hostA', out)).toEqual({
      host: 'hostA',
      qemuVersion: '7.2.22',
      machines: ['pc=pc-i440fx-7.2', 'pc-i440fx-7.2', 'q35=pc-q35-7.2', 'pc-q35-7.2'],
      memAvailableKiB: 20000000,
      ovmf: null,
      accel: 'tcg',
    });
    expect(parseMachines(['none                 empty machine'])).toEqual(['none']);
    expect(PROBE_SCRIPT).not.toMatch(/\$\{/);
  });
  it('virsh list --all (as virsh 9.0 prints it)', () => {
    expect(parseVirshList(' Id   Name      State\n-------------------------\n 1    web       running\n -    win srv   shut off\n')).toEqual([
      { name: 'web', state: 'running' },
      { name: 'win srv', state: 'shut off' },
    ]);
    expect(parseVirshList(' Id   Name   State\n--------------------\n\n')).toEqual([]);
  });
});

describe('hostile names and paths are refused before anything runs', () => {
  it.each(['-c', '--help', 'a;reboot', '$(id)', 'a b', '../x', '', 'x'.repeat(129), "a'b"])('domain %j', (n) => {
    expect(() => checkDomainName(n)).toThrow(expect.objectContaining({ code: 'vm-name-refused', fix: expect.stringContaining('virsh domrename') }));
  });
  it.each(['relative.qcow2', '/a/../etc/shadow', '/../x', '/a b.qcow2', '/a,b.qcow2', '/a;reboot', '/$(id)', '/a\nb', '-o', "/a'b"])('path %j', (p) => {
    expect(() => checkDiskPath(p)).toThrow(expect.objectContaining({ code: 'vm-path-refused', fix: expect.stringContaining('ln -s') }));
  });
  it('good names, paths and MACs pass; a multicast MAC is refused', () => {
    expect(checkDomainName('deb12-web_1.example')).toBe('deb12-web_1.example');
    expect(checkDiskPath('/var/lib/libvirt/images/deb12.qcow2')).toBe('/var/lib/libvirt/images/deb12.qcow2');
    expect(checkMac('52:54:00:AA:bb:cc')).toBe('52:54:00:aa:bb:cc');
    expect(() => checkMac('01:00:5e:00:00:01')).toThrow(expect.objectContaining({ code: 'vm-mac-refused' }));
  });
  it('a request names the VM one way, with what an image needs', () => {
    expect(inspectTarget({ host: 'hostA', domain: 'web', connect: 'qemu:///system' })).toEqual({ kind: 'domain', name: 'web' });
    expect(inspectTarget({ host: 'hostA', disk: '/i/a.qcow2', memory: 512, cpus: 1, connect: 'qemu:///system' })).toEqual({
      kind: 'image',
      path: '/i/a.qcow2',
      memoryMiB: 512,
      cpus: 1,
    });
    for (const bad of [
      { host: 'hostA', connect: 'x' },
      { host: 'hostA', domain: 'web', disk: '/a', connect: 'x' },
      { host: 'hostA', domain: 'web', memory: 512, connect: 'x' },
      { host: 'hostA', disk: '/a.qcow2', connect: 'x' },
    ])
      expect(() => inspectTarget(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'bad-arguments', fix: expect.stringContaining('lockstep vm inspect hostA') }),
      );
  });
});
