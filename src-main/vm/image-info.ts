/**
 * Pure: `qemu-img info --output=json [--backing-chain]` → what the app needs of a disk image (format,
 * sizes, backing chain, internal snapshots); and the VM model of a bare disk image plus what the user
 * says of it (`vm inspect HOST --disk PATH --memory MiB --cpus N`).
 */
import { LockstepError, type Vm, type VmDisk } from '../contract/index.js';
import { looksLikeLv } from './domain-xml.js';

export interface ImageInfo {
  path: string;
  format: string;
  virtualSizeBytes: number;
  actualSizeBytes: number | null;
  backingChain: { path: string; format: string | null }[];
  internalSnapshots: number;
  encrypted: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseImageInfo(json: string, path: string): ImageInfo {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new LockstepError({
      code: 'vm-image-unreadable',
      message: `qemu-img gave no JSON for ${path}.`,
      cause: (e as Error).message,
      fix: 'Check the host’s qemu-img: `qemu-img info --output=json PATH` must print JSON (qemu-utils ≥ 2.0).',
    });
  }
  const layers = (Array.isArray(v) ? v : [v]).filter(isObj);
  const top = layers[0];
  if (!top || typeof top.format !== 'string' || typeof top['virtual-size'] !== 'number')
    throw new LockstepError({
      code: 'vm-image-unreadable',
      message: `qemu-img's answer for ${path} has no format or size.`,
      fix: `Run \`qemu-img info --output=json ${path}\` on the host and check the image.`,
    });
  const chain: ImageInfo['backingChain'] = [];
  if (layers.length > 1) {
    for (const l of layers.slice(1)) chain.push({ path: String(l.filename ?? '?'), format: typeof l.format === 'string' ? l.format : null });
  } else if (typeof top['backing-filename'] === 'string') {
    // without --backing-chain only the first backing file is named
    const f = typeof top['full-backing-filename'] === 'string' ? top['full-backing-filename'] : top['backing-filename'];
    chain.push({ path: f, format: typeof top['backing-filename-format'] === 'string' ? top['backing-filename-format'] : null });
  }
  return {
    path,
    format: top.format,
    virtualSizeBytes: top['virtual-size'],
    actualSizeBytes: typeof top['actual-size'] === 'number' ? top['actual-size'] : null,
    backingChain: chain,
    internalSnapshots: Array.isArray(top.snapshots) ? top.snapshots.length : 0,
    encrypted: top.encrypted === true,
  };
}

/** A disk of the model with what qemu-img found added (a libvirt disk, or the image alone). */
export function withImageInfo(d: VmDisk, info: ImageInfo): VmDisk {
  return {
    ...d,
    format: info.format,
    virtualSizeBytes: info.virtualSizeBytes,
    actualSizeBytes: info.actualSizeBytes,
    backingChain: info.backingChain.length ? info.backingChain : d.backingChain,
    internalSnapshots: info.internalSnapshots,
  };
}

export interface ImageVmInput {
  disk: string;
  memoryMiB: number;
  cpus: number;
  mac?: string;
  boot: 'bios' | 'uefi';
  bridge?: string;
  model?: string;
}

/** The VM a bare disk image makes, with the user's RAM, vCPUs, MAC and firmware (QEMU's default PC, `pc` = i440fx, as the demo guest runs). */
export function imageVm(i: ImageVmInput, info: ImageInfo, blockDevice: boolean): Vm {
  const base = i.disk.split('/').pop() ?? 'vm';
  const disk: VmDisk = withImageInfo(
    {
      target: 'vda',
      device: 'disk',
      sourceType: blockDevice ? (looksLikeLv(i.disk) ? 'lv' : 'block') : 'file',
      path: i.disk,
      format: info.format,
      bus: 'virtio',
      virtualSizeBytes: null,
      actualSizeBytes: null,
      backingChain: [],
      internalSnapshots: 0,
      readonly: false,
      shareable: false,
    },
    info,
  );
  return {
    from: 'image',
    name: base.replace(/\.(qcow2|raw|img)$/i, '') || 'vm',
    uuid: null,
    hypervisor: null,
    memoryKiB: i.memoryMiB * 1024,
    vcpus: i.cpus,
    cpuMode: null,
    machine: { raw: 'pc', family: 'i440fx', version: null, arch: 'x86_64' },
    boot: { firmware: i.boot, loader: null, nvram: null, secureBoot: false, kernel: null },
    disks: [disk],
    nics: [{ mac: i.mac ?? null, model: i.model ?? 'virtio', type: 'bridge', source: i.bridge ?? null, vhost: 'none' }],
    graphics: [{ type: 'vnc' }],
    video: [{ model: 'vga' }],
    hostdevs: [],
    other: [],
    snapshots: [],
  };
}
