/** What protect must know of both hosts first: the same QEMU major on both (COLO needs it), and KVM or TCG. */
import { LockstepError } from '../contract/index.js';
import { decideAccel, parseCpuFlags } from '../hosts/accel.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { qemuMajor } from './host-ops.js';

export async function pairFacts(sa: SshSession, sb: SshSession, nameA: string, nameB: string): Promise<{ qemuMajor: number; accel: 'kvm' | 'tcg' }> {
  const [ma, mb] = [await qemuMajor(sa), await qemuMajor(sb)];
  if (ma !== mb)
    throw new LockstepError({
      code: 'qemu-differs',
      message: `QEMU ${ma}.x on ${nameA} but ${mb}.x on ${nameB}: COLO needs the same version on both.`,
      fix: 'lockstep preflight run A B',
    });
  const accelOf = async (s: SshSession) =>
    decideAccel({
      kvmDevice: (await s.exec(['test', '-e', '/dev/kvm'])).code === 0,
      cpuFlags: parseCpuFlags((await s.exec(['cat', '/proc/cpuinfo'])).stdout),
    }).accel;
  return { qemuMajor: ma, accel: (await accelOf(sa)) === 'kvm' && (await accelOf(sb)) === 'kvm' ? 'kvm' : 'tcg' };
}
