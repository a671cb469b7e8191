/**
 * The user VM's disk as the pair runs it: a raw copy of the user's image on host A (qemu-img
 * convert; the user's file is only read), then copied host to host over the crossover like the demo
 * guest's disk. The base is converted once per image: a protect run again after a stop keeps what
 * the guest wrote under protection (the primary's disk is the truth), unless the image changed.
 */
import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { noRoomFor, type UploadFor } from '../hosts/remote-files.js';
import type { StepContext } from '../tasks/step.js';
import { HOST_PATHS } from '../hosts/vm-layout.js';
import type { VmInspection } from '../contract/vm.js';
import { refusalOf, sourceStamp, USER_DISK, USER_DISK_FROM, type UserVm } from './user-vm.js';

/** The vm capability's inspection of an image (handed in by the core: lockstep never imports its tools). */
export type InspectVm = (r: { host: string; peer: string; disk: string; memory: number; cpus: number; mac: string }) => Promise<VmInspection>;

/**
 * Before anything is touched: the image is inspected on host A (B's QEMU and machine types compared)
 * and what COLO cannot carry is refused with its fix; an image a running process has open is refused.
 */
export async function checkUserVm(o: { inspect?: InspectVm; session: SshSession; hostName: string }, vm: UserVm, a: string, b: string): Promise<void> {
  if (!o.inspect) throw new LockstepError({ code: 'no-vm-inspection', message: 'The VM inspection is not wired in.' });
  const refused = refusalOf(await o.inspect({ host: a, peer: b, disk: vm.source, memory: vm.memoryMiB, cpus: vm.cpus, mac: vm.mac }), vm.source);
  if (refused) throw refused;
  if (await imageInUse(o.session, vm.source))
    throw new LockstepError({
      code: 'vm-running',
      message: `${vm.source} is open by a running process on ${o.hostName} (the VM still runs?): its disk would change under the copy.`,
      fix: 'Shut the VM down (virsh shutdown NAME, or in the guest: poweroff), then protect again.',
      host: o.hostName,
    });
}

/** Host A's raw base of the user's VM, converted from its image when it is missing or came from another (or a changed) image. */
export async function convertUserDisk(
  sa: SshSession,
  vm: UserVm,
  virtualBytes: number,
  step: Pick<StepContext<unknown>, 'progress' | 'log'>,
  o: UploadFor,
): Promise<'converted' | 'kept'> {
  const stat = await sa.exec(['stat', '-L', '-c', '%s %Y', vm.source]);
  if (stat.code !== 0)
    throw new LockstepError({ code: 'no-disk', message: `The image ${vm.source} is missing on ${o.host ?? sa.target.address}.`, fix: o.again });
  const stamp = sourceStamp(vm.source, stat.stdout);
  const had = await sa.exec(['cat', USER_DISK_FROM]);
  const base = await sa.exec(['stat', '-c', '%s', USER_DISK]);
  if (had.code === 0 && had.stdout.trim() === stamp && base.code === 0 && Number(base.stdout.trim()) === virtualBytes) return 'kept';
  await sa.check(['mkdir', '-p', HOST_PATHS.lib, HOST_PATHS.run]);
  const full = await noRoomFor(sa, USER_DISK, virtualBytes, o);
  if (full) throw full;
  const part = `${USER_DISK}.part`;
  const t0 = Date.now();
  step.progress({ fraction: 0, message: `Converting ${vm.source} to raw (${(virtualBytes / 2 ** 30).toFixed(1)} GiB, sparse) as the pair's base` });
  try {
    await sa.exec(['rm', '-f', USER_DISK_FROM, part]);
    // -U: read the image without taking its lock (nothing else may write it: protect refuses a VM that runs)
    await sa.check(['qemu-img', 'convert', '-U', '-O', 'raw', '-S', '4k', vm.source, part], {
      timeoutMs: 3_600_000,
      fix: `Check the image with: qemu-img check ${vm.source}`,
    });
    await sa.check(['mv', part, USER_DISK]);
    await sa.check(['sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', stamp, USER_DISK_FROM]);
  } catch (e) {
    await sa.exec(['rm', '-f', part]);
    throw (await noRoomFor(sa, USER_DISK, virtualBytes, o, (e as Error).message)) ?? e;
  }
  const secs = (Date.now() - t0) / 1000;
  step.progress({ fraction: 1, message: `Converted to raw in ${secs.toFixed(1)} s` });
  step.log(
    `${vm.source} converted to the pair's raw base ${USER_DISK} on ${o.host ?? sa.target.address} in ${secs.toFixed(1)} s (the image itself is unchanged)`,
  );
  return 'converted';
}

/** Is a QEMU process using the image right now (the user's VM still runs)? QEMU's own image lock says so. */
export async function imageInUse(sa: SshSession, source: string): Promise<boolean> {
  const info = await sa.exec(['qemu-img', 'info', source]);
  return info.code !== 0 && /lock/i.test(info.stderr);
}
