/**
 * Pure: the one status shape for a two-node DRBD resource, whatever it was read from
 * (/proc/drbd on 8.4, `drbdsetup events2` on 9, `drbdadm status`, `drbdadm cstate/dstate/role`),
 * and the classification of DRBD's own state names into it.
 */
import { LockstepError } from '../contract/errors.js';

export type DrbdFlavour = '8.4' | '9';

export const ROLES = ['Primary', 'Secondary', 'Unknown'] as const;
export type DrbdRole = (typeof ROLES)[number];

/** `Detaching` exists on DRBD 9 only. */
export const DISK_STATES = [
  'Diskless',
  'Attaching',
  'Detaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
] as const;
export type DiskState = (typeof DISK_STATES)[number];

/** Fields every configured state carries. */
export interface MirrorCommon {
  /** Resource name; null when the source does not name it (/proc/drbd, cstate/dstate/role). */
  resource: string | null;
  /** DRBD minor; null when the source does not report it (drbdadm status). */
  minor: number | null;
  role: DrbdRole;
  /** `Unknown` whenever the peer is not connected. */
  peerRole: DrbdRole;
  disk: DiskState;
  /** `DUnknown` whenever the peer is not connected. */
  peerDisk: DiskState;
  /**
   * The state name exactly as DRBD printed it: the 8.4 `cs:` (`WFConnection`, `SyncSource`, …);
   * on DRBD 9 the connection state, or the replication state once the connection is `Connected`.
   */
  cstate: string;
  /** KiB this node knows to differ from the peer; null when the source does not report it. */
  outOfSyncKiB: number | null;
}

export interface SyncProgress {
  /** `source`: this node sends (it has the good data); `target`: this node is being overwritten. */
  direction: 'source' | 'target';
  /** Paused by DRBD (`PausedSyncS/T`, resync-after dependency, peer or user). */
  paused: boolean;
  /** 0–100; null when the source does not say. */
  percent: number | null;
  rateKiBps: number | null;
  etaSeconds: number | null;
  /** KiB still to go / total KiB of this resync, when the source says. */
  remainingKiB: number | null;
  totalKiB: number | null;
}

export type MirrorStatus =
  /** Not up on this host (no minor, or `cs:Unconfigured`). */
  | { state: 'unconfigured'; resource: string | null; minor: number | null }
  /** Network configured, waiting for (or handshaking with) the peer: `WFConnection`, `Connecting`, `WFBitMapS`, … */
  | ({ state: 'connecting' } & MirrorCommon)
  /** Connected, resync running (or about to start). */
  | ({ state: 'syncing' } & MirrorCommon & SyncProgress)
  /** Connected, online verify (`drbdadm verify`) running. */
  | ({ state: 'verifying' } & MirrorCommon & Omit<SyncProgress, 'paused'>)
  /** Connected and replicating (`Connected` / `Established`, also `Ahead`/`Behind`). */
  | ({ state: 'connected' } & MirrorCommon)
  /** The connection is being torn down or was just lost (`NetworkFailure`, `Timeout`, …); DRBD retries by itself. */
  | ({ state: 'disconnected' } & MirrorCommon)
  /** No network configuration (`StandAlone`): DRBD will not reconnect by itself. */
  | ({ state: 'standalone' } & MirrorCommon)
  /** `StandAlone` because DRBD detected split brain: needs a human to pick the victim. */
  | ({ state: 'split-brain' } & MirrorCommon);

export type MirrorState = MirrorStatus['state'];

/** What a parser saw, before classification. Everything optional except what identifies the link. */
export interface Observed {
  resource: string | null;
  minor: number | null;
  role: DrbdRole;
  peerRole: DrbdRole;
  disk: DiskState;
  peerDisk: DiskState;
  /** 8.4 `cs:`, or DRBD 9 `connection:`. */
  connection: string;
  /** DRBD 9 `replication:` (absent on 8.4 where `cs:` carries it). */
  replication: string | null;
  outOfSyncKiB: number | null;
  percent: number | null;
  rateKiBps: number | null;
  etaSeconds: number | null;
  remainingKiB: number | null;
  totalKiB: number | null;
  resyncSuspended: boolean;
  /** Evidence of split brain from a log or helper call. */
  splitBrain: boolean;
}

const CONNECTING = new Set(['Unconnected', 'WFConnection', 'Connecting', 'WFReportParams', 'Off']);
const HANDSHAKE = new Set(['StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT', 'WFSyncUUID']);
const DISCONNECTED = new Set(['Disconnecting', 'Timeout', 'BrokenPipe', 'NetworkFailure', 'ProtocolError', 'TearDown']);
const CONNECTED = new Set(['Connected', 'Established', 'Ahead', 'Behind']);
const SYNCING = new Set(['SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT']);
const VERIFYING = new Set(['VerifyS', 'VerifyT']);

export function toRole(s: string | undefined): DrbdRole {
  if (s === undefined || s === '') return 'Unknown';
  if ((ROLES as readonly string[]).includes(s)) return s as DrbdRole;
  throw unknownState('role', s);
}

export function toDiskState(s: string | undefined): DiskState {
  if (s === undefined || s === '') return 'DUnknown';
  if ((DISK_STATES as readonly string[]).includes(s)) return s as DiskState;
  throw unknownState('disk state', s);
}

function unknownState(what: string, s: string): LockstepError {
  return new LockstepError({
    code: 'drbd-unknown-state',
    message: `DRBD reported a ${what} Lockstep Lab does not know: ${JSON.stringify(s.slice(0, 40))}.`,
    fix: 'Check `drbdadm --version` on the host (DRBD 8.4 and 9 are supported) and update Lockstep Lab.',
  });
}

/** Pure: DRBD's state names → the status union. Throws on a state name it does not know. */
export function classify(o: Observed): MirrorStatus {
  const linkState = o.connection === 'Connected' && o.replication !== null ? o.replication : o.connection;
  const common: MirrorCommon = {
    resource: o.resource,
    minor: o.minor,
    role: o.role,
    peerRole: o.peerRole,
    disk: o.disk,
    peerDisk: o.peerDisk,
    cstate: linkState,
    outOfSyncKiB: o.outOfSyncKiB,
  };
  const progress = {
    percent: o.percent,
    rateKiBps: o.rateKiBps,
    etaSeconds: o.etaSeconds,
    remainingKiB: o.remainingKiB,
    totalKiB: o.totalKiB,
  };
  if (linkState === 'StandAlone') return { state: o.splitBrain ? 'split-brain' : 'standalone', ...common };
  if (CONNECTING.has(linkState)) return { state: 'connecting', ...common };
  if (DISCONNECTED.has(linkState)) return { state: 'disconnected', ...common };
  if (CONNECTED.has(linkState)) return { state: 'connected', ...common };
  if (SYNCING.has(linkState) || HANDSHAKE.has(linkState)) {
    const direction = linkState.endsWith('S') || linkState === 'SyncSource' ? 'source' : 'target';
    const paused = linkState.startsWith('Paused') || o.resyncSuspended;
    // the handshake states come right before a resync: nothing copied yet
    const percent = o.percent ?? (HANDSHAKE.has(linkState) ? 0 : null);
    return { state: 'syncing', ...common, direction, paused, ...progress, percent };
  }
  if (VERIFYING.has(linkState)) return { state: 'verifying', ...common, direction: linkState === 'VerifyS' ? 'source' : 'target', ...progress };
  throw unknownState('connection state', linkState);
}

/** True for the states in which both disks are known equal and replication is running. */
export function isInSync(s: MirrorStatus): boolean {
  return s.state === 'connected' && s.disk === 'UpToDate' && s.peerDisk === 'UpToDate';
}
