/** Pure: findings about running the guest: the accelerator (KVM or TCG), the QEMU release, and the COLO pieces QEMU was built with. */
import { decideAccel } from '../hosts/accel.js';
import { installFix, upgradeCommand } from '../hosts/distro.js';
import { hostProgram, packageFor } from '../hosts/inventory.js';
import type { HostFacts, Version } from '../hosts/facts/facts.js';
import { cmp, vstr, type Emit } from './findings-common.js';

export type Accel = ReturnType<typeof decideAccel>;

/** QEMU releases that cannot start COLO (fixed upstream in 10.0.7: "migration: Fix transition to COLO state from precopy"). */
export const COLO_BROKEN_QEMU = { from: { major: 10, minor: 0, patch: 0 }, to: { major: 10, minor: 0, patch: 6 } } as const;

/** Debian's command (the default where the distribution is not known). */
export const INSTALL_QEMU = 'apt-get install -y qemu-system-x86';

/** Install QEMU on this host's distribution. */
export function qemuInstallFix(facts: Pick<HostFacts, 'os'>): string {
  return installFix(['qemu-system-x86_64'], facts.os);
}

/** Upgrade this host's QEMU to its distribution's newest. */
export function qemuUpgradeFix(facts: Pick<HostFacts, 'os'>): string {
  const pkg = packageFor(hostProgram('qemu-system-x86_64')!, facts.os.family);
  return (pkg && upgradeCommand(facts.os.family, pkg)) ?? 'Upgrade QEMU to 10.0.7 or newer with this host’s package manager (or install QEMU 7.2)';
}

export function accelFix(facts: HostFacts, lab?: 'namespaces' | 'kernel'): string {
  const flags = facts.cpuFlags;
  const vmx = flags.includes('vmx');
  const svm = flags.includes('svm');
  if (!facts.kvmDevice && (vmx || svm)) return vmx ? 'modprobe kvm_intel' : 'modprobe kvm_amd';
  if (flags.includes('hypervisor') && lab)
    return 'The lab runs emulated (TCG) here: for KVM, run it in a virtual machine with nested virtualization enabled (the CPU shows vmx/svm)';
  if (flags.includes('hypervisor'))
    return 'Enable nested virtualization for this virtual machine on its hypervisor (so the CPU shows vmx/svm), or use a bare-metal host';
  // a lab host IS this machine: never send the user into its firmware or a reboot from here
  if (lab) return 'The lab runs emulated (TCG) on this machine: for KVM, run the lab on a machine whose CPU shows vmx/svm';
  return 'Enable Intel VT-x / AMD-V in the firmware (BIOS/UEFI) setup and reboot, then run: modprobe kvm_intel (Intel) or modprobe kvm_amd (AMD)';
}

export function isColoBroken(v: Version): boolean {
  return cmp(v, COLO_BROKEN_QEMU.from) >= 0 && cmp(v, COLO_BROKEN_QEMU.to) <= 0;
}

/** The accelerator QEMU will use (the QEMU finding depends on it), and its finding. */
export function accelFinding(facts: HostFacts, { add, ok }: Emit, lab?: 'namespaces' | 'kernel'): Accel {
  // accelerator
  const accel = decideAccel(facts);
  if (accel.accel === 'kvm') ok('accel', 'KVM: hardware virtualization', '/dev/kvm exists and the CPU shows vmx/svm.');
  else if (facts.kvmDevice)
    add({
      id: 'accel',
      level: 'warn',
      what: '/dev/kvm without vmx/svm: paravirtual KVM, QEMU uses TCG (emulated), demo speed',
      why: 'A paravirtual KVM (e.g. kvm-pvm) boots only specially built guest kernels; ordinary guests run emulated, many times slower.',
      fix: accelFix(facts, lab),
    });
  else
    add({
      id: 'accel',
      level: 'warn',
      what: 'No /dev/kvm: emulated (TCG), demo speed',
      why:
        facts.cpuFlags.includes('vmx') || facts.cpuFlags.includes('svm')
          ? 'The CPU has vmx/svm but the kvm module is not loaded.'
          : 'The CPU shows no vmx/svm flag.',
      fix: accelFix(facts, lab),
    });
  return accel;
}

export function qemuFindings(facts: HostFacts, accel: Accel, { add, ok }: Emit, lab?: 'namespaces' | 'kernel'): void {
  // QEMU
  const v = facts.qemu.version;
  if (v === null)
    add({
      id: 'qemu',
      level: 'fail',
      blocks: 'all',
      what: 'QEMU (qemu-system-x86_64) is not installed',
      why: 'Both protection modes run the guest with QEMU.',
      fix: qemuInstallFix(facts),
    });
  else if (isColoBroken(v))
    add({
      id: 'qemu',
      level: 'fail',
      blocks: 'lockstep',
      what: `QEMU ${vstr(v)} cannot start COLO`,
      why: 'QEMU 10.0.0–10.0.6 never enter COLO (the primary reports "completed", the secondary "Can\'t receive COLO message"); fixed in 10.0.7. Upgrade to ≥ 10.0.7, or run Debian 12\'s QEMU 7.2 on both hosts. A DRBD mirror still works.',
      fix: qemuUpgradeFix(facts),
    });
  else if (v.major === 7 && v.minor === 2 && accel.accel === 'tcg')
    add({
      id: 'qemu',
      level: 'warn',
      what: `QEMU ${vstr(v)} under TCG needs the lab's TCG workarounds (native/qemu-tcg)`,
      why: 'QEMU 7.2 deadlocks at early COLO checkpoints and loses dirty pages under TCG; the lab applies its two workarounds on TCG hosts only. With KVM neither is needed.',
      fix: accelFix(facts, lab),
    });
  else if ((v.major === 7 && v.minor === 2) || cmp(v, { major: 10, minor: 0, patch: 7 }) >= 0) ok('qemu', `QEMU ${vstr(v)}`);
  else
    add({
      id: 'qemu',
      level: 'warn',
      what: `QEMU ${vstr(v)} has not been measured with Lockstep Lab`,
      why: "COLO was measured with Debian 12's QEMU 7.2 and QEMU ≥ 10.0.7.",
      fix: qemuUpgradeFix(facts),
    });

  if (v !== null) {
    const p = facts.qemu.coloPieces;
    const missing = [
      ['colo-compare', p.coloCompare],
      ['filter-mirror', p.filterMirror],
      ['filter-redirector', p.filterRedirector],
      ['filter-rewriter', p.filterRewriter],
      ['iothread', p.iothread],
      ['the replication block driver', p.replication],
      ['the x-colo migration capability', p.xColo],
    ]
      .filter(([, has]) => !has)
      .map(([name]) => name as string);
    if (missing.length === 0)
      ok('colo-pieces', 'QEMU has every COLO piece', 'colo-compare, filter-mirror/redirector/rewriter, iothread, the replication driver, x-colo.');
    else
      add({
        id: 'colo-pieces',
        level: 'fail',
        blocks: 'lockstep',
        what: `QEMU lacks ${missing.join(', ')}`,
        why: "Lockstep (COLO) needs all of them; a QEMU built with --disable-replication or without the net filters cannot run COLO. Debian's qemu-system-x86 has every piece.",
        fix:
          facts.os.family === 'el'
            ? "Install a QEMU built with COLO's pieces (RHEL's qemu-kvm has no replication driver): Fedora's qemu-system-x86-core, or run Debian's QEMU 7.2 on both hosts"
            : `Install the distribution's full QEMU build: ${qemuInstallFix(facts)} (a QEMU built with --disable-replication or without the net filters cannot run COLO)`,
      });
  }
}
