/**
 * Pure: can this host run ordinary guests with KVM? A /dev/kvm alone is not enough:
 * some nested machines expose KVM through a paravirtual backend (e.g. kvm-pvm) that
 * only boots specially built guest kernels. Hardware virtualization flags decide.
 */
export function decideAccel(facts: { kvmDevice: boolean; cpuFlags: readonly string[] }): { accel: 'kvm' | 'tcg'; why: string } {
  const hw = facts.cpuFlags.includes('vmx') || facts.cpuFlags.includes('svm');
  if (facts.kvmDevice && hw) return { accel: 'kvm', why: 'hardware virtualization (KVM)' };
  if (facts.kvmDevice)
    return { accel: 'tcg', why: '/dev/kvm exists but the CPU shows no vmx/svm flag (paravirtual KVM cannot boot ordinary guests): emulated (TCG), demo speed' };
  return { accel: 'tcg', why: 'no /dev/kvm: emulated (TCG), demo speed' };
}

/** Pure: the flags line of /proc/cpuinfo. */
export function parseCpuFlags(cpuinfo: string): string[] {
  const line = cpuinfo.split('\n').find((l) => l.startsWith('flags'));
  return line ? line.split(':')[1]!.trim().split(/\s+/) : [];
}
