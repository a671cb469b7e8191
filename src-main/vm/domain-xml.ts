/**
 * Pure: libvirt domain XML (as `virsh dumpxml` prints it) → the VM model (contract/vm.ts).
 * Reads what decides whether COLO can carry the VM: RAM, vCPUs, machine type, firmware, disks with
 * their backing chains, NICs with their backends, graphics, video and passthrough devices.
 */
import { LockstepError, type Vm, type VmDisk, type VmNic } from '../contract/index.js';
import { attr, child, childrenOf, parseXml, path, type XmlElement } from './xml-tree.js';

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1000,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1e9,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1e12,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/** A libvirt scaled integer (`<memory unit='KiB'>1048576</memory>`) in KiB; KiB when no unit is given. */
export function scaledKiB(el: XmlElement | undefined): number | null {
  if (!el || !/^\d+$/.test(el.text)) return null;
  const unit = (attr(el, 'unit') ?? 'KiB').toLowerCase();
  const factor = UNIT_BYTES[unit];
  return factor === undefined ? null : Math.round((Number(el.text) * factor) / 1024);
}

/** `pc-q35-7.2` → q35 7.2; `pc` → i440fx (unversioned alias); `pc-i440fx-8.0`, `pc-1.0` → i440fx. */
export function machineOf(raw: string | null): Vm['machine'] {
  const m = raw ?? '';
  let family: Vm['machine']['family'] = 'other';
  if (m === 'q35' || m.startsWith('pc-q35')) family = 'q35';
  else if (m === 'pc' || m.startsWith('pc-i440fx') || /^pc-\d/.test(m)) family = 'i440fx';
  const v = /-(\d+\.\d+(?:\.\d+)?)$/.exec(m);
  return { raw, family, version: v ? v[1]! : null, arch: null };
}

/** A block device that is an LVM volume (`/dev/VG/LV`, `/dev/mapper/VG-LV`), as far as the path tells. */
export function looksLikeLv(p: string): boolean {
  return /^\/dev\/mapper\/[^/]+$/.test(p) || /^\/dev\/(?!disk\/|mapper\/|md\/|zvol\/|drbd)[^/]+\/[^/]+$/.test(p);
}

function backingChain(disk: XmlElement): VmDisk['backingChain'] {
  const out: VmDisk['backingChain'] = [];
  let b = child(disk, 'backingStore');
  for (let i = 0; b && i < 64; i++) {
    const src = child(b, 'source');
    const p = attr(src, 'file') ?? attr(src, 'dev') ?? attr(src, 'name');
    if (!p) break; // <backingStore/>: the chain ends here
    out.push({ path: p, format: attr(child(b, 'format'), 'type') });
    b = child(b, 'backingStore');
  }
  return out;
}

function diskOf(d: XmlElement): VmDisk {
  const type = attr(d, 'type') ?? 'file';
  const src = child(d, 'source');
  const p = attr(src, 'file') ?? attr(src, 'dev') ?? (type === 'volume' ? `${attr(src, 'pool')}/${attr(src, 'volume')}` : attr(src, 'name'));
  let sourceType: VmDisk['sourceType'] =
    type === 'block' ? 'block' : type === 'network' ? 'network' : type === 'volume' ? 'volume' : type === 'file' ? 'file' : 'none';
  if (!src || !p) sourceType = type === 'network' ? 'network' : 'none';
  if (sourceType === 'block' && p && looksLikeLv(p)) sourceType = 'lv';
  const dev = attr(d, 'device');
  return {
    target: attr(child(d, 'target'), 'dev'),
    device: dev === 'cdrom' || dev === 'floppy' || dev === 'lun' ? dev : 'disk',
    sourceType,
    path: sourceType === 'none' ? null : p,
    format: attr(child(d, 'driver'), 'type'),
    bus: attr(child(d, 'target'), 'bus'),
    virtualSizeBytes: null,
    actualSizeBytes: null,
    backingChain: backingChain(d),
    internalSnapshots: 0,
    readonly: child(d, 'readonly') !== undefined,
    shareable: child(d, 'shareable') !== undefined,
  };
}

function nicOf(n: XmlElement): VmNic {
  const type = attr(n, 'type') ?? 'unknown';
  const src = child(n, 'source');
  const model = attr(child(n, 'model'), 'type');
  const driver = attr(child(n, 'driver'), 'name');
  let vhost: VmNic['vhost'] = 'none';
  if (type === 'vhostuser') vhost = 'vhost-user';
  // libvirt gives a virtio NIC on a tap (bridge, network, direct) vhost-net unless <driver name='qemu'/> says otherwise
  else if (driver === 'vhost') vhost = 'vhost-net';
  else if (driver === null && model === 'virtio' && ['bridge', 'network', 'direct', 'ethernet'].includes(type)) vhost = 'vhost-net-default';
  return {
    mac: attr(child(n, 'mac'), 'address'),
    model,
    type,
    source: attr(src, 'bridge') ?? attr(src, 'network') ?? attr(src, 'dev') ?? attr(src, 'path'),
    vhost,
  };
}

const hex = (v: string | null) => (v ?? '').replace(/^0x/i, '');

function hostdevOf(h: XmlElement): Vm['hostdevs'][number] {
  const type = attr(h, 'type') ?? 'other';
  const src = child(h, 'source');
  if (type === 'pci') {
    const a = child(src, 'address');
    return {
      kind: 'pci',
      what: `PCI ${hex(attr(a, 'domain')).padStart(4, '0')}:${hex(attr(a, 'bus')).padStart(2, '0')}:${hex(attr(a, 'slot')).padStart(2, '0')}.${hex(attr(a, 'function'))}`,
    };
  }
  if (type === 'usb') {
    const v = attr(child(src, 'vendor'), 'id');
    const p = attr(child(src, 'product'), 'id');
    const a = child(src, 'address');
    return { kind: 'usb', what: v ? `USB ${hex(v)}:${hex(p)}` : `USB bus ${attr(a, 'bus') ?? '?'} device ${attr(a, 'device') ?? '?'}` };
  }
  if (type === 'scsi') return { kind: 'scsi', what: `SCSI ${attr(child(src, 'adapter'), 'name') ?? 'device'}` };
  if (type === 'mdev') return { kind: 'mdev', what: `mediated device ${attr(child(src, 'address'), 'uuid') ?? ''}`.trim() };
  return { kind: 'other', what: `${type} device` };
}

/** Parses `virsh dumpxml` output. Throws vm-xml-invalid (with the fix) for anything that is not a domain. */
export function parseDomainXml(xml: string): Vm {
  const dom = parseXml(xml);
  if (dom.name !== 'domain')
    throw new LockstepError({
      code: 'vm-xml-invalid',
      message: `This is not a libvirt domain: its root element is <${dom.name.slice(0, 40)}>.`,
      fix: 'Give the output of `virsh dumpxml NAME` (root element <domain>).',
    });
  const name = path(dom, 'name')?.text ?? '';
  const memoryKiB = scaledKiB(child(dom, 'memory')) ?? scaledKiB(child(dom, 'currentMemory'));
  if (!name || !memoryKiB)
    throw new LockstepError({
      code: 'vm-xml-invalid',
      message: `The domain XML has no ${name ? 'memory size' : 'name'}.`,
      fix: 'Give the output of `virsh dumpxml NAME` unchanged.',
    });
  const vcpuText = child(dom, 'vcpu')?.text ?? '1';
  const os = child(dom, 'os');
  const osType = child(os, 'type');
  const machine = { ...machineOf(attr(osType, 'machine')), arch: attr(osType, 'arch') };
  const loader = child(os, 'loader');
  const firmwareFeatures = childrenOf(child(os, 'firmware'), 'feature');
  const uefi = attr(os, 'firmware') === 'efi' || attr(loader, 'type') === 'pflash' || /OVMF|edk2|AAVMF/i.test(loader?.text ?? '');
  const secureBoot = attr(loader, 'secure') === 'yes' || firmwareFeatures.some((f) => attr(f, 'name') === 'secure-boot' && attr(f, 'enabled') === 'yes');
  const devices = child(dom, 'devices');
  const nics = childrenOf(devices, 'interface').map(nicOf);
  const hostdevs = childrenOf(devices, 'hostdev').map(hostdevOf);
  for (const n of nics) if (n.type === 'hostdev') hostdevs.push({ kind: 'nic', what: `SR-IOV NIC ${n.mac ?? ''}`.trim() });
  for (const r of childrenOf(devices, 'redirdev')) hostdevs.push({ kind: 'usb-redirect', what: `USB redirection over ${attr(r, 'type') ?? 'a channel'}` });
  const other: string[] = [];
  for (const t of childrenOf(devices, 'tpm')) other.push(`tpm (${attr(t, 'model') ?? 'tpm'}, ${attr(child(t, 'backend'), 'type') ?? 'backend'})`);
  for (const f of childrenOf(devices, 'filesystem'))
    other.push(`filesystem share ${attr(child(f, 'target'), 'dir') ?? ''} (${attr(child(f, 'driver'), 'type') ?? '9p'})`.replace(' ()', ''));
  for (const s of childrenOf(devices, 'shmem')) other.push(`shared memory ${attr(s, 'name') ?? ''}`.trim());
  return {
    from: 'libvirt',
    name,
    uuid: child(dom, 'uuid')?.text ?? null,
    hypervisor: attr(dom, 'type'),
    memoryKiB,
    vcpus: /^\d+$/.test(vcpuText) && Number(vcpuText) > 0 ? Number(vcpuText) : 1,
    cpuMode: attr(child(dom, 'cpu'), 'mode'),
    machine,
    boot: {
      firmware: uefi ? 'uefi' : 'bios',
      loader: uefi ? loader?.text || null : null,
      nvram: child(os, 'nvram')?.text || null,
      secureBoot,
      kernel: child(os, 'kernel')?.text || null,
    },
    disks: childrenOf(devices, 'disk').map(diskOf),
    nics,
    graphics: childrenOf(devices, 'graphics').map((g) => ({ type: attr(g, 'type') ?? 'unknown' })),
    video: childrenOf(devices, 'video').map((v) => ({ model: attr(child(v, 'model'), 'type') ?? 'default' })),
    hostdevs,
    other,
    snapshots: [],
  };
}
