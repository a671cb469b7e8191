import type { z } from 'zod';
import { VmConnect, VmDiskPath, VmMac } from '../../src-main/contract/commands-vm.js';
import type { FindingDTO, Vm, VmFinding, VmInspection } from '../../src-main/contract/index.js';

/**
 * Pure: the Protect page's choice of VM (issue 21) — the demo guest, a libvirt domain on host A, or
 * a disk image on host A — and what `lockstep.protect` is asked for, or why Protect is not offered.
 * The values are checked with the contract's own rules (one definition), so the page refuses what
 * the app would refuse, before anything is sent.
 */

export type VmSource = 'demo' | 'libvirt' | 'image';
export const VM_SOURCES: readonly { id: VmSource; label: string }[] = [
  { id: 'demo', label: 'the demo guest' },
  { id: 'libvirt', label: 'a VM on hostA' },
  { id: 'image', label: 'a disk image on hostA' },
];
/** the label of a source, with host A's real name */
export const sourceLabel = (s: VmSource, hostA: string): string => VM_SOURCES.find((x) => x.id === s)!.label.replace('hostA', hostA);

/** The libvirt connections the app may ask (the contract's list: libvirt's system and session daemons, and its test driver). */
export type Connection = z.output<typeof VmConnect>;
export const CONNECTIONS: readonly Connection[] = VmConnect.removeDefault().options;
export const DEFAULT_CONNECTION: Connection = 'qemu:///system';

/** What the page sends to `lockstep.protect` for a VM of the user's (the demo guest sends none of these). */
export interface UserVmRequest {
  disk: string;
  memory: number;
  cpus: number;
  mac?: string;
  port?: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

/** The libvirt URI field: one the contract accepts, or the reason with the ones it does. */
export function checkConnection(uri: string): Checked<Connection> {
  const v = uri.trim();
  const known = CONNECTIONS.find((c) => c === v);
  if (known) return { ok: true, value: known };
  return { ok: false, why: `The app asks libvirt at ${CONNECTIONS.join(', ')}; “${v || '(empty)'}” is none of them.` };
}

export interface ImageForm {
  path: string;
  memory: string;
  cpus: string;
  mac: string;
  port: string;
}

const whole = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN);

/** The disk-image form as a protect request (the disk named with host A), or the first thing wrong with it and how to write it. */
export function imageRequest(f: ImageForm, hostA: string): Checked<UserVmRequest> {
  const path = f.path.trim();
  if (!path) return { ok: false, why: 'Give the disk image’s path on ' + hostA + ', like /var/lib/libvirt/images/web1.qcow2.' };
  if (!VmDiskPath.safeParse(path).success)
    return { ok: false, why: 'The path must be absolute, of letters, digits and . _ + @ : = / - (no spaces, commas, quotes or ..).' };
  const memory = whole(f.memory);
  if (!(memory >= 64 && memory <= 1_048_576)) return { ok: false, why: 'Memory: whole MiB, 64 to 1048576 (e.g. 512).' };
  const cpus = whole(f.cpus);
  if (!(cpus >= 1 && cpus <= 64)) return { ok: false, why: 'vCPUs: 1 to 64.' };
  const mac = f.mac.trim().toLowerCase();
  if (mac && !VmMac.safeParse(mac).success) return { ok: false, why: 'MAC: a unicast MAC like 52:54:00:12:34:56 (or leave it empty).' };
  const port = f.port.trim() ? whole(f.port) : undefined;
  if (port !== undefined && !(port >= 1 && port <= 65535)) return { ok: false, why: 'Port: a TCP port of the guest, 1 to 65535 (or leave it empty).' };
  return { ok: true, value: { disk: `${hostA}:${path}`, memory, cpus, ...(mac ? { mac } : {}), ...(port !== undefined ? { port } : {}) } };
}

/** The inspection's findings as the app's finding list shows them (a refusal is a failure; what the mirror tier could still carry is said). */
export function findingRows(findings: VmFinding[]): FindingDTO[] {
  return findings.map((f) => ({
    id: f.id,
    level: f.severity === 'refuse' ? 'fail' : 'warn',
    what: f.text,
    why: f.severity === 'refuse' && f.mirror ? 'The mirror tier (DRBD + restart on the survivor) could still carry the VM as it is.' : '',
    fix: f.fix,
  }));
}

/** Refusals block Protect: their texts, as the reason shown beside the disabled button. */
export function refusalReason(ins: VmInspection): string | null {
  const refusals = ins.findings.filter((f) => f.severity === 'refuse');
  if (refusals.length) return `Lockstep cannot carry ${ins.vm.name} as it is: ${refusals.map((f) => f.text).join(' ')}`;
  if (ins.verdict.tier !== 'lockstep') return `Lockstep cannot carry ${ins.vm.name}: ${ins.verdict.why}`;
  return null;
}

/**
 * What Protect does with a libvirt domain. Converting the domain itself (shut it down, move its disk
 * onto the pair, keep its definition for unprotect) is not built: the page offers protecting a new
 * pair from the domain's one disk image, with the domain's RAM, vCPUs and MAC, and says so.
 */
export type DomainPlan = { ok: true; request: UserVmRequest; disk: string; note: string } | { ok: false; why: string; disk: string | null };

export function domainPlan(ins: VmInspection, state: string, hostA: string): DomainPlan {
  const vm = ins.vm;
  const disks = vm.disks.filter((d) => d.device === 'disk');
  const path = disks.length === 1 ? disks[0]!.path : null;
  const refused = refusalReason(ins);
  if (refused) return { ok: false, why: refused, disk: path };
  if (disks.length !== 1 || !path) return { ok: false, why: `${vm.name} has ${disks.length} disks: protect takes one disk image.`, disk: path };
  if (!VmDiskPath.safeParse(path).success)
    return {
      ok: false,
      why: `The disk path ${path} has characters QEMU's options cannot carry: make a symlink without them and use “a disk image”.`,
      disk: path,
    };
  if (vm.boot.firmware !== 'bios')
    return { ok: false, why: `${vm.name} boots with UEFI; protect from a disk image boots with SeaBIOS (BIOS) only so far.`, disk: path };
  if (state !== 'shut off')
    return {
      ok: false,
      why: `${vm.name} is ${state}: shut it down first (virsh shutdown ${vm.name}), so its disk is not written while the pair copies it, and two copies of one server never run at once.`,
      disk: path,
    };
  const mac = vm.nics.map((n) => n.mac?.toLowerCase()).find((m) => m && VmMac.safeParse(m).success);
  const memory = Math.max(64, Math.ceil(vm.memoryKiB / 1024));
  return {
    ok: true,
    disk: path,
    request: { disk: `${hostA}:${path}`, memory, cpus: Math.min(64, vm.vcpus), ...(mac ? { mac } : {}) },
    note: `Protect runs ${vm.name} as a new QEMU pair from a raw copy of ${path} (${memory} MiB, ${Math.min(64, vm.vcpus)} vCPU${vm.vcpus > 1 ? 's' : ''}${mac ? `, MAC ${mac}` : ''}); the image and the libvirt domain are left as they are. Keep the domain shut off while the pair runs: turning the domain itself into the pair is not built yet.`,
  };
}

const GiB = 1024 ** 3;
const size = (b: number | null) => (b === null ? 'size ?' : b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / 1024 ** 2)} MiB`);

/** A VM's details as lines a person reads: RAM, vCPUs, firmware, machine, each disk and NIC. */
export function vmDetails(vm: Vm): { label: string; value: string }[] {
  const m = vm.machine;
  const rows = [
    { label: 'RAM', value: `${Math.round((vm.memoryKiB / 1024) * 100) / 100} MiB` },
    { label: 'vCPUs', value: String(vm.vcpus) },
    {
      label: 'Firmware',
      value: `${vm.boot.firmware === 'uefi' ? 'UEFI' : 'BIOS'}${vm.boot.secureBoot ? ' + Secure Boot' : ''}${vm.boot.nvram ? `, NVRAM ${vm.boot.nvram}` : ''}${vm.boot.kernel ? `, direct kernel ${vm.boot.kernel}` : ''}`,
    },
    { label: 'Machine', value: `${m.raw ?? 'default'} (${m.family}${m.version ? ` ${m.version}` : ''}${m.arch ? `, ${m.arch}` : ''})` },
  ];
  for (const d of vm.disks)
    rows.push({
      label: d.device === 'disk' ? `Disk ${d.target ?? ''}`.trim() : `${d.device} ${d.target ?? ''}`.trim(),
      value: `${d.path ?? '(empty)'} — ${d.format ?? 'format ?'}, ${d.sourceType}${d.bus ? `, ${d.bus}` : ''}, ${size(d.virtualSizeBytes)}${d.backingChain.length ? `, on ${d.backingChain.map((b) => b.path).join(' ← ')}` : ''}`,
    });
  for (const n of vm.nics)
    rows.push({ label: 'NIC', value: `${n.mac ?? '(no MAC)'} — ${n.model ?? 'default model'} on ${n.type}${n.source ? ` ${n.source}` : ''}` });
  if (!vm.nics.length) rows.push({ label: 'NIC', value: 'none' });
  return rows;
}
