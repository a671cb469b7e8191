/**
 * What the preflight knows about one host, parsed from the output of GATHER_SCRIPT.
 * Plain data: every string here came from the host and is never trusted as code.
 * Unknown (a section missing, a tool absent, output unreadable) is `null` / `false` / `[]`.
 */
import type { OsInfo } from '../distro.js';

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

/** The pieces QEMU COLO needs (`-object help`, block drivers, migration capabilities). */
export interface ColoPieces {
  coloCompare: boolean;
  filterMirror: boolean;
  filterRedirector: boolean;
  filterRewriter: boolean;
  iothread: boolean;
  /** The `replication` block driver (absent when QEMU was built without CONFIG_REPLICATION). */
  replication: boolean;
  /** The `x-colo` migration capability (asked over QMP; else inferred from the version ≥ 2.8). */
  xColo: boolean;
}

export interface QemuFacts {
  /** `qemu-system-x86_64 --version`; null when QEMU is not installed or did not answer. */
  version: Version | null;
  /** The version text as printed, e.g. `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`. */
  versionText: string | null;
  coloPieces: ColoPieces;
  /** `-accel help`, e.g. ['tcg', 'kvm']. */
  accelerators: string[];
}

export interface DrbdFacts {
  /** Loaded module (/proc/drbd), else the installable one (`modinfo -F version drbd`), e.g. `8.4.11`. */
  kernelVersion: string | null;
  /** `/proc/drbd` exists: the module is loaded. */
  moduleLoaded: boolean;
  /** drbd-utils (`drbdadm --version` → DRBDADM_VERSION), e.g. `9.22.0`. */
  utilsVersion: string | null;
  /** The kernel side's major: 8 (8.4) or 9. */
  apiMajor: 8 | 9 | null;
}

export interface MemoryFacts {
  totalBytes: number;
  availableBytes: number;
}

export type NicKind = 'physical' | 'loopback' | 'bridge' | 'veth' | 'bond' | 'vlan' | 'tun' | 'virtual';

export interface NicFacts {
  name: string;
  mac: string | null;
  /** Administratively up (flag UP). */
  adminUp: boolean;
  /** Link detected (flag LOWER_UP). A NIC that is administratively down shows no carrier. */
  carrier: boolean;
  operstate: string | null;
  speedMbps: number | null;
  mtu: number | null;
  /** Addresses as CIDR (`10.99.0.1/30`), IPv6 link-local (fe80::/10) left out. */
  addresses: string[];
  /** The bridge/bond it is enslaved to. */
  master: string | null;
  kind: NicKind;
  /** `ip -d` linkinfo.info_kind as printed (veth, bridge, tun, …), null for hardware. */
  linkKind: string | null;
}

export interface DiskFacts {
  /** lsblk NAME (for device-mapper devices the mapper name). */
  name: string;
  /** Kernel name (sda, dm-0), the one /sys/block uses. */
  kname: string;
  path: string;
  sizeBytes: number;
  /** lsblk TYPE: disk, part, lvm, crypt, raid1, loop, rom, … */
  type: string;
  mounted: boolean;
  /** Where mounted (`[SWAP]` for active swap). */
  mountpoints: string[];
  fstype: string | null;
  /** Partition table type (gpt, dos) when the device carries one. */
  pttype: string | null;
  /** Kernel names of devices stacked on this one (LVM, md, dm-crypt, …): /sys/block holders and lsblk children. */
  holders: string[];
  /** Kernel names of the devices below it in the lsblk tree (a partition's disk); [] for a top-level disk. */
  parents: string[];
  /** Partitions of this device. */
  partitions: string[];
  readOnly: boolean;
  /** On the disk that holds `/` (the disk itself, its partitions and anything stacked on them). */
  onRootDisk: boolean;
}

export interface NftChainRef {
  family: string;
  table: string;
  chain: string;
}

export interface FirewallFacts {
  /**
   * Which tool shows input filtering: 'nftables' (an nft input-hook chain with rules or a drop
   * policy, not an iptables-nft table), 'iptables' (`iptables -S` has INPUT rules or a DROP
   * policy), 'none' (listed, nothing filters input), 'unknown' (tools present, listing refused:
   * not root and no sudo).
   */
  kind: 'nftables' | 'iptables' | 'none' | 'unknown';
  /** The listing that shows the rules ('' when none). */
  rulesText: string;
  /** For kind 'nftables': the input chain to insert an accept rule into. */
  nftInputChain: NftChainRef | null;
}

/** What the capability probes showed: true = works, false = ran and failed (or missing), null = not probed. */
export interface ProbeFacts {
  /** `ip -j link show lo` printed JSON. */
  ipJson: boolean | null;
  /** `ping -M do -c 1 127.0.0.1` worked (iputils; busybox's ping has no -M). */
  pingDf: boolean | null;
  /** `ss -Hltn 'sport = :22'` took the filter. */
  ss: boolean | null;
  /** `timeout 5 true` (GNU form). */
  timeout: boolean | null;
  /** `setsid -f true` (util-linux). */
  setsid: boolean | null;
}

export interface HostFacts {
  /** The gather output ended with its `end` section (not cut off). */
  complete: boolean;
  /** `uname -n`: must equal the DRBD `on` name. */
  hostname: string | null;
  kernel: string | null;
  arch: string | null;
  cpuFlags: string[];
  kvmDevice: boolean;
  /** /dev/kvm readable and writable by the SSH user. */
  kvmAccess: boolean;
  qemu: QemuFacts;
  drbd: DrbdFacts;
  memory: MemoryFacts | null;
  nics: NicFacts[];
  /** The device of the IPv4 default route (else the IPv6 one). */
  defaultRouteDev: string | null;
  disks: DiskFacts[];
  initSystem: 'systemd' | 'other';
  /** PID 1's command name (`systemd`, `init`, …). */
  pid1: string | null;
  clockEpochSeconds: number | null;
  uid: number | null;
  user: string | null;
  isRoot: boolean;
  /** `sudo -n true` succeeded (false when root: not needed). */
  sudoOk: boolean;
  firewall: FirewallFacts;
  hasIperf3: boolean;
  /** The distribution (/etc/os-release; Proxmox VE by /etc/pve). */
  os: OsInfo;
  /** Each inventory program → its path on PATH, null when not found; null when the host was not asked (older gather). */
  programs: Record<string, string | null> | null;
  probes: ProbeFacts;
}
