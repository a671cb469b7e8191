import type { Vm, VmInspection, VmListing } from '../../contract/index.js';

const GiB = 1024 ** 3;
const bytes = (b: number | null) => (b === null ? '?' : b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / 1024 ** 2)} MiB`);

export function formatVmList(l: VmListing): string {
  if (!l.domains.length) return `${l.host} (${l.connect}): no VMs defined in libvirt`;
  const w = Math.max(4, ...l.domains.map((d) => d.name.length));
  return [`${l.host} (${l.connect}):`, ...l.domains.map((d) => `  ${d.name.padEnd(w)}  ${d.state}`)].join('\n');
}

export function formatVm(vm: Vm): string {
  const m = vm.machine;
  const lines = [
    `${vm.name} (${vm.from === 'libvirt' ? `libvirt domain${vm.hypervisor ? `, ${vm.hypervisor}` : ''}` : 'disk image'})`,
    `  RAM ${vm.memoryKiB / 1024} MiB (${vm.memoryKiB} KiB), ${vm.vcpus} vCPU${vm.vcpus > 1 ? 's' : ''}${vm.cpuMode ? `, CPU ${vm.cpuMode}` : ''}`,
    `  machine ${m.raw ?? '?'} (${m.family}${m.version ? ` ${m.version}` : ''}), boot ${vm.boot.firmware.toUpperCase()}${vm.boot.secureBoot ? ' + Secure Boot' : ''}${vm.boot.loader ? `, loader ${vm.boot.loader}` : ''}${vm.boot.nvram ? `, NVRAM ${vm.boot.nvram}` : ''}`,
  ];
  for (const d of vm.disks)
    lines.push(
      `  ${d.device} ${d.target ?? '?'}: ${d.path ?? '(empty)'} [${d.sourceType}, ${d.format ?? '?'}${d.bus ? `, ${d.bus}` : ''}] size ${bytes(d.virtualSizeBytes)}${d.actualSizeBytes !== null ? ` (${bytes(d.actualSizeBytes)} used)` : ''}${d.backingChain.length ? `, on ${d.backingChain.map((b) => b.path).join(' ← ')}` : ''}${d.internalSnapshots ? `, ${d.internalSnapshots} snapshot(s)` : ''}`,
    );
  for (const n of vm.nics)
    lines.push(
      `  NIC ${n.mac ?? '(no MAC)'} ${n.model ?? 'default'} on ${n.type}${n.source ? ` ${n.source}` : ''}${n.vhost !== 'none' ? ` (${n.vhost})` : ''}`,
    );
  if (vm.graphics.length || vm.video.length)
    lines.push(`  display ${vm.graphics.map((g) => g.type).join(', ') || 'none'}, video ${vm.video.map((v) => v.model).join(', ') || 'none'}`);
  for (const h of vm.hostdevs) lines.push(`  passthrough ${h.what}`);
  for (const o of vm.other) lines.push(`  device ${o}`);
  if (vm.snapshots.length) lines.push(`  snapshots ${vm.snapshots.join(', ')}`);
  return lines.join('\n');
}

export function formatVmInspection(r: VmInspection): string {
  const lines = [formatVm(r.vm), ''];
  for (const h of r.hosts)
    lines.push(
      `${h.host}: QEMU ${h.qemuVersion ?? 'none'}, ${h.accel.toUpperCase()}, ${h.memAvailableKiB === null ? '?' : Math.round(h.memAvailableKiB / 1024)} MiB available, OVMF ${h.ovmf ?? 'none'}`,
    );
  lines.push('');
  for (const f of r.findings) {
    lines.push(`${f.severity === 'refuse' ? '✘' : '!'} ${f.text}`);
    lines.push(`    fix: ${f.fix}`);
  }
  if (!r.findings.length) lines.push('✔ nothing stands in the way');
  lines.push('', `Verdict: ${r.verdict.tier.toUpperCase()} — ${r.verdict.why}`);
  return lines.join('\n');
}
