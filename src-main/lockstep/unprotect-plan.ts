/**
 * Pure: what `lockstep unprotect` does to a pair (issue 21): the VM stays where it runs now as one
 * plain QEMU (a COLO failover on its side when the pair is still in lockstep), the other host loses
 * everything the pair put there, the host agents go, the record goes. Which host keeps the VM, what
 * is removed where, and the words of the confirmation — no I/O here.
 */
import { LockstepError } from '../contract/index.js';
import { HOST_PATHS, type VmFiles } from '../hosts/vm-layout.js';
import { vmFiles, type PairRecord } from './pair-record.js';
import { USER_DISK, USER_DISK_FROM } from './user-vm.js';

export interface UnprotectPlan {
  /** the host the VM keeps running on (address:port) and the QEMU file set it runs with */
  keep: { host: string; vmFiles: VmFiles };
  /** the other host: its VM stopped, the pair's files there removed */
  clean: string;
  /** the pair is in lockstep: the kept side runs its colo-failover first (the primary continues alone) */
  failover: boolean;
  /** what the pair made on the cleaned host, removed with rm -rf (fixed paths, never from input) */
  files: string[];
  /** the disk that stays on the kept host, holding everything the guest wrote */
  disk: string;
}

/**
 * Pure: what the pair made on a host it is removed from: the VMs' run directory (both QEMU file
 * sets, the COLO overlays, logs; nothing else lives there), the disk copy (never a DRBD device:
 * the mirror owns it), the guest's boot files and the TCG workaround.
 */
export function pairFilesOnHost(r: PairRecord): string[] {
  const disk = r.disk ? [] : [r.vm ? USER_DISK : `${HOST_PATHS.lib}/disk.img`];
  const from = r.vm ? [USER_DISK_FROM] : [];
  return [HOST_PATHS.run, ...disk, ...from, `${HOST_PATHS.lib}/vmlinuz`, `${HOST_PATHS.lib}/initrd.img`, HOST_PATHS.shim];
}

/**
 * Pure: the plan for a pair record, or why not (an error with its fix). `name` turns a host
 * reference into its name. `null`: there is no pair (nothing to do).
 */
export function unprotectPlan(r: PairRecord | undefined, name: (ref: string) => string): UnprotectPlan | null {
  if (!r) return null;
  const refuse = (code: string, message: string, fix: string) => new LockstepError({ code, message, fix });
  switch (r.state) {
    case 'stopped':
      throw refuse(
        'unprotect-not-running',
        'The pair is stopped: no VM runs that could be given back.',
        `lockstep lockstep protect ${name(r.primary)} ${name(r.secondary)} (starts it from ${name(r.primary)}'s disk), then unprotect`,
      );
    case 'starting':
      throw refuse('unprotect-starting', 'Protect has not finished: the pair is still starting.', 'Run protect again to finish it (or lockstep lockstep stop)');
    case 'reprotecting':
      throw refuse('unprotect-reprotecting', 'A re-protect has not finished.', 'lockstep lockstep reprotect (finishes it), then unprotect');
    case 'maintenance':
      throw refuse(
        'unprotect-maintenance',
        `${name(r.maintenance.host)} is in maintenance.`,
        `lockstep host maintenance exit ${name(r.maintenance.host)}, then unprotect`,
      );
    case 'lockstep':
    case 'failed-over': {
      const clean = r.state === 'failed-over' ? r.lost : r.secondary;
      return {
        keep: { host: r.primary, vmFiles: vmFiles(r, 'primary') },
        clean,
        failover: r.state === 'lockstep',
        files: pairFilesOnHost(r),
        disk: r.disk?.device ?? (r.vm ? USER_DISK : `${HOST_PATHS.lib}/disk.img`),
      };
    }
  }
}

/** Pure: what unprotect does, in the words of its confirmation (the refusal without --confirm says it first). */
export function unprotectWords(r: PairRecord, p: UnprotectPlan, name: (ref: string) => string): string {
  const keep = name(p.keep.host);
  const clean = name(p.clean);
  const what = r.vm ? `your VM (${r.vm.source})` : 'the demo guest';
  return (
    `This ends the protection of ${what}: it keeps running on ${keep} as one plain VM` +
    `${p.failover ? ` (COLO failover on ${keep}: its replication and network filters removed)` : ''}, its disk ${p.disk} there kept with all it wrote. ` +
    `On ${clean} it stops the pair's QEMU and deletes its disk copy${r.disk ? '' : ` (${p.disk})`}, the COLO overlays and the guest's files under ${HOST_PATHS.lib} and ${HOST_PATHS.run}, and its tap ${HOST_PATHS.tap}. ` +
    `The host agents are stopped on both hosts and their config, key and unit removed; the pair's record is deleted.` +
    `${r.disk ? ` The DRBD device ${r.disk.device} stays as the mirror has it (with the guest's data on it).` : ''} Protecting it again copies the disk in full.`
  );
}

/** Pure: the confirmation unprotect asks for: the name of the host whose copy is removed. */
export const unprotectConfirm = (p: UnprotectPlan, name: (ref: string) => string): string => name(p.clean);
