import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmSchema } from '../../src-main/contract/index.js';
import { machineOf, parseDomainXml, scaledKiB } from '../../src-main/vm/domain-xml.js';
import { imageVm, parseImageInfo } from '../../src-main/vm/image-info.js';
import { parseXml } from '../../src-main/vm/xml-tree.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const domain = (name: string) => parseDomainXml(readFileSync(join(fixtures, 'libvirt', `${name}.xml`), 'utf8'));

describe('libvirt domain XML → the VM model (real virt-install/libvirt 9.0 fixtures)', () => {
  it('i440fx, BIOS, qcow2 virtio disk, virtio NIC on a bridge, VNC', () => {
    const vm = domain('deb12-i440fx-bios-virtio');
    expect(VmSchema.parse(vm)).toEqual(vm);
    expect(vm).toMatchObject({ from: 'libvirt', name: 'deb12-i440fx-bios-virtio', hypervisor: 'qemu', memoryKiB: 1048576, vcpus: 2 });
    expect(vm.machine).toEqual({ raw: 'pc-i440fx-7.2', family: 'i440fx', version: '7.2', arch: 'x86_64' });
    expect(vm.boot).toEqual({ firmware: 'bios', loader: null, nvram: null, secureBoot: false, kernel: null });
    expect(vm.disks).toEqual([
      expect.objectContaining({
        target: 'vda',
        device: 'disk',
        sourceType: 'file',
        path: '/var/lib/libvirt/images/deb12.qcow2',
        format: 'qcow2',
        bus: 'virtio',
        backingChain: [],
      }),
    ]);
    expect(vm.nics).toEqual([{ mac: '52:54:00:12:34:01', model: 'virtio', type: 'bridge', source: 'br0', vhost: 'vhost-net-default' }]);
    expect(vm.graphics).toEqual([{ type: 'vnc' }]);
    expect(vm.video).toEqual([{ model: 'vga' }]);
    expect(vm.hostdevs).toEqual([]);
    expect(vm.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('q35, UEFI by firmware autoselection, raw SATA disk, e1000 NIC', () => {
    const vm = domain('winsrv-q35-uefi-e1000');
    expect(vm.machine).toMatchObject({ family: 'q35', version: '7.2' });
    expect(vm.boot).toMatchObject({ firmware: 'uefi', nvram: null, secureBoot: false });
    expect(vm.memoryKiB).toBe(4 * 1024 * 1024);
    expect(vm.disks[0]).toMatchObject({ target: 'sda', format: 'raw', bus: 'sata', sourceType: 'file' });
    expect(vm.nics).toEqual([{ mac: '52:54:00:12:34:02', model: 'e1000', type: 'bridge', source: 'br0', vhost: 'none' }]);
  });

  it('q35, BIOS, a PCI hostdev', () => {
    const vm = domain('rhel9-q35-bios-hostdev');
    expect(vm.boot.firmware).toBe('bios');
    expect(vm.hostdevs).toEqual([{ kind: 'pci', what: 'PCI 0000:03:00.0' }]);
  });

  it('SPICE + qxl + the USB redirection virt-install adds for SPICE', () => {
    const vm = domain('desk-i440fx-spice-qxl');
    expect(vm.graphics.map((g) => g.type)).toEqual(['spice']);
    expect(vm.video).toEqual([{ model: 'qxl' }]);
    expect(vm.hostdevs.every((h) => h.kind === 'usb-redirect')).toBe(true);
    expect(vm.hostdevs.length).toBeGreaterThan(0);
  });

  it('UEFI Secure Boot with explicit loader and NVRAM, an LVM volume, an explicit vhost NIC', () => {
    const vm = domain('lvm-q35-uefi-secure');
    expect(vm.machine.raw).toBe('pc-q35-7.2');
    expect(vm.boot).toEqual({
      firmware: 'uefi',
      loader: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd',
      nvram: '/var/lib/libvirt/qemu/nvram/lvm-q35-uefi-secure_VARS.fd',
      secureBoot: true,
      kernel: null,
    });
    expect(vm.disks[0]).toMatchObject({ sourceType: 'lv', path: '/dev/vg0/lvm-q35', format: 'raw' });
    expect(vm.nics[0]!.vhost).toBe('vhost-net');
    expect(vm.memoryKiB).toBe(524288);
  });

  it('a backing chain, a CD-ROM, a network disk, vhost-user, an SR-IOV NIC, USB hostdev, tpm, virtiofs (hand-written, after libvirt’s format docs)', () => {
    const vm = parseDomainXml(`<domain type='kvm'><name>mix</name><memory unit='GiB'>2</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type><kernel>/boot/vmlinuz</kernel></os><cpu mode='host-passthrough'/>
      <devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/top.qcow2'/>
          <backingStore type='file'><format type='qcow2'/><source file='/img/mid.qcow2'/>
            <backingStore type='file'><format type='raw'/><source file='/img/base.raw'/><backingStore/></backingStore></backingStore>
          <target dev='vda' bus='virtio'/><shareable/></disk>
        <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
        <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdb' bus='virtio'/></disk>
        <interface type='vhostuser'><mac address='52:54:00:00:00:01'/><source type='unix' path='/run/vu.sock' mode='client'/><model type='virtio'/></interface>
        <interface type='hostdev'><mac address='52:54:00:00:00:02'/></interface>
        <interface type='network'><source network='default'/><model type='virtio'/><driver name='qemu'/></interface>
        <hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source></hostdev>
        <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
        <filesystem type='mount'><driver type='virtiofs'/><source dir='/srv'/><target dir='srv'/></filesystem>
      </devices></domain>`);
    expect(vm.memoryKiB).toBe(2 * 1024 * 1024);
    expect(vm.machine).toMatchObject({ raw: 'pc', family: 'i440fx', version: null });
    expect(vm.boot.kernel).toBe('/boot/vmlinuz');
    expect(vm.cpuMode).toBe('host-passthrough');
    expect(vm.disks[0]).toMatchObject({
      shareable: true,
      backingChain: [
        { path: '/img/mid.qcow2', format: 'qcow2' },
        { path: '/img/base.raw', format: 'raw' },
      ],
    });
    expect(vm.disks[1]).toMatchObject({ device: 'cdrom', sourceType: 'none', path: null, readonly: true });
    expect(vm.disks[2]).toMatchObject({ sourceType: 'network', path: 'pool/img' });
    expect(vm.nics.map((n) => [n.type, n.vhost])).toEqual([
      ['vhostuser', 'vhost-user'],
      ['hostdev', 'none'],
      ['network', 'none'],
    ]);
    expect(vm.hostdevs).toEqual([
      { kind: 'usb', what: 'USB 046d:c52b' },
      { kind: 'nic', what: 'SR-IOV NIC 52:54:00:00:00:02' },
    ]);
    expect(vm.other).toEqual(['tpm (tpm-crb, emulator)', 'filesystem share srv (virtiofs)']);
  });

  it('scaled sizes and machine names', () => {
    const el = (unit: string | null, text: string) => ({ name: 'memory', attrs: (unit ? { unit } : {}) as Record<string, string>, children: [], text });
    expect(scaledKiB(el(null, '1024'))).toBe(1024);
    expect(scaledKiB(el('MiB', '512'))).toBe(524288);
    expect(scaledKiB(el('G', '1'))).toBe(1048576);
    expect(scaledKiB(el('bytes', '1048576'))).toBe(1024);
    expect(scaledKiB(el('parsecs', '1'))).toBeNull();
    expect(machineOf('q35')).toMatchObject({ family: 'q35', version: null });
    expect(machineOf('pc-1.0')).toMatchObject({ family: 'i440fx', version: '1.0' });
    expect(machineOf('microvm')).toMatchObject({ family: 'other' });
  });
});

describe('hostile or broken XML is refused, nothing expanded', () => {
  it('a DOCTYPE with entities (billion laughs, external entity) is refused before any expansion', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><domain><name>&b;</name></domain>`;
    expect(() => parseDomainXml(laughs)).toThrow(expect.objectContaining({ code: 'vm-xml-invalid', fix: expect.stringContaining('virsh dumpxml') }));
    const xxe = `<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain><name>&x;</name><memory>1</memory></domain>`;
    expect(() => parseDomainXml(xxe)).toThrow(expect.objectContaining({ code: 'vm-xml-invalid' }));
  });
  it('an undeclared entity, broken XML, another root, no memory, too deep or too big', () => {
    expect(() => parseDomainXml('<domain><name>&x;</name></domain>')).toThrow(expect.objectContaining({ code: 'vm-xml-invalid' }));
    expect(() => parseDomainXml('<domain><name>x</domain>')).toThrow(expect.objectContaining({ code: 'vm-xml-invalid' }));
    expect(() => parseDomainXml('<network><name>x</name></network>')).toThrow(/not a libvirt domain/);
    expect(() => parseDomainXml('<domain><name>x</name></domain>')).toThrow(/memory/);
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100))).toThrow(/deeper/);
    expect(() => parseXml(`<a>${'x'.repeat(1024 * 1024 + 1)}</a>`)).toThrow(/bytes/);
  });
  it("XML's own five entities are read", () => {
    expect(parseXml('<a>&lt;b&gt; &amp; &quot;c&apos;</a>').text).toBe(`<b> & "c'`);
  });
});

describe('qemu-img info (real 7.2 output) → the disk, and the VM of a bare image', () => {
  const read = (f: string) => readFileSync(join(fixtures, 'vm', f), 'utf8');
  it('a qcow2 on a raw backing file with an internal snapshot', () => {
    const info = parseImageInfo(read('qemu-img-info-chain.json'), '/tmp/i21fx/top.qcow2');
    expect(info).toEqual({
      path: '/tmp/i21fx/top.qcow2',
      format: 'qcow2',
      virtualSizeBytes: 64 * 1024 * 1024,
      actualSizeBytes: 208896,
      backingChain: [{ path: '/tmp/i21fx/base.raw', format: 'raw' }],
      internalSnapshots: 1,
      encrypted: false,
    });
  });
  it('a flat raw image; a bare image makes a VM with the user’s RAM, vCPUs, MAC and firmware', () => {
    const info = parseImageInfo(read('qemu-img-info-raw.json'), '/srv/plain.raw');
    expect(info).toMatchObject({ format: 'raw', virtualSizeBytes: 32 * 1024 * 1024, backingChain: [], internalSnapshots: 0 });
    const vm = imageVm({ disk: '/srv/plain.raw', memoryMiB: 512, cpus: 2, mac: '52:54:00:aa:bb:cc', boot: 'uefi', bridge: 'br0' }, info, false);
    expect(VmSchema.parse(vm)).toEqual(vm);
    expect(vm).toMatchObject({ from: 'image', name: 'plain', memoryKiB: 524288, vcpus: 2, boot: { firmware: 'uefi' } });
    expect(vm.nics).toEqual([{ mac: '52:54:00:aa:bb:cc', model: 'virtio', type: 'bridge', source: 'br0', vhost: 'none' }]);
    expect(vm.disks[0]).toMatchObject({ sourceType: 'file', format: 'raw', virtualSizeBytes: 32 * 1024 * 1024 });
  });
  it('not JSON, or JSON without a format, is an error with a fix', () => {
    expect(() => parseImageInfo('qemu-img: Could not open', '/x')).toThrow(expect.objectContaining({ code: 'vm-image-unreadable', fix: expect.any(String) }));
    expect(() => parseImageInfo('{}', '/x')).toThrow(expect.objectContaining({ code: 'vm-image-unreadable' }));
  });
});
