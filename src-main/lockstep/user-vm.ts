/**
 * Pure: protecting the user's own VM from a disk image (issue 21): what `lockstep protect A B
 * --disk HOST:/PATH --memory MIB --cpus N [--mac M] [--port P]` asks for, checked before anything
 * runs; the VM's RAM as QEMU gets it; the inspection's refusals turned into one error with the fixes.
 */
import { LockstepError, VmHostDisk, VmMac } from '../contract/index.js';
import type { VmInspection } from '../contract/vm.js';
import { HOST_PATHS } from '../hosts/vm-layout.js';

/** The user's VM as the pair's record keeps it (absent: the demo guest). */
export interface UserVm {
  kind: 'image';
  /** host A's reference as given, and the image on it (never written: the pair runs a raw copy) */
  sourceHost: string;
  source: string;
  memoryMiB: number;
  cpus: number;
  mac: string;
  /** a TCP port of the guest that answers: protect waits until it serves through the pair */
  port?: number;
}

/** The pair's raw base of a user VM on each host (the demo guest's is disk.img beside it). */
export const USER_DISK = `${HOST_PATHS.lib}/user-disk.img`;
/** Which image (and its size and mtime) the base on host A was converted from. */
export const USER_DISK_FROM = `${HOST_PATHS.lib}/user-disk.from`;
/** The MAC a user VM gets when none is named (QEMU's range, not the demo guest's). */
export const USER_VM_MAC = '52:54:00:4c:53:10';

export interface ProtectRequest {
  a: string;
  b: string;
  guestIp?: string;
  disk?: string;
  memory?: number;
  cpus?: number;
  mac?: string;
  port?: number;
}

const bad = (message: string, fix: string) => new LockstepError({ code: 'bad-arguments', message, fix });

/**
 * The VM a protect request names: null for the demo guest; a user VM when --disk is given. `sameAsA`
 * says whether a host reference names host A (the image must be there: disks are copied from A).
 * The values pass the contract's rules again here: a CLI, a window and a script all reach this.
 */
export function userVmOf(i: ProtectRequest, sameAsA: (hostRef: string) => boolean): UserVm | null {
  const extra = (['memory', 'cpus', 'mac', 'port'] as const).filter((k) => i[k] !== undefined);
  if (i.disk === undefined) {
    if (extra.length)
      throw bad(
        `--${extra.join(', --')} ${extra.length > 1 ? 'are' : 'is'} for your own VM (--disk); the demo guest has its own.`,
        `lockstep lockstep protect ${i.a} ${i.b} --disk ${i.a}:/PATH/TO/IMAGE.qcow2 --memory 512 --cpus 1`,
      );
    return null;
  }
  const usage = `lockstep lockstep protect ${i.a} ${i.b} --disk ${i.a}:/PATH/TO/IMAGE.qcow2 --memory 512 --cpus 1 [--mac 52:54:00:12:34:56] [--port 22]`;
  if (!VmHostDisk.safeParse(i.disk).success)
    throw new LockstepError({
      code: 'vm-path-refused',
      message: `Refusing the disk ${JSON.stringify(i.disk.slice(0, 80))}: give HOST:/PATH, an absolute path of letters, digits and . _ + @ : = / - (no spaces, commas, quotes or ..).`,
      fix: 'For a path with spaces or commas, make a symlink without them on the host (`ln -s "OLD PATH" /var/lib/libvirt/images/NAME.qcow2`) and give that.',
    });
  const at = i.disk.indexOf(':/');
  const sourceHost = i.disk.slice(0, at);
  const source = i.disk.slice(at + 1);
  if (!sameAsA(sourceHost))
    throw bad(
      `The image must be on host A (${i.a}), the primary's host: the pair starts from it there; ${sourceHost} is not ${i.a}.`,
      `Copy the image to ${i.a}, or protect with the hosts swapped: lockstep lockstep protect ${sourceHost} ${i.a} --disk ${i.disk} …`,
    );
  if (i.memory === undefined || i.cpus === undefined) throw bad("A disk image says nothing of the VM's RAM and vCPUs: give --memory (MiB) and --cpus.", usage);
  if (!Number.isInteger(i.memory) || i.memory < 64 || i.memory > 1_048_576) throw bad(`--memory ${i.memory}: give whole MiB, 64 to 1048576.`, usage);
  if (!Number.isInteger(i.cpus) || i.cpus < 1 || i.cpus > 64) throw bad(`--cpus ${i.cpus}: give 1 to 64.`, usage);
  if (i.mac !== undefined && !VmMac.safeParse(i.mac).success)
    throw new LockstepError({
      code: 'vm-mac-refused',
      message: `Refusing the MAC ${JSON.stringify(i.mac.slice(0, 40))}: give a unicast MAC like 52:54:00:12:34:56.`,
      fix: 'Use the MAC the guest has now (`ip link` in the guest), so its network configuration keeps working.',
    });
  if (i.port !== undefined && (!Number.isInteger(i.port) || i.port < 1 || i.port > 65535)) throw bad(`--port ${i.port}: give a TCP port, 1 to 65535.`, usage);
  return {
    kind: 'image',
    sourceHost,
    source,
    memoryMiB: i.memory,
    cpus: i.cpus,
    mac: (i.mac ?? USER_VM_MAC).toLowerCase(),
    ...(i.port !== undefined ? { port: i.port } : {}),
  };
}

/**
 * The VM's RAM as QEMU's `-m` takes it. Under TCG, QEMU 7.2 must not get a multiple of 256 KiB
 * (field-notes/colo.md: the secondary's kernel panics after every checkpoint): 8 KiB more.
 */
export function userVmMemory(memoryMiB: number, accel: 'kvm' | 'tcg'): string {
  return accel === 'tcg' ? `${memoryMiB * 1024 + 8}k` : `${memoryMiB}M`;
}

/** The inspection's refusals as one error (each finding's fix said); nothing when lockstep can carry the VM. */
export function refusalOf(ins: VmInspection, disk: string): LockstepError | null {
  const refusals = ins.findings.filter((f) => f.severity === 'refuse');
  if (!refusals.length && ins.verdict.tier === 'lockstep') return null;
  return new LockstepError({
    code: 'vm-not-carried',
    message: `Lockstep cannot carry ${disk} as it is: ${refusals.map((f) => f.text).join(' ') || ins.verdict.why}`,
    fix: refusals.map((f) => f.fix).join(' ') || `lockstep vm inspect … --disk … (see what it says)`,
  });
}

/** Pure: the record line of what the base on host A was converted from (a different image or a changed one converts again). */
export function sourceStamp(source: string, statLine: string): string {
  return `${source} ${statLine.trim()}`;
}
