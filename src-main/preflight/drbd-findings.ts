/** Pure: findings about the DRBD mirror: the kernel module and drbd-utils, the host name DRBD tells the ends apart by, and a free backing disk. */
import { candidateDisks } from '../hosts/facts/candidate-disks.js';
import type { HostFacts } from '../hosts/facts/facts.js';
import { installFix, upgradeCommand, type OsInfo } from '../hosts/distro.js';
import { hostProgram, packageFor } from '../hosts/inventory.js';
import { LAB_DRBD_FIX, q, shown, size, type Emit, type HostCheckOptions } from './findings-common.js';

/**
 * How to get a DRBD kernel module on this host: for THIS distribution, and never a reboot or a
 * kernel install on a lab host (it shares this machine's kernel, or boots the lab's own).
 */
export function drbdModuleFix(facts: { os: OsInfo; kernel: string | null }, lab?: HostCheckOptions['lab']): string {
  if (lab) return LAB_DRBD_FIX;
  const major = (facts.os.versionId ?? '9').split('.')[0];
  switch (facts.os.family) {
    case 'debian':
      return "apt-get install -y linux-image-amd64 && reboot   (Debian's kernels carry DRBD 8.4)";
    case 'ubuntu':
      return facts.kernel ? `apt-get install -y ${q(`linux-modules-extra-${facts.kernel}`)} && modprobe drbd` : 'apt-get install -y linux-generic && reboot';
    case 'proxmox':
      return "apt-get install -y proxmox-default-kernel && reboot   (Proxmox VE's kernels carry DRBD 8.4)";
    case 'el':
      return `dnf install -y https://www.elrepo.org/elrepo-release-${major}.el${major}.elrepo.noarch.rpm && dnf install -y kmod-drbd9x && modprobe drbd`;
    case 'fedora':
      return 'dnf install -y kernel-modules-extra && modprobe drbd';
    case 'suse':
      return 'zypper --non-interactive install drbd-kmp-default && modprobe drbd';
    case 'unknown':
      return `Boot a kernel that carries the DRBD module (drbd.ko) on this host (running ${facts.kernel ?? 'an unknown kernel'}), then: modprobe drbd`;
  }
}

export const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function drbdUtilsUpgradeFix(os: OsInfo): string {
  const pkg = packageFor(hostProgram('drbdadm')!, os.family);
  return (pkg && upgradeCommand(os.family, pkg)) ?? 'Upgrade drbd-utils to 9 or newer (LINBIT’s packages where the distribution has none)';
}

export function drbdFindings(facts: HostFacts, { add, ok }: Emit, lab?: HostCheckOptions['lab']): void {
  // DRBD
  const d = facts.drbd;
  if (d.kernelVersion === null)
    add({
      id: 'drbd-module',
      level: 'fail',
      blocks: 'mirror',
      what: `No DRBD kernel module for kernel ${facts.kernel ?? '(unknown)'}`,
      why: lab
        ? 'Neither /proc/drbd nor `modinfo drbd` found it. A namespace lab host runs on this machine’s kernel, which has no DRBD module; the kernel lab boots hosts with their own kernel that carries it.'
        : 'Neither /proc/drbd nor `modinfo drbd` found it. DRBD is a kernel module: the host needs a kernel that carries drbd.ko (Debian’s and Proxmox VE’s do).',
      fix: drbdModuleFix(facts, lab),
    });
  else
    ok(
      'drbd-module',
      `DRBD ${d.kernelVersion} kernel module${d.moduleLoaded ? ' loaded' : ' available'}`,
      d.moduleLoaded ? '' : 'Setup loads it (modprobe drbd) before drbdadm picks its 8.4/9 tools.',
    );
  if (d.utilsVersion === null)
    add({
      id: 'drbd-utils',
      level: 'fail',
      blocks: 'mirror',
      what: 'drbd-utils (drbdadm) is not installed',
      why: 'Setup configures DRBD with drbdadm.',
      fix: installFix(['drbdadm'], facts.os),
    });
  else if (d.apiMajor === 9 && Number(d.utilsVersion.split('.')[0]) < 9)
    add({
      id: 'drbd-utils',
      level: 'fail',
      blocks: 'mirror',
      what: `drbd-utils ${d.utilsVersion} cannot drive the DRBD ${d.kernelVersion} module`,
      why: 'DRBD 9 needs drbd-utils ≥ 9 (which also drive 8.4). Where the distribution has no drbd-utils 9, LINBIT’s packages do.',
      fix: drbdUtilsUpgradeFix(facts.os),
    });
  else ok('drbd-utils', `drbd-utils ${d.utilsVersion}`);
}

export function hostnameFinding(facts: HostFacts, { add, ok }: Emit): void {
  // hostname: DRBD's `on` sections are matched against uname -n
  if (facts.hostname === null)
    add({
      id: 'hostname',
      level: 'warn',
      what: 'Could not read the hostname (uname -n)',
      why: 'DRBD matches its `on` sections against it.',
      fix: 'Run the preflight again',
    });
  else if (!HOSTNAME_RE.test(facts.hostname))
    add({
      id: 'hostname',
      level: 'fail',
      blocks: 'all',
      what: `Hostname ${shown(facts.hostname)} is not a plain host name`,
      why: 'DRBD matches its `on` sections against uname -n; use letters, digits, - and . only.',
      fix: facts.initSystem === 'systemd' ? 'hostnamectl set-hostname lockstep-a' : 'hostname lockstep-a && echo lockstep-a > /etc/hostname',
    });
  else ok('hostname', `Hostname ${facts.hostname}`, 'The DRBD `on` name.');
}

export function diskFinding(facts: HostFacts, opts: HostCheckOptions, { add, ok }: Emit): void {
  // DRBD backing disk
  const disks = candidateDisks(facts, opts.guestDiskBytes);
  if (disks.length > 0)
    ok(
      'disks',
      `Disks free for DRBD: ${disks.map((x) => `${x.path} (${size(x.sizeBytes)})`).join(', ')}`,
      'Not mounted, no holders, no filesystem or partition table, writable.',
    );
  else
    add({
      id: 'disks',
      level: 'warn',
      what: 'No free disk for DRBD',
      why: `DRBD needs a block device nothing uses: not mounted, no partitions/LVM/md on it, no filesystem or partition table, not read-only, not the root disk${opts.guestDiskBytes ? `, at least ${size(opts.guestDiskBytes)}` : ''}.`,
      fix: `Attach an empty disk${opts.guestDiskBytes ? ` of at least ${size(opts.guestDiskBytes)}` : ''} (no partitions, not mounted) and run the preflight again`,
    });
}
