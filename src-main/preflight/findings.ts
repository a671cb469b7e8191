/**
 * Pure: HostFacts → findings a person can act on, and the verdict for a pair of hosts.
 * No I/O. Every `fix` is the exact command to run as root on the host the finding names (or,
 * where no command exists, the exact action). Values from the host reach a command only through
 * quoteArg, so a hostile NIC or host name stays data.
 */
import { decideAccel } from '../hosts/accel.js';
import { quoteArg } from '../hosts/shell-quote.js';
import type { DiskFacts, HostFacts, NicFacts, Version } from './facts.js';

export type FindingLevel = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable rule id, e.g. `qemu`, `drbd-module`, `firewall`, `hostnames-differ`. */
  id: string;
  level: FindingLevel;
  /** One line: what is so. */
  what: string;
  /** Why it matters (and what was seen). */
  why: string;
  /** The exact command (as root, on `host`) or action that fixes it; '' when nothing is to be done. */
  fix: string;
  /** Which host (its label); absent for findings about the pair. */
  host?: string;
  /** For `fail`: 'lockstep' = only COLO is impossible, 'mirror' = only the DRBD mirror is impossible, 'all' = no protection. */
  blocks?: 'lockstep' | 'mirror' | 'all';
}

export type Tier = 'lockstep' | 'mirror' | 'none';

export interface Verdict {
  tier: Tier;
  why: string;
}

export interface PortUse {
  port: number;
  what: string;
}

/** TCP ports the peer reaches over the crossover (the lab's defaults; pass the real ones). */
export const DEFAULT_PORTS: readonly PortUse[] = [
  { port: 7789, what: 'DRBD' },
  { port: 9998, what: 'migration' },
  { port: 9999, what: 'NBD' },
  { port: 9003, what: 'COLO mirror' },
  { port: 9004, what: 'COLO compare' },
];

/** Per-QEMU memory beyond guest RAM (TCG's translation cache included: RSS measured 370–580 MiB for a 128 MiB guest). */
export const DEFAULT_OVERHEAD_BYTES = 512 * 1024 * 1024;

/** QEMU releases that cannot start COLO (fixed upstream in 10.0.7: "migration: Fix transition to COLO state from precopy"). */
export const COLO_BROKEN_QEMU = { from: { major: 10, minor: 0, patch: 0 }, to: { major: 10, minor: 0, patch: 6 } } as const;

export interface HostCheckOptions {
  /** Guest RAM: with it, the memory check runs (COLO's secondary needs about twice this). */
  guestRamBytes?: number;
  /** Per-QEMU overhead beyond guest RAM; default DEFAULT_OVERHEAD_BYTES. */
  overheadBytes?: number;
  /** Guest disk size: smaller disks are not offered for DRBD. */
  guestDiskBytes?: number;
  /** Ports to allow through a firewall; default DEFAULT_PORTS. */
  ports?: readonly PortUse[];
  /** Label used in `host` and texts; default the hostname. */
  label?: string;
}

export interface PairCheckOptions {
  guestRamBytes: number;
  overheadBytes?: number;
  guestDiskBytes?: number;
  ports?: readonly PortUse[];
  /** Clock of b minus clock of a in seconds, measured by the caller (round-trip corrected); omitted: no clock check. */
  clockOffsetSeconds?: number | null;
  /** Labels of the two hosts; default their hostnames (or `host A` / `host B` when missing or equal). */
  labels?: readonly [string, string];
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
export const size = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / MiB)} MiB`);
export const vstr = (v: Version) => `${v.major}.${v.minor}.${v.patch}`;
export const cmp = (a: Version, b: Version) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;
/** Quote a host-provided value for a fix command; control characters (which quoteArg refuses) become '?'. */
// eslint-disable-next-line no-control-regex
export const q = (s: string) => quoteArg(s.replace(/[\x00-\x1f\x7f]/g, '?'));
export const shown = (s: string) => JSON.stringify(s);

export const INSTALL_QEMU = 'apt-get install -y qemu-system-x86';
export const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function sudoersFix(user: string | null): string {
  const line = `${user ?? 'USER'} ALL=(ALL) NOPASSWD: ALL`;
  return `apt-get install -y sudo && echo ${q(line)} > /etc/sudoers.d/lockstep && chmod 0440 /etc/sudoers.d/lockstep`;
}

export function accelFix(facts: HostFacts): string {
  const flags = facts.cpuFlags;
  const vmx = flags.includes('vmx');
  const svm = flags.includes('svm');
  if (!facts.kvmDevice && (vmx || svm)) return vmx ? 'modprobe kvm_intel' : 'modprobe kvm_amd';
  if (flags.includes('hypervisor'))
    return 'Enable nested virtualization for this virtual machine on its hypervisor (so the CPU shows vmx/svm), or use a bare-metal host';
  return 'Enable Intel VT-x / AMD-V in the firmware (BIOS/UEFI) setup and reboot, then run: modprobe kvm_intel (Intel) or modprobe kvm_amd (AMD)';
}

export function isColoBroken(v: Version): boolean {
  return cmp(v, COLO_BROKEN_QEMU.from) >= 0 && cmp(v, COLO_BROKEN_QEMU.to) <= 0;
}

/** DRBD backing-disk candidates: a block device nothing uses and nothing is written on. */
export function candidateDisks(facts: HostFacts, minBytes = 1): DiskFacts[] {
  return facts.disks.filter(
    (d) =>
      (['disk', 'part', 'lvm', 'loop', 'crypt'].includes(d.type) || d.type.startsWith('raid')) &&
      !/^(zram|ram|drbd|nbd|sr|fd)\d/.test(d.kname) &&
      !(d.onRootDisk && (d.type === 'disk' || d.type === 'part')) &&
      !d.mounted &&
      d.holders.length === 0 &&
      d.partitions.length === 0 &&
      d.fstype === null &&
      d.pttype === null &&
      !d.readOnly &&
      d.sizeBytes >= Math.max(1, minBytes),
  );
}

/** NICs that could carry the crossover cable: link up, no address, not the default-route NIC, not in a bridge/bond. */
export function crossoverCandidates(facts: HostFacts): NicFacts[] {
  return facts.nics.filter(
    (n) => (n.kind === 'physical' || n.kind === 'veth') && n.name !== facts.defaultRouteDev && n.master === null && n.addresses.length === 0 && n.carrier,
  );
}

export function hostFindings(facts: HostFacts, opts: HostCheckOptions = {}): Finding[] {
  const host = opts.label ?? facts.hostname ?? 'host';
  const out: Finding[] = [];
  const add = (f: Omit<Finding, 'host'>) => out.push({ ...f, host });
  const ok = (id: string, what: string, why = '') => add({ id, level: 'ok', what, why, fix: '' });

  if (!facts.complete)
    add({
      id: 'gather-complete',
      level: 'warn',
      what: 'The facts output was cut off',
      why: 'The gather script did not reach its end: facts after the cut are unknown and reported as missing below.',
      fix: 'Run the preflight again',
    });

  // access: setup runs modprobe, drbdadm, ip, nft and QEMU as root
  if (facts.isRoot) ok('access', 'Logged in as root');
  else if (facts.sudoOk) ok('access', `Passwordless sudo for ${facts.user ?? 'the SSH user'}`);
  else
    add({
      id: 'access',
      level: 'fail',
      blocks: 'all',
      what: `${facts.user ?? 'The SSH user'} is not root and has no passwordless sudo`,
      why: 'Setup runs modprobe, drbdadm, ip, nft and QEMU as root over a non-interactive SSH session, where sudo cannot ask for a password. Run the fix as root (su -).',
      fix: sudoersFix(facts.user),
    });

  if (facts.arch !== null && facts.arch !== 'x86_64')
    add({
      id: 'arch',
      level: 'fail',
      blocks: 'all',
      what: `Architecture ${facts.arch} is not x86_64`,
      why: 'Lockstep Lab runs x86_64 guests with qemu-system-x86_64 and needs an x86_64 host.',
      fix: 'Use an x86_64 host',
    });

  // accelerator
  const accel = decideAccel(facts);
  if (accel.accel === 'kvm') ok('accel', 'KVM: hardware virtualization', '/dev/kvm exists and the CPU shows vmx/svm.');
  else if (facts.kvmDevice)
    add({
      id: 'accel',
      level: 'warn',
      what: '/dev/kvm without vmx/svm: paravirtual KVM, QEMU uses TCG (emulated), demo speed',
      why: 'A paravirtual KVM (e.g. kvm-pvm) boots only specially built guest kernels; ordinary guests run emulated, many times slower.',
      fix: accelFix(facts),
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
      fix: accelFix(facts),
    });

  // QEMU
  const v = facts.qemu.version;
  if (v === null)
    add({
      id: 'qemu',
      level: 'fail',
      blocks: 'all',
      what: 'QEMU (qemu-system-x86_64) is not installed',
      why: 'Both protection modes run the guest with QEMU.',
      fix: INSTALL_QEMU,
    });
  else if (isColoBroken(v))
    add({
      id: 'qemu',
      level: 'fail',
      blocks: 'lockstep',
      what: `QEMU ${vstr(v)} cannot start COLO`,
      why: 'QEMU 10.0.0–10.0.6 never enter COLO (the primary reports "completed", the secondary "Can\'t receive COLO message"); fixed in 10.0.7. Upgrade to ≥ 10.0.7, or run Debian 12\'s QEMU 7.2 on both hosts. A DRBD mirror still works.',
      fix: 'apt-get update && apt-get install -y --only-upgrade qemu-system-x86',
    });
  else if (v.major === 7 && v.minor === 2 && accel.accel === 'tcg')
    add({
      id: 'qemu',
      level: 'warn',
      what: `QEMU ${vstr(v)} under TCG needs the lab's TCG workarounds (native/qemu-tcg)`,
      why: 'QEMU 7.2 deadlocks at early COLO checkpoints and loses dirty pages under TCG; the lab applies its two workarounds on TCG hosts only. With KVM neither is needed.',
      fix: accelFix(facts),
    });
  else if ((v.major === 7 && v.minor === 2) || cmp(v, { major: 10, minor: 0, patch: 7 }) >= 0) ok('qemu', `QEMU ${vstr(v)}`);
  else
    add({
      id: 'qemu',
      level: 'warn',
      what: `QEMU ${vstr(v)} has not been measured with Lockstep Lab`,
      why: "COLO was measured with Debian 12's QEMU 7.2 and QEMU ≥ 10.0.7.",
      fix: 'apt-get update && apt-get install -y --only-upgrade qemu-system-x86',
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
        fix: INSTALL_QEMU,
      });
  }

  // DRBD
  const d = facts.drbd;
  if (d.kernelVersion === null)
    add({
      id: 'drbd-module',
      level: 'fail',
      blocks: 'mirror',
      what: `No DRBD kernel module for kernel ${facts.kernel ?? '(unknown)'}`,
      why: "Neither /proc/drbd nor `modinfo drbd` found it. Debian's kernels ship DRBD 8.4.11 (drbd.ko); boot one.",
      fix: 'apt-get install -y linux-image-amd64 && reboot',
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
      fix: 'apt-get install -y drbd-utils',
    });
  else if (d.apiMajor === 9 && Number(d.utilsVersion.split('.')[0]) < 9)
    add({
      id: 'drbd-utils',
      level: 'fail',
      blocks: 'mirror',
      what: `drbd-utils ${d.utilsVersion} cannot drive the DRBD ${d.kernelVersion} module`,
      why: 'DRBD 9 needs drbd-utils ≥ 9 (which also drive 8.4).',
      fix: 'apt-get install -y drbd-utils',
    });
  else ok('drbd-utils', `drbd-utils ${d.utilsVersion}`);

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

  // memory
  if (opts.guestRamBytes !== undefined) {
    const overhead = opts.overheadBytes ?? DEFAULT_OVERHEAD_BYTES;
    const needMirror = opts.guestRamBytes + overhead;
    const needColo = 2 * opts.guestRamBytes + overhead;
    const m = facts.memory;
    if (m === null)
      add({
        id: 'memory',
        level: 'warn',
        what: 'Could not read /proc/meminfo',
        why: `The secondary needs about ${size(needColo)} free.`,
        fix: 'Run the preflight again',
      });
    else if (m.availableBytes < needMirror)
      add({
        id: 'memory',
        level: 'fail',
        blocks: 'all',
        what: `${size(m.availableBytes)} available: the guest (${size(opts.guestRamBytes)}) cannot run here`,
        why: `Needs guest RAM + ${size(overhead)} QEMU overhead = ${size(needMirror)} (total ${size(m.totalBytes)}).`,
        fix: `Free memory on this host or give the guest less RAM (needs ${size(needMirror)} available)`,
      });
    else if (m.availableBytes < needColo)
      add({
        id: 'memory',
        level: 'fail',
        blocks: 'lockstep',
        what: `${size(m.availableBytes)} available: too little for a COLO secondary`,
        why: `The COLO secondary keeps a RAM cache copy: about 2 × guest RAM + ${size(overhead)} = ${size(needColo)}. Either host becomes the secondary after a failover.`,
        fix: `Free memory on this host or give the guest less RAM (needs ${size(needColo)} available)`,
      });
    else ok('memory', `${size(m.availableBytes)} available`, `Enough for a COLO secondary (${size(needColo)}).`);
  }

  // crossover NIC
  const free = crossoverCandidates(facts);
  if (free.length > 0)
    ok('crossover-nic', `Free NIC with link for the crossover: ${free.map((n) => `${n.name}${n.speedMbps ? ` (${n.speedMbps} Mb/s)` : ''}`).join(', ')}`);
  else {
    const others = facts.nics.filter((n) => (n.kind === 'physical' || n.kind === 'veth') && n.name !== facts.defaultRouteDev && n.master === null);
    const down = others.filter((n) => !n.adminUp && n.addresses.length === 0);
    const addressed = others.filter((n) => n.carrier && n.addresses.length > 0);
    const seen = [
      ...down.map((n) => `${n.name} is down (its link is unknown until it is up)`),
      ...addressed.map((n) => `${n.name} has link but already carries ${n.addresses.join(', ')}`),
    ];
    add({
      id: 'crossover-nic',
      level: 'warn',
      what: 'No free NIC with link for the crossover cable',
      why: `DRBD and COLO replicate over a dedicated link (a direct cable) besides the default-route NIC${facts.defaultRouteDev ? ` ${facts.defaultRouteDev}` : ''}: a NIC with link, no address, in no bridge.${seen.length ? ` Seen: ${seen.join('; ')}.` : ''}`,
      fix:
        down.length > 0
          ? down.map((n) => `ip link set dev ${q(n.name)} up`).join(' && ')
          : 'Connect a cable between a free NIC on each host (no address, not in a bridge)',
    });
  }

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

  // firewall
  const ports = [...(opts.ports ?? DEFAULT_PORTS)].sort((x, y) => x.port - y.port);
  const portsText = ports.map((p) => `${p.what} ${p.port}`).join(', ');
  const fw = facts.firewall;
  if (ports.length === 0) ok('firewall', 'No replication ports to check');
  else if (fw.kind === 'nftables' && fw.nftInputChain) {
    const c = fw.nftInputChain;
    add({
      id: 'firewall',
      level: 'warn',
      what: `nftables filters input (chain ${c.family} ${c.table} ${c.chain}): allow the replication ports`,
      why: `The peer connects over TCP to ${portsText}. The command inserts an accept rule at the top of the chain now; add it to /etc/nftables.conf to keep it after a reboot.`,
      fix: `nft insert rule ${q(c.family)} ${q(c.table)} ${q(c.chain)} tcp dport ${q(`{ ${ports.map((p) => p.port).join(', ')} }`)} accept`,
    });
  } else if (fw.kind === 'iptables')
    add({
      id: 'firewall',
      level: 'warn',
      what: 'iptables filters input: allow the replication ports',
      why: `The peer connects over TCP to ${portsText}. The command inserts an accept rule now; save it (netfilter-persistent save) to keep it after a reboot.`,
      fix: `iptables -I INPUT -p tcp -m multiport --dports ${ports.map((p) => p.port).join(',')} -j ACCEPT`,
    });
  else if (fw.kind === 'unknown')
    add({
      id: 'firewall',
      level: 'warn',
      what: 'Could not read the firewall rules',
      why: `Listing nftables/iptables rules needs root. The peer connects over TCP to ${portsText}.`,
      fix: sudoersFix(facts.user),
    });
  else ok('firewall', 'No firewall rules filter input');

  // init system
  if (facts.initSystem === 'systemd') ok('init', 'systemd: the host agent installs as a unit');
  else
    add({
      id: 'init',
      level: 'warn',
      what: `No systemd (PID 1: ${facts.pid1 ?? 'unknown'}): the host agent runs without a unit`,
      why: 'Without a unit nothing restarts the agent after a crash or a reboot; failover decisions live in the agent.',
      fix: "Start the agent from this host's boot scripts after setup (e.g. /etc/rc.local)",
    });

  if (facts.hasIperf3) ok('iperf3', 'iperf3 present: the crossover bandwidth is measured');
  else
    add({
      id: 'iperf3',
      level: 'warn',
      what: 'iperf3 is not installed',
      why: 'The crossover bandwidth cannot be measured (DRBD resync rate is sized from it).',
      fix: 'apt-get install -y iperf3',
    });

  return out;
}
