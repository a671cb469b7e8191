/** What the mirror remembers (store.kv 'mirror') and the small shared pieces of the mirror service and its setup steps. */

import { z } from 'zod';
import type { HostDTO, Level } from '../contract/index.js';
import type { Side } from '../hosts/command.js';
import type { HostPair } from '../hosts/pair-exec.js';
import { bySide, sideSchema } from '../hosts/record-schemas.js';
import type { ResyncFigures } from './kernel-log.js';
import type { DrbdFlavour, MirrorStatus } from './status.js';

export const MIRROR_KEY = 'mirror';
export const RESOURCE = 'r0';
export const MINOR = 0;
export const PORT = 7789;
export const KiB = 1024;
export const MiB = 1024 * 1024;
/** Without a measured link, size the resync rate for gigabit Ethernet. */
export const DEFAULT_LINK_MIBPS = 110;

/** What store.kv('mirror') holds: the resource, which disks it owns, and the figures of its syncs. */
export interface MirrorStored {
  version: 1;
  resource: string;
  minor: number;
  device: string;
  port: number;
  /** host identities (address:port) */
  hosts: Record<Side, string>;
  names: Record<Side, string>;
  /** `uname -n` of each host: the `on` sections */
  unames: Partial<Record<Side, string>>;
  /** replication addresses on the link */
  addresses: Record<Side, string>;
  disks: Record<Side, string>;
  /** the user confirmed overwriting these (`--wipe HOST:/dev/X`) */
  wiped: Side[];
  /** DRBD metadata on these disks was written by this app (so a rerun does not refuse its own disk) */
  initialized: Side[];
  flavour: DrbdFlavour | null;
  linkMiBps: number;
  resyncRateKiB: number;
  complete: boolean;
  primary: Side | null;
  sizeKiB?: number;
  initialSync?: { mode: 'full' | 'blank'; kib: number; seconds: number; mibPerSec: number | null; at: number };
  lastResync?: ResyncFigures & { seconds: number; at: number };
  /** resyncs begun per host (kernel log) when this app last brought the resource up: a higher count = a new resync */
  resyncMark?: Record<Side, number>;
  lastVerify?: { outOfSyncKiB: number; seconds: number; at: number };
  /** Pacemaker runs the resource (the Mirror tier): DRBD's resource-level fencing is in its file */
  clusterFencing?: boolean;
  /** the lockstep pair holds the guest's disk on this device */
  underPair?: {
    /** disconnected on purpose while the pair runs in lockstep (writes reach the secondary through QEMU) */
    split: boolean;
    /** the demo guest's blank counter disk was laid on the device */
    seeded: boolean;
  };
}

export interface MirrorSetupParams {
  a: string;
  b: string;
  addresses: Record<Side, string>;
  linkMiBps: number;
  diskA?: string;
  diskB?: string;
  wipe: string[];
  blank: boolean;
}

/** One host's view of the resource. null status = host unreachable. */
export interface View {
  side: Side;
  status: MirrorStatus | null;
  log: string;
}

export type Configured = Exclude<MirrorStatus, { state: 'unconfigured' }>;

export const configured = (s: MirrorStatus | null): s is Configured => s !== null && s.state !== 'unconfigured';

export const fmtMiB = (kibps: number) => `${(kibps / 1024).toFixed(1)} MiB/s`;

/**
 * What the mirror's steps may read and write: their records, the pair of hosts, an observation of
 * one side, the event log. Steps get this, not the service (MirrorService implements it).
 */
export interface MirrorContext {
  stored(): MirrorStored | undefined;
  save(rec: MirrorStored): void;
  patch(f: (r: MirrorStored) => void): MirrorStored;
  requireMirror(): MirrorStored;
  observe(pair: HostPair, rec: MirrorStored, side: Side, o?: { log?: boolean; assumeReachable?: boolean; reachableWithinMs?: number }): Promise<View>;
  pair(p: { a: string; b: string } | { hosts: Record<Side, string> }): HostPair;
  /** a host of the virtual lab (namespace hosts share this machine's kernel: DRBD only on the kernel lab) */
  isLabHost(h: Pick<HostDTO, 'address' | 'port'>): Promise<boolean>;
  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void;
}

// ── the record as the store must hold it (validated on every read: store/record-repo.ts) ──

const num = z.number();
const resyncFigures = {
  as: z.string(),
  resyncKiB: num,
  bitsSet: num,
  sourceBitmapKiB: num.nullable(),
  targetBitmapKiB: num.nullable(),
  alMarkedKiB: num,
  beganAt: num.nullable(),
  doneAt: num.nullable(),
  doneSeconds: num.nullable(),
  doneKiBps: num.nullable(),
};

export const mirrorStoredSchema: z.ZodType<MirrorStored> = z.object({
  version: z.literal(1),
  resource: z.string().min(1),
  minor: z.number().int(),
  device: z.string(),
  port: z.number().int(),
  hosts: bySide(z.string().min(1)),
  names: bySide(z.string()),
  unames: z.object({ A: z.string().optional(), B: z.string().optional() }),
  addresses: bySide(z.string()),
  disks: bySide(z.string()),
  wiped: z.array(sideSchema),
  initialized: z.array(sideSchema),
  flavour: z.enum(['8.4', '9']).nullable(),
  linkMiBps: num,
  resyncRateKiB: num,
  complete: z.boolean(),
  primary: sideSchema.nullable(),
  sizeKiB: num.optional(),
  initialSync: z.object({ mode: z.enum(['full', 'blank']), kib: num, seconds: num, mibPerSec: num.nullable(), at: num }).optional(),
  lastResync: z.object({ ...resyncFigures, seconds: num, at: num }).optional(),
  resyncMark: bySide(num).optional(),
  lastVerify: z.object({ outOfSyncKiB: num, seconds: num, at: num }).optional(),
  underPair: z.object({ split: z.boolean(), seeded: z.boolean() }).optional(),
});
