/**
 * Pure: the ONE inventory of the programs Lockstep Lab runs on a host, what each is used for, the
 * capability the app relies on (beyond being installed), and the package that provides it on each
 * distribution family. Every host command goes through `hostCommandLine` (./host-command.ts), which
 * refuses a program that is not listed here; the preflight checks the list on each host and words
 * the fix for THAT host's distribution (./distro.ts).
 */

/** Where a host's packages come from: the families the fixes are written for. */
export type Family = 'debian' | 'ubuntu' | 'proxmox' | 'el' | 'fedora' | 'suse' | 'unknown';

/** What a program is needed for; a missing one blocks that much. */
export type Use = 'all' | 'link' | 'mirror' | 'lockstep' | 'agent' | 'optional';

/** Package names; `deb` is Debian's (also Ubuntu's and Proxmox VE's unless they differ); null = not packaged there. */
export interface Packages {
  deb: string;
  ubuntu?: string;
  proxmox?: string;
  el: string | null;
  fedora?: string;
  suse: string | null;
}

export interface HostProgram {
  /** The name it is run by (argv[0]). */
  name: string;
  /** What the app uses it for (a person reads this). */
  feature: string;
  /** The capability the app needs beyond presence, when the preflight probes one (e.g. JSON output). */
  needs?: string;
  use: Use;
  pkg: Packages;
  /** The preflight finding that already reports it (no second finding for the same program). */
  reportedBy?: string;
}

const util = (feature: string, use: Use = 'all'): Omit<HostProgram, 'name'> => ({
  feature,
  use,
  pkg: { deb: 'util-linux', el: 'util-linux', suse: 'util-linux' },
});
const core = (feature: string): Omit<HostProgram, 'name'> => ({ feature, use: 'all', pkg: { deb: 'coreutils', el: 'coreutils', suse: 'coreutils' } });
const procps = (feature: string, use: Use = 'all'): Omit<HostProgram, 'name'> => ({ feature, use, pkg: { deb: 'procps', el: 'procps-ng', suse: 'procps' } });
const drbdUtils = (feature: string): Omit<HostProgram, 'name'> => ({
  feature,
  use: 'mirror',
  pkg: { deb: 'drbd-utils', el: 'drbd9x-utils', fedora: 'drbd-utils', suse: 'drbd-utils' },
  reportedBy: 'drbd-utils',
});
const iproute = (feature: string, needs: string): Omit<HostProgram, 'name'> => ({
  feature,
  needs,
  use: 'all',
  pkg: { deb: 'iproute2', el: 'iproute', suse: 'iproute2' },
});

const pacemaker = (feature: string, pkg: Packages): Omit<HostProgram, 'name'> => ({ feature, use: 'optional', pkg });

const LIST: Record<string, Omit<HostProgram, 'name'>> = {
  // the shell and the basics every step uses
  sh: { feature: 'runs the fixed scripts of the preflight and the steps', use: 'all', pkg: { deb: 'dash', el: 'bash', suse: 'bash' } },
  env: { ...core('starts every command by name from PATH (never a shell applet)'), needs: '/usr/bin/env' },
  cat: core('reads files and /proc'),
  rm: core('removes the files the app wrote'),
  mv: core('replaces files atomically'),
  mkdir: core('makes the app’s directories'),
  chmod: core('sets file modes'),
  install: core('installs the host agent'),
  sync: core('flushes configuration files'),
  stat: core('reads disk sizes'),
  tail: core('reads the end of logs'),
  head: core('reads the start of outputs'),
  test: core('checks for files'),
  true: core('checks that sudo works without a password'),
  dd: core('writes files from stdin'),
  sha256sum: core('checks uploaded files'),
  df: core('checks free space'),
  id: core('tells root from a sudo user'),
  uname: core('reads the host name and kernel'),
  printenv: core('reads the SSH connection'),
  dirname: core('makes parent directories'),
  cut: core('reads process states'),
  date: core('reads the clock'),
  readlink: core('resolves device paths and namespaces'),
  sleep: core('paces the host agent’s supervisor'),
  timeout: { ...core('bounds every preflight command and the throughput server'), needs: 'GNU timeout (`timeout SECONDS PROGRAM`)' },
  grep: { feature: 'filters kernel logs and traces', use: 'all', pkg: { deb: 'grep', el: 'grep', suse: 'grep' } },
  sed: { feature: 'reads process states', use: 'all', pkg: { deb: 'sed', el: 'sed', suse: 'sed' } },
  hostname: { feature: 'reads the host name', use: 'all', pkg: { deb: 'hostname', el: 'hostname', suse: 'hostname' } },
  sudo: { feature: 'runs commands as root for a non-root SSH user', use: 'optional', pkg: { deb: 'sudo', el: 'sudo', suse: 'sudo' } },
  kill: procps('stops QEMU and the host agent'),
  ps: procps('reads the init system'),
  sysctl: procps('enables IPv6 on a NIC for the cable probe', 'link'),
  setsid: { ...util('starts QEMU and the host agent detached'), needs: '`setsid -f` (util-linux)' },
  dmesg: util('reads DRBD’s kernel log', 'mirror'),
  lsblk: { ...util('lists disks for the DRBD backing device', 'mirror'), pkg: { deb: 'util-linux', el: 'util-linux', suse: 'util-linux-systemd' } },
  blkid: { ...util('tells whether a disk carries data', 'mirror'), needs: 'probing signatures (`blkid -p`, util-linux)' },
  blockdev: util('reads the size of the DRBD disk', 'mirror'),
  findmnt: { ...util('tells whether the DRBD disk is mounted', 'mirror'), pkg: { deb: 'util-linux', el: 'util-linux', suse: 'util-linux-systemd' } },
  wipefs: util('clears old signatures from the DRBD disk', 'mirror'),
  modprobe: { feature: 'loads the DRBD and KVM modules', use: 'mirror', pkg: { deb: 'kmod', el: 'kmod', suse: 'kmod' } },
  modinfo: { feature: 'finds the DRBD module', use: 'mirror', pkg: { deb: 'kmod', el: 'kmod', suse: 'kmod' } },
  // network
  ip: iproute('reads and sets NICs, addresses and routes', 'JSON output (`ip -j`)'),
  ss: iproute('sees whether a server listens', 'socket filters (`ss -Hltn sport = :PORT`)'),
  ping: {
    feature: 'checks the cable, its round trip and its MTU',
    needs: 'don’t-fragment probes (`ping -M do`)',
    use: 'link',
    pkg: { deb: 'iputils-ping', el: 'iputils', suse: 'iputils' },
  },
  networkctl: {
    feature: 'keeps the link after a reboot (systemd-networkd)',
    use: 'optional',
    pkg: { deb: 'systemd', el: 'systemd-networkd', suse: 'systemd-network' },
  },
  nmcli: {
    feature: 'keeps the link after a reboot (NetworkManager)',
    use: 'optional',
    pkg: { deb: 'network-manager', el: 'NetworkManager', suse: 'NetworkManager' },
  },
  systemctl: { feature: 'runs the host agent as a unit; tells the network manager', use: 'optional', pkg: { deb: 'systemd', el: 'systemd', suse: 'systemd' } },
  nft: { feature: 'reads the firewall (preflight)', use: 'optional', pkg: { deb: 'nftables', el: 'nftables', suse: 'nftables' } },
  iptables: { feature: 'reads the firewall (preflight)', use: 'optional', pkg: { deb: 'iptables', el: 'iptables-nft', suse: 'iptables' } },
  socat: {
    feature: 'talks to QEMU’s monitor and serial sockets; measures the link',
    use: 'lockstep',
    pkg: { deb: 'socat', el: 'socat', suse: 'socat' },
  },
  iperf3: { feature: 'measures the link’s bandwidth', use: 'optional', pkg: { deb: 'iperf3', el: 'iperf3', suse: 'iperf' }, reportedBy: 'iperf3' },
  busybox: { feature: 'measures the link when neither iperf3 nor socat is there (nc)', use: 'optional', pkg: { deb: 'busybox', el: null, suse: 'busybox' } },
  // storage and the mirror
  drbdadm: drbdUtils('configures the DRBD mirror'),
  drbdsetup: drbdUtils('reads DRBD 9’s state'),
  drbdmeta: drbdUtils('writes DRBD metadata (run by drbdadm)'),
  // the Mirror tier's cluster (only where it is set up: `cluster setup` checks them itself)
  crm: pacemaker('loads the Mirror tier’s Pacemaker configuration', { deb: 'crmsh', el: null, suse: 'crmsh' }),
  crm_mon: pacemaker('reads the cluster’s state (nodes, quorum, resources, failed actions)', {
    deb: 'pacemaker-cli-utils',
    el: 'pacemaker-cli',
    suse: 'pacemaker-cli',
  }),
  'corosync-cfgtool': pacemaker('makes a running Corosync re-read its configuration', { deb: 'corosync', el: 'corosync', suse: 'corosync' }),
  'corosync-quorumtool': pacemaker('shows whether the witness (quorum device) votes', { deb: 'corosync', el: 'corosync', suse: 'corosync' }),
  // the guest
  'qemu-system-x86_64': {
    feature: 'runs the guest (both protection modes)',
    use: 'all',
    pkg: { deb: 'qemu-system-x86', proxmox: 'pve-qemu-kvm', el: null, fedora: 'qemu-system-x86-core', suse: 'qemu-x86' },
    reportedBy: 'qemu',
  },
  'qemu-img': {
    feature: 'makes the COLO secondary’s overlay disks; reads a VM’s disk image (format, size, backing chain)',
    use: 'lockstep',
    pkg: { deb: 'qemu-utils', proxmox: 'pve-qemu-kvm', el: 'qemu-img', suse: 'qemu-tools' },
  },
  // the same package as qemu-img on every family: its finding covers both
  'qemu-nbd': {
    feature: 'copies the guest’s disk host to host over the crossover on a pair without DRBD',
    use: 'lockstep',
    pkg: { deb: 'qemu-utils', proxmox: 'pve-qemu-kvm', el: 'qemu-img', suse: 'qemu-tools' },
    reportedBy: 'tool-qemu-img',
  },
  virsh: {
    feature: 'lists and reads the VMs libvirt has on a host (`virsh list`, `virsh dumpxml`), to protect one',
    use: 'optional',
    pkg: { deb: 'libvirt-clients', el: 'libvirt-client', fedora: 'libvirt-client', suse: 'libvirt-client' },
  },
};

/** Every program the app runs on a host, in a fixed order. */
export const HOST_PROGRAMS: readonly HostProgram[] = Object.entries(LIST).map(([name, p]) => ({ name, ...p }));

const BY_NAME = new Map(HOST_PROGRAMS.map((p) => [p.name, p]));

export function hostProgram(name: string): HostProgram | undefined {
  return BY_NAME.get(name);
}

/** Directories of the app's own files on a host (the agent, QEMU's run files): run by absolute path. */
export const OWN_DIRS = ['/var/lib/lockstep/', '/run/lockstep/'] as const;

/** Is this argv[0] one the app may run on a host: a listed program, or one of the app's own files? */
export function isListedProgram(program: string): boolean {
  if (program.includes('/')) return OWN_DIRS.some((d) => program.startsWith(d)) && !program.includes('..');
  return BY_NAME.has(program);
}

/** The package name for a family (null when the family does not package it). */
export function packageFor(p: HostProgram, family: Family): string | null {
  switch (family) {
    case 'debian':
      return p.pkg.deb;
    case 'ubuntu':
      return p.pkg.ubuntu ?? p.pkg.deb;
    case 'proxmox':
      return p.pkg.proxmox ?? p.pkg.deb;
    case 'el':
      return p.pkg.el;
    case 'fedora':
      return p.pkg.fedora ?? p.pkg.el;
    case 'suse':
      return p.pkg.suse;
    case 'unknown':
      return null;
  }
}
