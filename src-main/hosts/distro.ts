/**
 * Pure: which distribution a host runs (/etc/os-release, plus /etc/pve for Proxmox VE, whose
 * os-release is Debian's), and install/upgrade commands worded for THAT host's package manager.
 * No I/O. Package names are constants of the inventory; nothing from the host reaches a command.
 */
import { hostProgram, packageFor, type Family, type HostProgram } from './inventory.js';

export interface OsInfo {
  /** os-release ID, e.g. `debian`, `ubuntu`, `rocky`, `opensuse-leap`; null when unreadable. */
  id: string | null;
  idLike: string[];
  /** VERSION_ID, e.g. `12`, `24.04`, `9.4`, `15.6`. */
  versionId: string | null;
  prettyName: string | null;
  family: Family;
}

export const UNKNOWN_OS: OsInfo = { id: null, idLike: [], versionId: null, prettyName: null, family: 'unknown' };

const word = /^[a-z0-9._-]{1,40}$/;

/** Pure: os-release text (KEY=value lines, values optionally quoted) → OsInfo. */
export function parseOsRelease(text: string, proxmox = false): OsInfo {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1);
    kv.set(m[1]!, v);
  }
  const id = (kv.get('ID') ?? '').toLowerCase();
  const idLike = (kv.get('ID_LIKE') ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((x) => word.test(x));
  const info: OsInfo = {
    id: word.test(id) ? id : null,
    idLike,
    versionId: kv.get('VERSION_ID')?.slice(0, 20) ?? null,
    prettyName: kv.get('PRETTY_NAME')?.slice(0, 80) ?? null,
    family: 'unknown',
  };
  info.family = familyOf(info, proxmox);
  return info;
}

export function familyOf(o: Pick<OsInfo, 'id' | 'idLike'>, proxmox = false): Family {
  const all = [o.id ?? '', ...o.idLike];
  if (proxmox) return 'proxmox';
  if (o.id === 'ubuntu') return 'ubuntu';
  if (o.id === 'fedora') return 'fedora';
  if (all.some((x) => x === 'suse' || x.startsWith('opensuse') || x === 'sles' || x === 'sled')) return 'suse';
  if (all.some((x) => ['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'fedora'].includes(x))) return 'el';
  if (all.includes('ubuntu')) return 'ubuntu';
  if (all.includes('debian')) return 'debian';
  return 'unknown';
}

/** The package manager's install command for a family, or null when the family is unknown. */
export function installCommand(family: Family, packages: readonly string[]): string | null {
  const list = [...new Set(packages)].join(' ');
  switch (family) {
    case 'debian':
    case 'ubuntu':
    case 'proxmox':
      return `apt-get install -y ${list}`;
    case 'el':
    case 'fedora':
      return `dnf install -y ${list}`;
    case 'suse':
      return `zypper --non-interactive install ${list}`;
    case 'unknown':
      return null;
  }
}

/** Upgrade one installed package to the distribution's newest. */
export function upgradeCommand(family: Family, pkg: string): string | null {
  switch (family) {
    case 'debian':
    case 'ubuntu':
    case 'proxmox':
      return `apt-get update && apt-get install -y --only-upgrade ${pkg}`;
    case 'el':
    case 'fedora':
      return `dnf upgrade -y ${pkg}`;
    case 'suse':
      return `zypper --non-interactive update ${pkg}`;
    case 'unknown':
      return null;
  }
}

/** The fix for a DRBD kernel module a lab host lacks: the kernel lab (never a reboot or a kernel install: the host is this machine). */
export const LAB_DRBD_FIX = 'DRBD needs the kernel lab (its hosts boot a kernel that carries DRBD): lockstep lab down && lockstep lab up --kernel';

/** RHEL and its rebuilds ship DRBD through ELRepo only. */
const ELREPO = (os: OsInfo) =>
  `dnf install -y https://www.elrepo.org/elrepo-release-${(os.versionId ?? '9').split('.')[0]}.el${(os.versionId ?? '9').split('.')[0]}.elrepo.noarch.rpm`;

/**
 * The fix for programs missing (or lacking a capability) on a host of this distribution: one install
 * command where every program is packaged there, else the programs and what they are for.
 */
export function installFix(names: readonly string[], os: OsInfo): string {
  const progs = names.map((n) => hostProgram(n)).filter((p): p is HostProgram => p !== undefined);
  const pkgs = progs.map((p) => packageFor(p, os.family));
  const cmd = pkgs.every((p) => p !== null) ? installCommand(os.family, pkgs as string[]) : null;
  if (cmd !== null) {
    if (os.family === 'el' && progs.some((p) => p.pkg.el === 'drbd9x-utils')) return `${ELREPO(os)} && ${cmd}`;
    return cmd;
  }
  if (os.family === 'el' && progs.some((p) => p.name === 'qemu-system-x86_64'))
    return "dnf install -y qemu-kvm && ln -s /usr/libexec/qemu-kvm /usr/local/bin/qemu-system-x86_64   (RHEL's QEMU is built without COLO's replication driver: a DRBD mirror works, lockstep needs Fedora's or Debian's QEMU)";
  const what = progs.map((p) => `${p.name} (${p.needs ?? p.feature})`).join(', ');
  const where = os.prettyName ?? os.id;
  const known = progs.map((p) => p.pkg.deb).filter((x, i, a) => a.indexOf(x) === i);
  return `Install ${what} with ${where ? `${where}'s` : 'this host’s'} package manager (the package is ${known.join(', ')} on Debian/Ubuntu)`;
}

/** The same fix for a host whose distribution is not known here: one line per family. */
export function installFixAnyDistro(names: readonly string[]): string {
  const families: [string, Family][] = [
    ['Debian/Ubuntu/Proxmox', 'debian'],
    ['RHEL/Rocky/Alma', 'el'],
    ['Fedora', 'fedora'],
    ['SUSE', 'suse'],
  ];
  return families.map(([label, f]) => `${label}: ${installFix(names, { ...UNKNOWN_OS, id: f, family: f })}`).join('; ');
}
