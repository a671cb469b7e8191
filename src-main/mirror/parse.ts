/**
 * Pure: DRBD's status outputs → MirrorStatus.
 *  - /proc/drbd (8.4 only: DRBD 9 keeps just the version there)
 *  - `drbdsetup events2 --now --statistics` (DRBD 9; also accepts a stream with change/call lines)
 *  - `drbdadm status` (8.4 through drbd-utils 9.x, and 9: same layout)
 *  - `drbdadm cstate` / `dstate` / `role`
 * plus the version lines and split-brain evidence from the kernel log.
 */
import { LockstepError } from '../contract/errors.js';
import { classify, toDiskState, toRole, type DrbdFlavour, type MirrorStatus, type Observed } from './status.js';

const base = (resource: string | null = null, minor: number | null = null): Observed => ({
  resource,
  minor,
  role: 'Unknown',
  peerRole: 'Unknown',
  disk: 'DUnknown',
  peerDisk: 'DUnknown',
  connection: 'StandAlone',
  replication: null,
  outOfSyncKiB: null,
  percent: null,
  rateKiBps: null,
  etaSeconds: null,
  remainingKiB: null,
  totalKiB: null,
  resyncSuspended: false,
  splitBrain: false,
});

function unparsable(what: string, sample: string): LockstepError {
  return new LockstepError({
    code: 'drbd-unparsable',
    message: `Could not read ${what}.`,
    cause: sample.slice(0, 200),
    fix: 'Check `drbdadm --version` on the host (DRBD 8.4 and 9 are supported) and update Lockstep Lab.',
  });
}

/** `key:value` tokens of one line; `--diff` style `a->b` keeps the new value. */
function keyValues(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const tok of line.trim().split(/\s+/)) {
    const i = tok.indexOf(':');
    if (i <= 0) continue;
    const v = tok.slice(i + 1);
    const arrow = v.lastIndexOf('->');
    m.set(tok.slice(0, i), arrow >= 0 ? v.slice(arrow + 2) : v);
  }
  return m;
}

const num = (s: string | undefined): number | null => {
  if (s === undefined) return null;
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
};

// ---------------------------------------------------------------- versions

export interface ProcDrbdVersion {
  version: string;
  api: number;
  proto: string;
  flavour: DrbdFlavour;
}

/** DRBD version (8.4.11, 9.2.12) → flavour; refuses what Lockstep Lab does not drive. */
export function flavourOf(version: string): DrbdFlavour {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (m && m[1] === '8' && m[2] === '4') return '8.4';
  if (m && m[1] === '9') return '9';
  throw new LockstepError({
    code: 'drbd-unsupported-version',
    message: `DRBD ${version} is not supported.`,
    fix: 'Use a kernel with DRBD 8.4 (e.g. the Debian 12 kernel) or install DRBD 9.',
  });
}

/** First line of /proc/drbd: `version: 8.4.11 (api:1/proto:86-101)`. null when absent. */
export function parseProcDrbdVersion(text: string): ProcDrbdVersion | null {
  const m = /^version: (\S+) \(api:(\d+)\/proto:([\d-]+)\)/m.exec(text);
  if (!m) return null;
  return { version: m[1]!, api: Number(m[2]), proto: m[3]!, flavour: flavourOf(m[1]!) };
}

/** `drbdadm --version`: utils version, and the kernel module's (null when none is loaded). */
export function parseDrbdadmVersion(text: string): { utils: string | null; kernel: string | null } {
  const utils = /^DRBDADM_VERSION=(\S+)$/m.exec(text)?.[1] ?? null;
  const k = /^DRBD_KERNEL_VERSION=(\S+)$/m.exec(text)?.[1] ?? null;
  return { utils, kernel: k === null || k === '0' ? null : k };
}

// ---------------------------------------------------------------- /proc/drbd (8.4)

/** `H:MM:SS` (hours may exceed 24) → seconds. */
function hms(s: string | undefined): number | null {
  const m = s === undefined ? null : /^(\d+):(\d{2}):(\d{2})$/.exec(s);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

/**
 * Pure: /proc/drbd of DRBD 8.4 → the status of `minor` (default: the first device listed).
 * A minor that is not listed is `unconfigured`. Pass `splitBrain` from kernelLogShowsSplitBrain.
 */
export function parseProcDrbd(text: string, opts: { minor?: number; resource?: string; splitBrain?: boolean } = {}): MirrorStatus {
  const v = parseProcDrbdVersion(text);
  if (v?.flavour === '9') {
    throw new LockstepError({
      code: 'drbd9-no-proc-status',
      message: 'DRBD 9 does not report resource status in /proc/drbd.',
      fix: 'Read `drbdsetup events2 --now --statistics NAME` instead (parseEvents2).',
    });
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => {
    const m = /^\s*(\d+): cs:/.exec(l);
    return m !== null && (opts.minor === undefined || Number(m[1]) === opts.minor);
  });
  const resource = opts.resource ?? null;
  if (start < 0) return { state: 'unconfigured', resource, minor: opts.minor ?? null };
  const head = lines[start]!;
  const minor = Number(/^\s*(\d+):/.exec(head)![1]);
  const kv = keyValues(head);
  const cs = kv.get('cs')!;
  if (cs === 'Unconfigured') return { state: 'unconfigured', resource, minor };
  const [role, peerRole] = (kv.get('ro') ?? '').split('/');
  const [disk, peerDisk] = (kv.get('ds') ?? '').split('/');
  if (role === undefined || disk === undefined) throw unparsable('/proc/drbd', head);
  const o: Observed = { ...base(resource, minor), role: toRole(role), peerRole: toRole(peerRole), disk: toDiskState(disk), peerDisk: toDiskState(peerDisk) };
  o.connection = cs;
  o.splitBrain = opts.splitBrain === true;
  // flags after the protocol letter: r/s (suspended), a/p/u (resync paused: after, peer, user)
  const flags = /\s([rs][a-][p-][u-]\S*)\s*$/.exec(head)?.[1] ?? '';
  o.resyncSuspended = /[apu]/.test(flags.slice(1, 4));

  // the device's own lines follow, indented, until the next "N: cs:" line
  for (let i = start + 1; i < lines.length && !/^\s*\d+: cs:/.test(lines[i]!); i++) {
    const l = lines[i]!;
    const oos = /\boos:(\d+)/.exec(l);
    if (oos) o.outOfSyncKiB = Number(oos[1]);
    const prog = /(?:sync'ed|verified):\s*([\d.]+)%\s*\((\d+)\/(\d+)\)([KM])/.exec(l);
    if (prog) {
      const unit = prog[4] === 'M' ? 1024 : 1;
      o.percent = Number(prog[1]);
      o.remainingKiB = Number(prog[2]) * unit;
      o.totalKiB = Number(prog[3]) * unit;
    }
    const fin = /finish:\s*(\d+:\d{2}:\d{2})\s+speed:\s*([\d,]+)/.exec(l);
    if (fin) {
      o.etaSeconds = hms(fin[1]);
      o.rateKiBps = num(fin[2]);
    }
  }
  return classify(o);
}

// ---------------------------------------------------------------- events2 (DRBD 9)

interface Ev2Resource {
  res: Map<string, string>;
  conns: Map<string, Map<string, string>>;
  devices: Map<string, Map<string, string>>;
  peerDevices: Map<string, Map<string, string>>;
  splitBrain: boolean;
}

/**
 * Pure: `drbdsetup events2 --now --statistics [NAME]` → status of `resource` (default: the
 * first one listed; not listed = `unconfigured`). Also folds a live stream (create/change/
 * destroy lines, optional --timestamps) and notices `call helper … helper:split-brain`.
 * Two-node resources: the first connection and volume 0 (or the first volume) are reported.
 */
export function parseEvents2(text: string, opts: { resource?: string; splitBrain?: boolean } = {}): MirrorStatus {
  const resources = new Map<string, Ev2Resource>();
  const get = (name: string): Ev2Resource => {
    let r = resources.get(name);
    if (!r) resources.set(name, (r = { res: new Map(), conns: new Map(), devices: new Map(), peerDevices: new Map(), splitBrain: false }));
    return r;
  };
  for (const raw of text.split('\n')) {
    const tokens = raw.trim().split(/\s+/);
    if (/^\d{4}-\d\d-\d\dT/.test(tokens[0] ?? '')) tokens.shift(); // --timestamps
    const [action, object] = tokens;
    if (action === undefined || object === undefined || object === '-') continue;
    const kv = keyValues(tokens.slice(2).join(' '));
    const name = kv.get('name');
    if (name === undefined) continue;
    const r = get(name);
    const peerKey = kv.get('peer-node-id') ?? kv.get('conn-name') ?? '?';
    const volKey = `${peerKey}/${kv.get('volume') ?? '0'}`;
    const merge = (into: Map<string, Map<string, string>>, key: string) => {
      if (action === 'destroy') return void into.delete(key);
      const cur = into.get(key) ?? new Map<string, string>();
      for (const [k, v] of kv) cur.set(k, v);
      into.set(key, cur);
    };
    if (action === 'call' && object === 'helper' && kv.get('helper') === 'split-brain') r.splitBrain = true;
    if (!['exists', 'create', 'change', 'destroy'].includes(action)) continue;
    if (object === 'resource') {
      if (action === 'destroy') resources.delete(name);
      else for (const [k, v] of kv) r.res.set(k, v);
    } else if (object === 'connection') merge(r.conns, peerKey);
    else if (object === 'device') merge(r.devices, kv.get('volume') ?? '0');
    else if (object === 'peer-device') merge(r.peerDevices, volKey);
    else if (object === 'path') continue;
    if (object === 'connection' && kv.get('connection') === 'Connected') r.splitBrain = false;
  }
  const name = opts.resource ?? [...resources.keys()][0];
  const r = name === undefined ? undefined : resources.get(name);
  if (name === undefined || r === undefined || r.res.size === 0) return { state: 'unconfigured', resource: name ?? null, minor: null };

  const dev = r.devices.get('0') ?? [...r.devices.values()][0];
  const [peerKey, conn] = [...r.conns.entries()][0] ?? [];
  const pd =
    peerKey === undefined ? undefined : (r.peerDevices.get(`${peerKey}/0`) ?? [...r.peerDevices.entries()].find(([k]) => k.startsWith(`${peerKey}/`))?.[1]);
  const o: Observed = { ...base(name, num(dev?.get('minor'))) };
  o.role = toRole(r.res.get('role'));
  o.disk = toDiskState(dev?.get('disk') ?? 'Diskless');
  o.connection = conn?.get('connection') ?? 'StandAlone';
  o.peerRole = o.connection === 'Connected' ? toRole(conn?.get('role')) : 'Unknown';
  o.replication = pd?.get('replication') ?? null;
  o.peerDisk = toDiskState(pd?.get('peer-disk'));
  o.outOfSyncKiB = num(pd?.get('out-of-sync'));
  o.percent = num(pd?.get('done'));
  const dbdt1 = num(pd?.get('dbdt1')); // MiB/s over the last few seconds
  o.rateKiBps = dbdt1 === null ? null : Math.round(dbdt1 * 1024);
  const eta = num(pd?.get('eta')); // "nan" → null
  o.etaSeconds = eta === null ? null : Math.round(eta);
  o.resyncSuspended = (pd?.get('resync-suspended') ?? 'no') !== 'no';
  o.remainingKiB = o.replication !== null && /Sync|Verify/.test(o.replication) ? o.outOfSyncKiB : null;
  o.splitBrain = opts.splitBrain === true || r.splitBrain;
  return classify(o);
}

// ---------------------------------------------------------------- drbdadm status

interface StatusObject {
  kind: 'resource' | 'device' | 'connection' | 'peer-device';
  name: string | null;
  kv: Map<string, string>;
}

/**
 * Pure: `drbdadm status NAME` (optionally --statistics, also when wrapped at 80 columns) of
 * DRBD 8.4 (peer is called "peer") or 9 (peer called by its host name) → status. Empty output
 * (drbdadm said "No such resource") is `unconfigured`. out-of-sync, rate and eta are printed
 * only with --statistics (rate/eta on 9 only); without them those fields are null.
 */
export function parseDrbdadmStatus(text: string, opts: { resource?: string; splitBrain?: boolean } = {}): MirrorStatus {
  // strip colours, should someone force them
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const objects: StatusObject[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const first = line.trim().split(/\s+/)[0]!;
    const last = objects[objects.length - 1];
    let obj: StatusObject;
    if (indent === 0) obj = { kind: 'resource', name: first, kv: new Map() };
    else if (indent >= 6 && last)
      obj = last; // wrapped continuation of the previous object
    else if (indent === 2 && /^(disk|volume):/.test(first)) obj = { kind: 'device', name: null, kv: new Map() };
    else if (indent === 2) obj = { kind: 'connection', name: first.includes(':') ? null : first, kv: new Map() };
    else if (indent === 4) obj = { kind: 'peer-device', name: null, kv: new Map() };
    else throw unparsable('drbdadm status', line);
    if (obj !== last) objects.push(obj);
    for (const [k, v] of keyValues(line)) obj.kv.set(k, v);
  }
  // only the requested resource
  const startIdx = objects.findIndex((ob) => ob.kind === 'resource' && (opts.resource === undefined || ob.name === opts.resource));
  if (startIdx < 0) return { state: 'unconfigured', resource: opts.resource ?? null, minor: null };
  const endIdx = objects.findIndex((ob, i) => i > startIdx && ob.kind === 'resource');
  const mine = objects.slice(startIdx, endIdx < 0 ? undefined : endIdx);
  const res = mine[0]!;
  const dev = mine.find((ob) => ob.kind === 'device');
  const connIdx = mine.findIndex((ob) => ob.kind === 'connection');
  const conn = connIdx < 0 ? undefined : mine[connIdx];
  const pd = connIdx < 0 ? undefined : mine.slice(connIdx + 1).find((ob) => ob.kind === 'peer-device');

  const o: Observed = { ...base(res.name, num(dev?.kv.get('minor'))) };
  o.role = toRole(res.kv.get('role'));
  o.disk = toDiskState(dev?.kv.get('disk') ?? 'Diskless');
  if (conn === undefined) {
    o.connection = 'StandAlone'; // no connection configured at all
  } else {
    // `connection:` is printed only when not Connected; `role:` only when Connected
    o.connection = conn.kv.get('connection') ?? 'Connected';
    o.peerRole = o.connection === 'Connected' ? toRole(conn.kv.get('role')) : 'Unknown';
    // a Connected peer without a replication field is Established
    o.replication = o.connection === 'Connected' ? (pd?.kv.get('replication') ?? 'Established') : null;
    o.peerDisk = toDiskState(pd?.kv.get('peer-disk'));
    o.percent = num(pd?.kv.get('done'));
    o.outOfSyncKiB = num(pd?.kv.get('out-of-sync'));
    o.resyncSuspended = (pd?.kv.get('resync-suspended') ?? 'no') !== 'no';
    const eta = num(pd?.kv.get('eta'));
    o.etaSeconds = eta === null ? null : Math.round(eta);
    const dbdt1 = num(pd?.kv.get('dbdt1'));
    o.rateKiBps = dbdt1 === null ? null : Math.round(dbdt1 * 1024);
  }
  o.splitBrain = opts.splitBrain === true;
  return classify(o);
}

// ---------------------------------------------------------------- cstate / dstate / role

const UNCONFIGURED = 'Unconfigured';

/** `drbdadm cstate NAME` stdout → the state name; null = unconfigured (empty or `Unconfigured`). */
export function parseCstate(stdout: string): string | null {
  const s = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (s === '' || s === UNCONFIGURED) return null;
  if (!/^[A-Za-z]+$/.test(s)) throw unparsable('drbdadm cstate', s);
  return s;
}

/** `drbdadm dstate NAME` stdout (`UpToDate/Inconsistent`) → local/peer; null = unconfigured. */
export function parseDstate(stdout: string): { disk: ReturnType<typeof toDiskState>; peerDisk: ReturnType<typeof toDiskState> } | null {
  const s = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (s === '' || s === UNCONFIGURED) return null;
  const [disk, peerDisk] = s.split('/');
  return { disk: toDiskState(disk), peerDisk: toDiskState(peerDisk) };
}

/** `drbdadm role NAME` stdout: 8.4 `Primary/Secondary`, 9 `Primary` (peer then Unknown); null = unconfigured. */
export function parseRole(stdout: string): { role: ReturnType<typeof toRole>; peerRole: ReturnType<typeof toRole> } | null {
  const s = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (s === '' || s === UNCONFIGURED) return null;
  const [role, peerRole] = s.split('/');
  return { role: toRole(role), peerRole: toRole(peerRole) };
}

/** stderr of cstate/dstate/role/status (exit 10) that means "not up here" rather than a failure. */
export function isNotUpError(stderr: string): boolean {
  return /No such (resource|connection|device)|Unknown resource|Device minor not allocated/.test(stderr);
}

/**
 * Pure: the three one-word commands together → status (no progress figures: use /proc/drbd,
 * events2 or status for those). On DRBD 9, cstate stops at `Connected`: a connected pair with
 * exactly one Inconsistent side is reported as syncing, direction from which side it is.
 */
export function statusFromStateCommands(
  out: { cstate: string; dstate: string; role: string },
  opts: { resource?: string; flavour?: DrbdFlavour; splitBrain?: boolean } = {},
): MirrorStatus {
  const c = parseCstate(out.cstate);
  const d = parseDstate(out.dstate);
  const r = parseRole(out.role);
  const resource = opts.resource ?? null;
  if (c === null || d === null || r === null) return { state: 'unconfigured', resource, minor: null };
  const o: Observed = { ...base(resource), ...d, ...r, connection: c, splitBrain: opts.splitBrain === true };
  const nineish = opts.flavour === '9' || (opts.flavour === undefined && !out.role.includes('/'));
  if (c === 'Connected' && nineish) {
    if (d.peerDisk === 'Inconsistent' && d.disk === 'UpToDate') o.replication = 'SyncSource';
    else if (d.disk === 'Inconsistent' && d.peerDisk === 'UpToDate') o.replication = 'SyncTarget';
    else o.replication = 'Established';
  }
  return classify(o);
}

// ---------------------------------------------------------------- kernel log

/**
 * Pure: does the kernel log (dmesg / journalctl -k) show an UNRESOLVED split brain for this
 * resource? True when the last "Split-Brain detected but unresolved" for it is not followed by
 * a successful handshake (8.4 `conn( … -> Connected )` or a resync, 9 `repl( … -> Established )`
 * or a resync). `minor` is needed: 8.4 prints the split-brain line as `block drbdN: …`.
 */
export function kernelLogShowsSplitBrain(log: string, ref: { resource: string; minor: number }): boolean {
  const esc = ref.resource.replace(/[^A-Za-z0-9_-]/g, '');
  const minor = Math.trunc(ref.minor);
  const mine = new RegExp(`\\bdrbd ${esc}[: /]|\\bdrbd${minor}\\b|\\bminor-${minor}\\b`);
  let split = false;
  for (const line of log.split('\n')) {
    if (!mine.test(line)) continue;
    if (/Split-Brain detected but unresolved/.test(line)) split = true;
    // 8.4: the device's conn( … ) after a good handshake; 9: repl( … ). 9's connection-level
    // "conn( Connecting -> Connected )" comes BEFORE the handshake, so it does not count.
    else if (
      /\bconn\( (?!Connecting )\w+ -> (Connected|WFBitMap[ST]|WFSyncUUID|(Paused)?Sync(Source|Target|S|T)) \)/.test(line) ||
      /\brepl\( \w+ -> (Established|WFBitMap[ST]|WFSyncUUID|(Paused)?Sync(Source|Target|S|T)) \)/.test(line)
    )
      split = false;
  }
  return split;
}
