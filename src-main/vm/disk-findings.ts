/**
 * Pure: what COLO can carry of a VM's disks. Protect puts the disk as raw on the pair's DRBD device
 * (or copies it host to host as raw): a qcow2 is converted, a backing chain is flattened into that
 * copy, snapshots do not survive it. This version carries one disk.
 */
import type { Vm, VmFinding } from '../contract/index.js';

const GiB = 1024 ** 3;
const size = (b: number | null) => (b === null ? 'its virtual size' : b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.ceil(b / 1024 ** 2)} MiB`);
const edit = (vm: Vm) => (vm.from === 'libvirt' ? `\`virsh edit ${vm.name}\`: ` : '');

export function diskFindings(vm: Vm): VmFinding[] {
  const out: VmFinding[] = [];
  const disks = vm.disks.filter((d) => d.device === 'disk' || d.device === 'lun');
  const media = vm.disks.filter((d) => (d.device === 'cdrom' || d.device === 'floppy') && d.path);
  if (!disks.length)
    out.push({
      id: 'disk-none',
      severity: 'refuse',
      text: 'The VM has no disk to boot from.',
      fix: "Give the VM its disk (`--disk PATH`, or a <disk device='disk'> in its domain).",
      mirror: false,
    });
  if (disks.length > 1)
    out.push({
      id: 'disks-many',
      severity: 'refuse',
      text: `The VM has ${disks.length} disks (${disks.map((d) => d.target ?? d.path).join(', ')}); this version of lockstep carries one.`,
      fix: `${edit(vm)}keep the boot disk and detach the others (\`virsh detach-disk ${vm.name} TARGET --config\`), or join them into one.`,
      mirror: false,
    });
  for (const d of disks) {
    const name = d.path ?? d.target ?? 'the disk';
    if (d.sourceType === 'network' || d.sourceType === 'volume' || !d.path) {
      out.push({
        id: 'disk-source',
        severity: 'refuse',
        text: `${name} is a ${d.sourceType} disk: lockstep needs a local image file or block device on host A to put on the pair's mirror.`,
        fix: `Copy it to a local file first (\`qemu-img convert -O raw SOURCE /var/lib/libvirt/images/${vm.name}.raw\`) and point the VM at that file.`,
        mirror: false,
      });
      continue;
    }
    if (d.shareable)
      out.push({
        id: 'disk-shared',
        severity: 'refuse',
        text: `${name} is shared with other VMs (<shareable/>): a lockstep pair must own its disk.`,
        fix: `${edit(vm)}remove <shareable/> from that disk, and detach it from the other VMs.`,
        mirror: false,
      });
    if (d.format && d.format !== 'raw')
      out.push({
        id: 'disk-convert',
        severity: 'warn',
        text: `${name} is ${d.format}: protect converts it to raw (${size(d.virtualSizeBytes)}, sparse) on the pair's mirror; the original stays as it is.`,
        fix: `Keep ${size(d.virtualSizeBytes)} free for the raw copy on both hosts (the DRBD device must be at least that big).`,
      });
    if (d.backingChain.length)
      out.push({
        id: 'disk-backing-chain',
        severity: 'warn',
        text: `${name} sits on a backing chain (${d.backingChain.map((b) => b.path).join(' ← ')}): the copy is flattened into one raw image; the chain's files stay as they are.`,
        fix:
          vm.from === 'libvirt'
            ? `Nothing to change; to flatten it first: \`virsh blockpull ${vm.name} ${d.target ?? 'vda'} --wait\`.`
            : `Nothing to change; to flatten it first: \`qemu-img convert -O raw ${name} NEW.raw\`.`,
      });
    if (d.internalSnapshots > 0)
      out.push({
        id: 'disk-snapshots',
        severity: 'refuse',
        text: `${name} holds ${d.internalSnapshots} internal snapshot(s): the raw copy cannot keep them, and a reverted snapshot would bypass the mirror.`,
        fix:
          vm.from === 'libvirt'
            ? `Delete them: \`virsh snapshot-list ${vm.name}\`, then \`virsh snapshot-delete ${vm.name} SNAPSHOT\` for each.`
            : `Delete them: \`qemu-img snapshot -l ${name}\`, then \`qemu-img snapshot -d SNAPSHOT ${name}\` for each (VM shut down).`,
        mirror: false,
      });
  }
  if (vm.snapshots.length)
    out.push({
      id: 'vm-snapshots',
      severity: 'refuse',
      text: `libvirt keeps ${vm.snapshots.length} snapshot(s) of the VM (${vm.snapshots.slice(0, 5).join(', ')}): they cannot follow it onto the mirror.`,
      fix: vm.snapshots
        .slice(0, 5)
        .map((s) => `virsh snapshot-delete ${vm.name} ${s}`)
        .join('; '),
      mirror: false,
    });
  for (const m of media)
    out.push({
      id: 'media',
      severity: 'warn',
      text: `${m.target ?? 'A drive'} holds ${m.path}: the same file must be at the same path on the other host, or the secondary cannot start.`,
      fix: vm.from === 'libvirt' ? `Eject it: \`virsh change-media ${vm.name} ${m.target ?? 'sda'} --eject --config\`.` : `Remove the medium.`,
    });
  return out;
}
