/**
 * A VM the user already has, as the app reads it (from libvirt's domain XML or from a disk image
 * plus what the user says), and what COLO can carry of it. zod schemas: a window or a script can
 * validate what it got; the types are inferred from them.
 */
import { z } from 'zod';

export const VmDiskSchema = z.object({
  /** the guest's name for it (vda, sda, hdc), when known */
  target: z.string().nullable(),
  device: z.enum(['disk', 'cdrom', 'floppy', 'lun']),
  /** file = an image file; block = a block device; lv = a block device that is an LVM volume; network = iSCSI/RBD/NBD… */
  sourceType: z.enum(['file', 'block', 'lv', 'network', 'volume', 'none']),
  /** the image file or device on the host; null for an empty CD-ROM or a network disk */
  path: z.string().nullable(),
  /** qcow2, raw, … as libvirt declares it or qemu-img detected it; null when neither says */
  format: z.string().nullable(),
  bus: z.string().nullable(),
  /** the size the guest sees, when known (qemu-img info) */
  virtualSizeBytes: z.number().nullable(),
  /** the space it takes on the host, when known */
  actualSizeBytes: z.number().nullable(),
  /** images under this one, nearest first (qcow2 backing files); empty for a flat image */
  backingChain: z.array(z.object({ path: z.string(), format: z.string().nullable() })),
  /** internal snapshots inside the image (qcow2) */
  internalSnapshots: z.number().int(),
  readonly: z.boolean(),
  shareable: z.boolean(),
});
export type VmDisk = z.infer<typeof VmDiskSchema>;

export const VmNicSchema = z.object({
  mac: z.string().nullable(),
  /** virtio, e1000, e1000e, rtl8139, … (null: the hypervisor's default) */
  model: z.string().nullable(),
  /** bridge, network, direct (macvtap), user, vhostuser, hostdev (SR-IOV passthrough), … */
  type: z.string(),
  /** the bridge, libvirt network or host NIC it is plugged into */
  source: z.string().nullable(),
  /**
   * Where the NIC's packets are handled: none = inside QEMU (what COLO's filters need); vhost-net =
   * in the kernel, asked for by `<driver name='vhost'/>`; vhost-net-default = libvirt's own choice for
   * a virtio NIC on a tap (lockstep runs it with vhost=off); vhost-user = in another process.
   */
  vhost: z.enum(['none', 'vhost-net-default', 'vhost-net', 'vhost-user']),
});
export type VmNic = z.infer<typeof VmNicSchema>;

export const VmBootSchema = z.object({
  firmware: z.enum(['bios', 'uefi']),
  /** the UEFI code (OVMF_CODE…fd) when the domain names it */
  loader: z.string().nullable(),
  /** the VM's own UEFI variable store */
  nvram: z.string().nullable(),
  secureBoot: z.boolean(),
  /** direct kernel boot (<kernel>): the kernel file lives on the host, not in the disk */
  kernel: z.string().nullable(),
});
export type VmBoot = z.infer<typeof VmBootSchema>;

export const VmMachineSchema = z.object({
  /** as written: pc, q35, pc-i440fx-7.2, pc-q35-7.2 */
  raw: z.string().nullable(),
  family: z.enum(['i440fx', 'q35', 'other']),
  /** the QEMU machine version (7.2), null for an unversioned alias (pc, q35) */
  version: z.string().nullable(),
  arch: z.string().nullable(),
});

export const VmHostdevSchema = z.object({
  kind: z.enum(['pci', 'usb', 'scsi', 'mdev', 'usb-redirect', 'nic', 'other']),
  /** a person's name for it: PCI 0000:03:00.0, USB 046d:c52b */
  what: z.string(),
});

export const VmSchema = z.object({
  from: z.enum(['libvirt', 'image']),
  name: z.string(),
  uuid: z.string().nullable(),
  /** libvirt's domain type: kvm, qemu; null for an image */
  hypervisor: z.string().nullable(),
  memoryKiB: z.number().int().positive(),
  vcpus: z.number().int().positive(),
  cpuMode: z.string().nullable(),
  machine: VmMachineSchema,
  boot: VmBootSchema,
  disks: z.array(VmDiskSchema),
  nics: z.array(VmNicSchema),
  graphics: z.array(z.object({ type: z.string() })),
  video: z.array(z.object({ model: z.string() })),
  hostdevs: z.array(VmHostdevSchema),
  /** other devices COLO cannot copy the state of: tpm, virtio-fs shares, … (by name) */
  other: z.array(z.string()),
  /** libvirt snapshots of the domain (names), when asked */
  snapshots: z.array(z.string()),
});
export type Vm = z.infer<typeof VmSchema>;

export const VmFindingSchema = z.object({
  id: z.string(),
  /** refuse: lockstep cannot start with this; warn: it can, with the risk said */
  severity: z.enum(['refuse', 'warn']),
  text: z.string(),
  /** the exact thing to change */
  fix: z.string(),
  /** for a refusal: can the mirror tier (DRBD + restart on the survivor) still carry the VM as it is? */
  mirror: z.boolean().optional(),
});
export type VmFinding = z.infer<typeof VmFindingSchema>;

/** What a host has for a VM (read by `vm inspect`): compared across the pair when two are named. */
export interface VmHostFacts {
  host: string;
  qemuVersion: string | null;
  /** machine types this host's QEMU offers (`-machine help`), with the alias targets */
  machines: string[];
  memAvailableKiB: number | null;
  ovmf: string | null;
  /** KVM (`/dev/kvm`) or TCG */
  accel: 'kvm' | 'tcg';
}

export interface VmInspection {
  vm: Vm;
  hosts: VmHostFacts[];
  findings: VmFinding[];
  verdict: { tier: 'lockstep' | 'mirror' | 'none'; why: string };
}

export interface VmListing {
  host: string;
  connect: string;
  domains: { name: string; state: string }[];
}
