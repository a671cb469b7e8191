/**
 * Pure: the drbd.conf text of one two-node resource, for DRBD 8.4 (in-kernel, driven by
 * drbd-utils 9.x) or DRBD 9. Every input is validated here; nothing reaches the file unchecked.
 *
 * Tuning follows docs/field-notes/drbd.md: protocol C, crc32c online verify and resync checksums,
 * fast peer-loss detection (ping-int, and timeout × ko-count for a peer lost mid-resync), deep buffers, and a fixed resync rate sized from the measured link
 * (8.4's default controller was ~10× slower). `after-sb-*` stay at `disconnect`: split brain is
 * never resolved automatically, a person picks the victim.
 */
import { LockstepError } from '../contract/errors.js';
import type { DrbdFlavour } from './status.js';

export interface MirrorHostSpec {
  /** Must equal `uname -n` on that host (drbdadm matches the `on` section by it). */
  name: string;
  /** Replication address (IPv4) on the crossover link. */
  address: string;
  /** Backing block device, e.g. `/dev/vdb` or `/dev/disk/by-id/…`. */
  disk: string;
  /** Overrides `ResourceSpec.port` for this host. */
  port?: number;
}

export interface ResourceSpec {
  /** `[A-Za-z0-9_-]`, not starting with `-`, not `all`. */
  name: string;
  /** DRBD minor; the device is `/dev/drbd<minor>`. */
  minor: number;
  hosts: readonly [MirrorHostSpec, MirrorHostSpec];
  /** TCP port on both hosts unless a host overrides it. Default 7789. */
  port?: number;
  /** Measured replication-link throughput in MiB/s (e.g. iperf3), sizes the resync rate. */
  linkMiBps: number;
  /** Seconds between keep-alives: how fast a lost peer is noticed. Default 3 (DRBD's is 10). */
  pingIntSeconds?: number;
  /**
   * Pacemaker runs this resource (the Mirror tier): DRBD's resource-level fencing. A Primary that
   * loses its peer asks Pacemaker (crm-fence-peer) to forbid promoting the peer's copy before it
   * writes on; the rule is lifted (crm-unfence-peer) once the peer has resynced.
   */
  clusterFencing?: boolean;
}

export const DEFAULT_PORT = 7789;
export const DEFAULT_PING_INT = 3;
/** DRBD's limits for resync-rate, in KiB/s (drbd_limits.h: 1 .. 4<<20). */
export const RESYNC_RATE_MAX_KIB = 4 << 20;
/** Our floor: below 1 MiB/s a resync of even a small disk takes hours. */
export const RESYNC_RATE_MIN_KIB = 1024;
/** Share of the measured link the resync may take; the rest stays for application writes. */
export const RESYNC_LINK_SHARE = 0.9;

const MAX_MINOR = (1 << 20) - 1;
const RESERVED_NAMES = new Set(['all']);

function bad(code: string, message: string, fix: string): LockstepError {
  return new LockstepError({ code, message, fix, step: 'mirror-config' });
}

/** Resource names end up in argv (`drbdadm up NAME`) and in file names (`/etc/drbd.d/NAME.res`). */
export function assertResourceName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/.test(name)) {
    throw bad(
      'bad-resource-name',
      `Not a usable DRBD resource name: ${JSON.stringify(String(name).slice(0, 70))}.`,
      'Use 1–63 characters from A–Z, a–z, 0–9, "_" and "-", not starting with "-" (e.g. r0).',
    );
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw bad('bad-resource-name', `"${name}" is reserved by drbdadm (it means every resource).`, 'Pick another name, e.g. r0.');
  }
  return name;
}

/** A host name as `uname -n` prints it. */
export function assertHostName(name: unknown): string {
  const ok = typeof name === 'string' && name.length <= 64 && name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
  if (!ok) {
    throw bad(
      'bad-host-name',
      `Not a usable host name for a DRBD "on" section: ${JSON.stringify(String(name).slice(0, 70))}.`,
      'Use the exact output of `uname -n` on that host (letters, digits, "-" and ".").',
    );
  }
  return name;
}

/** A block device path: `/dev/…`, no spaces, quotes, `..`, or characters drbd.conf treats specially. */
export function assertDevicePath(path: unknown): string {
  const ok =
    typeof path === 'string' &&
    path.length <= 255 &&
    /^\/dev\/[A-Za-z0-9._+:@,=-][A-Za-z0-9._+:@,=/-]*$/.test(path) &&
    !path.split('/').some((seg) => seg === '..' || seg === '.') &&
    !path.includes('//') &&
    !path.endsWith('/');
  if (!ok) {
    throw bad(
      'bad-device-path',
      `Not a usable block device path: ${JSON.stringify(String(path).slice(0, 70))}.`,
      'Give the backing disk as /dev/NAME or a /dev/disk/by-id/… link (no spaces, quotes or "..").',
    );
  }
  return path;
}

/** Dotted-quad IPv4 a peer can connect to (no leading zeros, not 0/8, loopback, multicast or broadcast). */
export function assertIPv4(address: unknown): string {
  const m = typeof address === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address) : null;
  const octets = m ? m.slice(1).map((o) => (o.length > 1 && o.startsWith('0') ? NaN : Number(o))) : [];
  const ok = m !== null && octets.every((o) => o >= 0 && o <= 255);
  const first = octets[0] ?? 0;
  if (!ok || first === 0 || first === 127 || first >= 224) {
    throw bad(
      'bad-address',
      `Not a usable replication address: ${JSON.stringify(String(address).slice(0, 70))}.`,
      'Give the IPv4 address of the host on the replication link, e.g. 10.99.0.1.',
    );
  }
  return address as string;
}

export function assertPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad('bad-port', `Not a usable TCP port: ${JSON.stringify(port)}.`, 'Use a port between 1 and 65535; DRBD usually takes 7788–7799.');
  }
  return port;
}

export function assertMinor(minor: unknown): number {
  if (typeof minor !== 'number' || !Number.isInteger(minor) || minor < 0 || minor > MAX_MINOR) {
    throw bad('bad-minor', `Not a usable DRBD minor: ${JSON.stringify(minor)}.`, `Use an unused minor between 0 and ${MAX_MINOR} (see /proc/drbd), e.g. 0.`);
  }
  return minor;
}

export interface ResyncRate {
  /** KiB/s, what drbdsetup stores. */
  kiBps: number;
  /** The drbd.conf value, with an explicit unit: e.g. `115200K`. */
  text: string;
}

/**
 * Pure: the resync rate for a link measured at `linkMiBps` MiB/s: 90 % of it, in KiB/s,
 * clamped to [1 MiB/s, DRBD's maximum of 4 GiB/s].
 */
export function resyncRateFor(linkMiBps: number): ResyncRate {
  if (typeof linkMiBps !== 'number' || !Number.isFinite(linkMiBps) || linkMiBps <= 0) {
    throw bad(
      'bad-link-speed',
      `Not a usable link throughput: ${JSON.stringify(linkMiBps)} MiB/s.`,
      'Measure the replication link first (e.g. iperf3 between the two replication addresses) and pass MiB/s > 0.',
    );
  }
  const kiBps = Math.min(RESYNC_RATE_MAX_KIB, Math.max(RESYNC_RATE_MIN_KIB, Math.floor(linkMiBps * 1024 * RESYNC_LINK_SHARE)));
  return { kiBps, text: `${kiBps}K` };
}

export interface ValidResourceSpec {
  name: string;
  minor: number;
  device: string;
  hosts: readonly [Required<MirrorHostSpec>, Required<MirrorHostSpec>];
  resyncRate: ResyncRate;
  pingIntSeconds: number;
  clusterFencing: boolean;
}

/** Pure: checks every field, fills defaults. Throws LockstepError (with `fix`) on the first bad input. */
export function validateResourceSpec(spec: ResourceSpec): ValidResourceSpec {
  if (typeof spec !== 'object' || spec === null) throw bad('bad-request', 'No resource description given.', 'Pass name, minor, hosts and linkMiBps.');
  const name = assertResourceName(spec.name);
  const minor = assertMinor(spec.minor);
  const port = assertPort(spec.port ?? DEFAULT_PORT);
  if (!Array.isArray(spec.hosts) || spec.hosts.length !== 2) {
    throw bad('bad-hosts', 'A mirror needs exactly two hosts.', 'Pass hosts: [hostA, hostB], each with name, address and disk.');
  }
  const hosts = spec.hosts.map((h: MirrorHostSpec) => ({
    name: assertHostName(h?.name),
    address: assertIPv4(h?.address),
    disk: assertDevicePath(h?.disk),
    port: assertPort(h?.port ?? port),
  })) as unknown as readonly [Required<MirrorHostSpec>, Required<MirrorHostSpec>];
  if (hosts[0].name === hosts[1].name) {
    throw bad('bad-hosts', `Both hosts are called "${hosts[0].name}".`, 'Give each host its own `uname -n`; two hosts cannot share a name.');
  }
  if (hosts[0].address === hosts[1].address) {
    throw bad('bad-hosts', `Both hosts use the address ${hosts[0].address}.`, 'Give each host its own address on the replication link.');
  }
  const pingIntSeconds = spec.pingIntSeconds ?? DEFAULT_PING_INT;
  if (!Number.isInteger(pingIntSeconds) || pingIntSeconds < 1 || pingIntSeconds > 120) {
    throw bad(
      'bad-ping-int',
      `Not a usable ping-int: ${JSON.stringify(pingIntSeconds)}.`,
      'Use whole seconds from 1 to 120 (3 notices a lost peer in about 3 s).',
    );
  }
  return {
    name,
    minor,
    device: `/dev/drbd${minor}`,
    hosts,
    resyncRate: resyncRateFor(spec.linkMiBps),
    pingIntSeconds,
    clusterFencing: spec.clusterFencing === true,
  };
}

/**
 * Pure: the text of /etc/drbd.d/NAME.res. `flavour` is what the KERNEL runs (the first line of
 * /proc/drbd after `modprobe drbd`): '8.4' omits node-id (drbdadm would otherwise pick DRBD 9
 * syntax and v09 metadata), '9' adds node-ids and turns auto-promote off so roles change only
 * when Lockstep Lab says so, as on 8.4.
 */
export function renderResource(spec: ResourceSpec, flavour: DrbdFlavour): string {
  if (flavour !== '8.4' && flavour !== '9')
    throw bad('bad-flavour', `Unknown DRBD flavour ${JSON.stringify(flavour)}.`, "Pass '8.4' or '9' (from /proc/drbd).");
  const s = validateResourceSpec(spec);
  const lines = [
    `# Lockstep Lab: DRBD ${flavour} resource ${s.name}. Generated; edits are overwritten.`,
    `resource ${s.name} {`,
    `  device ${s.device} minor ${s.minor};`,
    `  meta-disk internal;`,
  ];
  if (flavour === '9') lines.push(`  options {`, `    auto-promote no;`, `  }`);
  if (s.clusterFencing) {
    const v9 = flavour === '9';
    lines.push(
      `  handlers {`,
      `    fence-peer "/usr/lib/drbd/crm-fence-peer${v9 ? '.9' : ''}.sh";`,
      `    ${v9 ? 'unfence-peer' : 'after-resync-target'} "/usr/lib/drbd/crm-unfence-peer${v9 ? '.9' : ''}.sh";`,
      `  }`,
    );
  }
  lines.push(
    `  disk {`,
    ...(s.clusterFencing && flavour === '8.4' ? [`    fencing resource-only;`] : []),
    `    c-plan-ahead 0;`,
    `    resync-rate ${s.resyncRate.text};`,
    `  }`,
    `  net {`,
    ...(s.clusterFencing && flavour === '9' ? [`    fencing resource-only;`] : []),
    `    protocol C;`,
    `    verify-alg crc32c;`,
    // a resync skips blocks whose checksums already match (re-protect of a pair that was apart)
    `    csums-alg crc32c;`,
    `    ping-int ${s.pingIntSeconds};`,
    // a peer that vanishes mid-resync (its host lost) must not hold the survivor's writes for long:
    // an unacknowledged request gives up after timeout (deciseconds, below ping-int) × ko-count
    `    timeout ${Math.min(20, s.pingIntSeconds * 10 - 5)};`,
    `    ko-count 2;`,
    `    max-buffers 8000;`,
    `    max-epoch-size 8000;`,
    `    sndbuf-size 0;`,
    `    rcvbuf-size 0;`,
    `    after-sb-0pri disconnect;`,
    `    after-sb-1pri disconnect;`,
    `    after-sb-2pri disconnect;`,
    `    rr-conflict disconnect;`,
    `  }`,
  );
  s.hosts.forEach((h, i) => {
    lines.push(`  on ${h.name} {`);
    if (flavour === '9') lines.push(`    node-id ${i};`);
    lines.push(`    disk "${h.disk}";`, `    address ${h.address}:${h.port};`, `  }`);
  });
  lines.push(`}`, ``);
  return lines.join('\n');
}
